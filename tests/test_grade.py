"""The grader, fed with submissions made from the course itself, good and bad."""

from __future__ import annotations

import csv
import hashlib
import json

import nbformat
import pytest

from lenet_helpers import grade, lessons

LESSON = "01_convolution_c1"
EXERCISES_01 = ["01-conv-output-size", "01-c1-size", "01-c1-counts", "01-numpy-conv"]


def lesson_nb(name=LESSON):
    return nbformat.read(lessons.LESSONS / f"{name}.ipynb", as_version=4)


def solution_nb(name=LESSON):
    return nbformat.read(lessons.SOLUTIONS / f"{name}.ipynb", as_version=4)


def solved(name=LESSON, only=None):
    """The lesson with the solution put back, for every exercise or only those in `only`."""
    nb, solution = lesson_nb(name), solution_nb(name)
    if only is not None:
        keep = {cell.get("id") for cell in solution.cells if cell.metadata.get("lenet", {}).get("exercise") in only}
        blank = nbformat.v4.new_markdown_cell("")
        solution.cells = [cell if cell.get("id") in keep else blank for cell in solution.cells]
    return lessons.fill_stubs(nb, solution)


def exercise_cell(nb, exercise):
    return next(cell for cell in nb.cells if cell.metadata.get("lenet", {}).get("exercise") == exercise)


def write(folder, student, nb_or_bytes, name=f"{LESSON}.ipynb"):
    path = folder / student / name
    path.parent.mkdir(parents=True, exist_ok=True)
    data = nb_or_bytes if isinstance(nb_or_bytes, bytes) else lessons.dumps(nb_or_bytes).encode()
    path.write_bytes(data)
    return path


def bad_submissions(folder):
    """One student per case; returns {student: path}."""
    paths = {}
    paths["full"] = write(folder, "full", solved())
    paths["untouched"] = write(folder, "untouched", lesson_nb())
    paths["partial"] = write(folder, "partial", solved(only={"01-conv-output-size", "01-c1-size"}))

    reordered = solved()
    code = [i for i, c in enumerate(reordered.cells) if "exercise" in c.metadata.get("lenet", {})]
    reordered.cells[code[0]], reordered.cells[code[-1]] = reordered.cells[code[-1]], reordered.cells[code[0]]
    paths["reordered"] = write(folder, "reordered", reordered)

    renamed = solved()
    for i, cell in enumerate(renamed.cells):
        cell["id"] = f"renamed-{i}"
    paths["renamed"] = write(folder, "renamed", renamed)

    deleted = solved()
    deleted.cells = [c for c in deleted.cells if c.metadata.get("lenet", {}).get("exercise") != "01-numpy-conv"]
    paths["deleted"] = write(folder, "deleted", deleted)

    crashing = solved()
    exercise_cell(crashing, "01-conv-output-size").source = "def conv_output_size(w, k, p=0, s=1):\n    return w / 0"
    paths["exception"] = write(folder, "exception", crashing)

    looping = solved()
    exercise_cell(looping, "01-c1-size").source = "while True:\n    pass"
    paths["loop"] = write(folder, "loop", looping)

    dying = solved()
    exercise_cell(dying, "01-c1-counts").source = "import os\nos._exit(1)"
    paths["dies"] = write(folder, "dies", dying)

    hungry = solved()
    exercise_cell(hungry, "01-c1-size").source = "hog = bytearray(2 ** 62)\nc1_size = 28"
    paths["memory"] = write(folder, "memory", hungry)

    flood = solved()
    cell = exercise_cell(flood, "01-c1-size")
    cell.source = "for i in range(300_000):\n    print('spam', i)\n" + cell.source
    paths["flood"] = write(folder, "flood", flood)

    sneaky = solved()
    exercise_cell(sneaky, "01-c1-counts").source = (
        "import lenet_helpers.checks as c\nc.EXERCISES.clear()\nc1_params = c1_connections = 0"
    )
    exercise_cell(sneaky, "01-c1-size").source = "open('../solutions/01_convolution_c1.ipynb', 'w').write('')"
    paths["tamper"] = write(folder, "tamper", sneaky)

    paths["invalid"] = write(folder, "invalid", b"{ this is not json")
    paths["notebook-less"] = write(folder, "notebook-less", json.dumps({"hello": "world"}).encode())
    (folder / "homework.ipynb").write_bytes(lessons.dumps(solved()).encode())
    paths["unmatched"] = folder / "homework.ipynb"
    paths["flat"] = folder / f"flat__{LESSON}.ipynb"
    paths["flat"].write_bytes(lessons.dumps(solved()).encode())
    return paths


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    folder = tmp_path_factory.mktemp("submissions")
    paths = bad_submissions(folder)
    before = {name: hashlib.sha256(path.read_bytes()).hexdigest() for name, path in paths.items()}
    rows = grade.grade_folder(folder, jobs=2, cell_timeout=30, notebook_timeout=240, progress=lambda *a: None)
    after = {name: hashlib.sha256(path.read_bytes()).hexdigest() for name, path in paths.items()}
    assert before == after, "submissions must never be modified"
    by_student = {}
    for row in rows:
        by_student.setdefault(row.student, []).append(row)
    return by_student


def statuses(rows):
    return {row.exercise: row.status for row in rows}


def test_full_marks(graded):
    for student in ("full", "reordered", "renamed", "flat", "flood"):
        rows = graded[student]
        assert [r.exercise for r in rows] == EXERCISES_01, student
        assert all(r.status == "passed" and r.points == r.max_points for r in rows), (student, rows)


def test_untouched_lesson_scores_zero(graded):
    rows = graded["untouched"]
    assert len(rows) == 4 and sum(r.points for r in rows) == 0
    assert all(r.status == "failed" and ("NotImplementedError" in r.message or "not defined yet" in r.message)
               for r in rows)


def test_partial_scores_exactly_its_solved_exercises(graded):
    earned = {r.exercise: r.points for r in graded["partial"]}
    maximum = {r.exercise: r.max_points for r in graded["partial"]}
    assert earned == {"01-conv-output-size": maximum["01-conv-output-size"], "01-c1-size": maximum["01-c1-size"],
                      "01-c1-counts": 0, "01-numpy-conv": 0}


def test_deleted_cell(graded):
    s = statuses(graded["deleted"])
    assert s["01-numpy-conv"] == "error" and s["01-c1-counts"] == "passed"


def test_exception_is_reported_with_the_student_message(graded):
    row = next(r for r in graded["exception"] if r.exercise == "01-conv-output-size")
    assert row.status == "failed" and "ZeroDivisionError" in row.message
    assert len(graded["exception"]) == 4  # grading went on past the exception


def test_infinite_loop_times_out_and_grading_goes_on(graded):
    rows = graded["loop"]
    assert len(rows) == 4 and all(r.points == 0 for r in rows[1:])
    assert statuses(rows)["01-c1-size"] == "error"
    assert any("timed out" in r.message or "longer than" in r.message for r in rows)


def test_dead_kernel(graded):
    rows = graded["dies"]
    assert statuses(rows)["01-conv-output-size"] == "passed"  # graded before the crash
    assert statuses(rows)["01-c1-counts"] == "error" and "died" in " ".join(r.message for r in rows)


def test_out_of_memory(graded):
    row = next(r for r in graded["memory"] if r.exercise == "01-c1-size")
    assert row.status in ("failed", "error") and row.points == 0


def test_tampering_is_refused(graded):
    s = statuses(graded["tamper"])
    assert s["01-c1-counts"] == "error" and s["01-c1-size"] == "error"
    assert all("refused" in r.message for r in graded["tamper"] if r.status == "error")
    assert lessons.stale_lessons() == []  # the solutions are intact


def test_unreadable_and_unmatched(graded):
    for student in ("invalid", "notebook-less"):
        rows = graded[student]
        assert len(rows) == 4 and all(r.status == "error" and "not a readable notebook" in r.message for r in rows)
    (row,) = graded["homework"]
    assert row.status == "error" and "which lesson" in row.message


def test_match_lesson():
    names = ["00_setup_and_mnist", "01_convolution_c1"]
    assert grade.match_lesson("01_convolution_c1", names) == "01_convolution_c1"
    assert grade.match_lesson("01_convolution_c1 (1)", names) == "01_convolution_c1"
    assert grade.match_lesson("homework", names) is None
    assert grade.match_lesson("011_x", names) is None


def test_gradebook_and_feedback_files(graded, tmp_path):
    rows = [row for student_rows in graded.values() for row in student_rows]
    out = tmp_path / "gradebook.csv"
    grade.write_gradebook(rows, out)
    with out.open() as stream:
        table = list(csv.DictReader(stream))
    assert list(table[0]) == grade.COLUMNS and len(table) == len(rows)
    files = grade.write_feedback(rows, tmp_path / "feedback")
    full = (tmp_path / "feedback" / "full.md").read_text()
    assert len(files) == len(graded) and "01_convolution_c1: 7 / 7 points" in full
    assert "full" in grade.summary_table(rows)


def test_gradebook_write_is_atomic(tmp_path, monkeypatch):
    out = tmp_path / "gradebook.csv"
    out.write_text("previous gradebook\n")
    row = grade.Row("ada", LESSON, "01-c1-size", 1, 1, "passed", "")

    class Interrupted(Exception):
        pass

    def explode(self, rows):
        raise Interrupted()

    monkeypatch.setattr(csv.DictWriter, "writerows", explode)
    with pytest.raises(Interrupted):
        grade.write_gradebook([row], out)
    assert out.read_text() == "previous gradebook\n"
    assert list(tmp_path.iterdir()) == [out], "no temporary file left behind"
