"""The nbgrader export, proved with the real nbgrader, offline, without JupyterHub.

`python -m lenet_helpers.lessons nbgrader COURSE` writes a course folder; in it,
`nbgrader generate_assignment` must accept every lesson and release no solution code and no
hidden tests. Three submissions of two lessons (the full solution, the untouched release, a
half-done one) are autograded by nbgrader and by our own grader: nbgrader's gradebook must hold
exactly the points each deserves, and our grader must give the same points per student.
"""

from __future__ import annotations

import copy
import csv
import os
import re
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
import pytest

from lenet_helpers import lessons, nbgrader_export

ROOT = Path(__file__).resolve().parent.parent
ALL_LESSONS = [path.stem for path in lessons.notebook_paths(lessons.SOLUTIONS)]
# Convolution C1, and the lesson that builds and trains the seed model (by name: lessons get renumbered).
GRADED = [next(stem for stem in ALL_LESSONS if stem.endswith(end)) for end in ("_convolution_c1", "_build_and_train")]
STUDENTS = ("full", "untouched", "half")
HALF_DONE = 2  # the half-done student solved the first two exercises of each lesson
TIMEOUT = 900


def read(path):
    return nbformat.read(path, as_version=4)


def solution(lesson):
    return read(lessons.SOLUTIONS / f"{lesson}.ipynb")


def env():
    """Fast mode for the kernels; the venv's bin/ first on PATH (nbgrader calls `alembic`)."""
    bin_dir = str(Path(sys.executable).parent)
    return {**os.environ, "LENET_FAST": "1", "PATH": bin_dir + os.pathsep + os.environ.get("PATH", "")}


def nbgrader(course: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=course, env=env(), capture_output=True,
                          text=True, timeout=TIMEOUT)


def start(command: list[str], cwd: Path, log: Path) -> subprocess.Popen:
    """Start a command in the background, its output going to `log` (no pipe to fill up)."""
    with log.open("w") as handle:
        return subprocess.Popen(command, cwd=cwd, env=env(), stdout=handle, stderr=subprocess.STDOUT)


def exercises(lesson):
    """(exercise id, points) in notebook order, from the solution's metadata."""
    nb = solution(lesson)
    points = {c.metadata["lenet"]["check"]: c.metadata["lenet"]["points"]
              for c in nb.cells if "check" in c.metadata.get("lenet", {})}
    order = [c.metadata["lenet"]["exercise"] for c in nb.cells if "exercise" in c.metadata.get("lenet", {})]
    return [(exercise, points[exercise]) for exercise in order]


def expected_points(lesson, student):
    listed = exercises(lesson)
    return {"full": sum(p for _, p in listed), "untouched": 0, "half": sum(p for _, p in listed[:HALF_DONE])}[student]


def submission(release_nb, lesson, student):
    """What each student hands in, made from the notebook nbgrader released."""
    if student == "untouched":
        return copy.deepcopy(release_nb)
    answers = solution(lesson)
    if student == "half":
        solved = {exercise for exercise, _ in exercises(lesson)[:HALF_DONE]}
        answers.cells = [c for c in answers.cells if c.metadata.get("lenet", {}).get("exercise") in solved]
    return lessons.fill_stubs(release_nb, answers)


# --- the export itself (no nbgrader run) ------------------------------------------------------


@pytest.mark.parametrize("lesson", ALL_LESSONS)
def test_export_metadata_is_nbgrader_schema_3(lesson):
    nb = nbgrader_export.to_nbgrader(solution(lesson), lesson)
    ids = [cell.metadata.nbgrader["grade_id"] for cell in nb.cells]
    assert len(ids) == len(set(ids)) and all(re.fullmatch(r"[a-zA-Z0-9_\-]*", i) for i in ids)
    for cell, original in zip(nb.cells, solution(lesson).cells):
        meta, lenet = cell.metadata.nbgrader, original.metadata.get("lenet", {})
        assert meta["schema_version"] == 3 and meta["grade_id"] == original.id
        if "exercise" in lenet:
            assert meta == {"schema_version": 3, "grade": False, "solution": True, "locked": False,
                            "grade_id": original.id}
        elif "check" in lenet:
            assert meta == {"schema_version": 3, "grade": True, "solution": False, "locked": True,
                            "grade_id": original.id, "points": lenet["points"]}
        else:
            assert meta == {"schema_version": 3, "grade": False, "solution": False, "locked": True,
                            "grade_id": original.id}
        assert cell.source == original.source  # solution and hidden-test blocks kept verbatim
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None
    assert not any("nbgrader" in cell.metadata for cell in solution(lesson).cells)  # solutions/ untouched


def test_export_refuses_markers_without_metadata():
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("### BEGIN SOLUTION\nx = 1\n### END SOLUTION")])
    with pytest.raises(nbgrader_export.ExportError, match="without `lenet.exercise`"):
        nbgrader_export.to_nbgrader(nb)
    nb.cells[0].metadata["lenet"] = {"check": "00-scale"}
    nb.cells[0].source = "check('00-scale', globals())"
    with pytest.raises(nbgrader_export.ExportError, match="no positive `lenet.points`"):
        nbgrader_export.to_nbgrader(nb)


def test_grade_ids_are_made_safe_and_unique():
    """nbformat 4.5 cell ids already fit nbgrader's pattern; older notebooks may lack them or reuse them."""
    nb = nbformat.from_dict({"cells": [{"id": "x.1"}, {"id": "x_1"}, {}, {"id": "cell-02"}]})
    assert nbgrader_export.grade_ids(nb) == ["x_1", "x_1_2", "cell-02", "cell-02_2"]


# --- the real nbgrader -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """An exported course, and `nbgrader generate_assignment LESSON --force` run for every lesson.

    To save time on two cores, the course is exported once and copied: each copy generates half
    of the lessons, side by side (two nbgrader processes never share one SQLite gradebook). Each
    graded lesson is generated in its own copy, where it is autograded later.
    Returns {lesson: (course folder, generate_assignment's result)}.
    """
    first = tmp_path_factory.mktemp("nbgrader") / "course_a"
    made = subprocess.run([sys.executable, "-m", "lenet_helpers.lessons", "nbgrader", str(first)],
                          cwd=ROOT, env=env(), capture_output=True, text=True, timeout=TIMEOUT)
    assert made.returncode == 0, made.stdout + made.stderr
    assert (first / "nbgrader_config.py").exists()
    assert sorted(p.name for p in (first / "source").iterdir()) == ALL_LESSONS
    second = shutil.copytree(first, first.with_name("course_b"))
    others = [lesson for lesson in ALL_LESSONS if lesson not in GRADED]
    groups = {first: [GRADED[0], *others[::2]], second: [GRADED[1], *others[1::2]]}

    def generate(folder):
        return {lesson: (folder, nbgrader(folder, "generate_assignment", lesson, "--force"))
                for lesson in groups[folder]}

    with ThreadPoolExecutor(max_workers=2) as pool:
        done = list(pool.map(generate, groups))
    return {lesson: found for results in done for lesson, found in results.items()}


@pytest.mark.parametrize("lesson", ALL_LESSONS)
def test_generate_assignment_releases_no_solutions_and_no_hidden_tests(course, lesson):
    folder, result = course[lesson]
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    released = read(folder / "release" / lesson / f"{lesson}.ipynb")
    text = "\n".join(cell.source for cell in released.cells)
    assert "BEGIN SOLUTION" not in text and "HIDDEN TESTS" not in text
    released_lines = {line.strip() for line in text.splitlines()}
    ours = nbformat.reads(lessons.expected_lessons()[f"{lesson}.ipynb"], as_version=4)  # what `make lessons` writes
    lesson_lines = {line.strip() for c in ours.cells for line in c.source.splitlines()}
    for cell in solution(lesson).cells:
        for kind, block in lessons.split_blocks(cell.source):
            if kind in ("solution", "hidden"):
                secret = {line.strip() for line in block[1:]} - lesson_lines - {""}
                assert not secret & released_lines, (cell.id, kind, secret & released_lines)
    # the released notebook is our own lesson, plus nbgrader's metadata
    assert [c.source.rstrip() for c in released.cells] == [c.source.rstrip() for c in ours.cells]
    assert all(not c.get("outputs") for c in released.cells if c.cell_type == "code")


@pytest.fixture(scope="module")
def graded(course, tmp_path_factory):
    """Three submissions per graded lesson, autograded by nbgrader and by our grader.

    The three runs go side by side: each lesson is autograded in its own course copy, and our
    grader works on the same notebooks meanwhile.
    """
    ours = tmp_path_factory.mktemp("ours") / "submissions"
    courses = {}
    for lesson in GRADED:
        folder, result = course[lesson]
        assert result.returncode == 0, result.stdout[-3000:]
        courses[lesson] = folder
        released = read(folder / "release" / lesson / f"{lesson}.ipynb")
        for student in STUDENTS:
            nb = submission(released, lesson, student)
            target = folder / "submitted" / student / lesson / f"{lesson}.ipynb"
            target.parent.mkdir(parents=True, exist_ok=True)
            nbformat.write(nb, target)
            (ours / student).mkdir(parents=True, exist_ok=True)
            nbformat.write(nb, ours / student / f"{lesson}.ipynb")
    gradebook = ours.parent / "gradebook.csv"
    grader_command = [sys.executable, "-m", "lenet_helpers.grade", str(ours), "--out", str(gradebook)]
    if not shutil.which("bwrap"):
        grader_command.append("--no-sandbox")
    grader = start(grader_command, ROOT, ours.parent / "grader.log")
    runs = {lesson: start([sys.executable, "-m", "nbgrader", "autograde", lesson, "--force"], courses[lesson],
                          courses[lesson] / "autograde.log") for lesson in GRADED}
    for process in [*runs.values(), grader]:
        process.wait(timeout=TIMEOUT)
    return {"courses": courses,
            "autograde": {lesson: (runs[lesson].returncode, (courses[lesson] / "autograde.log").read_text())
                          for lesson in GRADED},
            "grader": (grader.returncode, (ours.parent / "grader.log").read_text(), gradebook)}


def nbgrader_scores(course: Path, lesson: str) -> dict[str, tuple[float, float]]:
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        return {student: (gradebook.find_submission(lesson, student).score,
                          gradebook.find_submission(lesson, student).max_score) for student in STUDENTS}


@pytest.mark.parametrize("lesson", GRADED)
def test_nbgrader_autograde_gives_each_submission_its_points(graded, lesson):
    returncode, log = graded["autograde"][lesson]
    assert returncode == 0, log[-5000:]
    scores = nbgrader_scores(graded["courses"][lesson], lesson)
    full = expected_points(lesson, "full")
    assert 0 < expected_points(lesson, "half") < full
    assert scores == {student: (expected_points(lesson, student), full) for student in STUDENTS}, log[-3000:]


def test_our_grader_gives_the_same_points_as_nbgrader(graded):
    returncode, log, gradebook = graded["grader"]
    assert returncode == 0 and gradebook.exists(), log[-5000:]
    with gradebook.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert rows and list(rows[0]) == ["student", "lesson", "exercise", "points", "max_points", "status", "message"]
    ours: dict[tuple[str, str], float] = {}
    for row in rows:
        ours[(row["student"], row["lesson"])] = ours.get((row["student"], row["lesson"]), 0) + float(row["points"])
    theirs = {(student, lesson): score for lesson in GRADED
              for student, (score, _) in nbgrader_scores(graded["courses"][lesson], lesson).items()}
    details = "\n".join(",".join(row.values()) for row in rows)
    assert ours == theirs, f"ours {ours} != nbgrader {theirs}\n{details}\n{log[-3000:]}"
