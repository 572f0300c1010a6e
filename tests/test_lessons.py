"""solutions/ is the source; lessons/ is generated, current, clean, and runs once filled in."""

from __future__ import annotations

import re
import subprocess
import sys

import nbformat
import pytest
from nbclient import NotebookClient

from lenet_helpers import lessons
from lenet_helpers.checks import EXERCISES

SOLUTIONS = lessons.notebook_paths(lessons.SOLUTIONS)
LESSONS = lessons.notebook_paths(lessons.LESSONS)


def read(path):
    return nbformat.read(path, as_version=4)


def test_the_course_map_is_complete():
    names = [path.stem for path in SOLUTIONS]
    assert names == [
        "00_setup_and_mnist", "01_convolution_c1", "02_subsampling_s2", "03_c3_connection_table",
        "04_s4_c5_f6_output", "05_gradients_by_hand", "06_build_and_train", "07_evaluate_and_visualize",
        "08_faithful_lenet5",
    ]
    assert [path.name for path in LESSONS] == [path.name for path in SOLUTIONS]


def test_lessons_are_current():
    result = subprocess.run([sys.executable, "-m", "lenet_helpers.lessons", "check"], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_check_detects_a_stale_lesson(tmp_path):
    lessons_dir = tmp_path / "lessons"
    lessons.build(lessons.SOLUTIONS, lessons_dir)
    assert lessons.stale_lessons(lessons.SOLUTIONS, lessons_dir) == []
    victim = lessons_dir / SOLUTIONS[1].name
    nb = read(victim)
    nb.cells[0].source += "\nedited by hand"
    victim.write_text(lessons.dumps(nb))
    (lessons_dir / "99_orphan.ipynb").write_text(lessons.dumps(nb))
    assert lessons.stale_lessons(lessons.SOLUTIONS, lessons_dir) == [SOLUTIONS[1].name, "99_orphan.ipynb"]


@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.stem)
def test_solution_structure(path):
    nb = read(path)
    first, last = nb.cells[0].source, "\n".join(cell.source for cell in nb.cells[-2:])
    assert first.startswith(f"# {path.stem[:2]} ") and "you will learn" in first
    assert any(cell.source.startswith("## Setup") for cell in nb.cells[:4])
    assert "## Summary" in last and "## Further exercises" in last
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    assert all(cell.execution_count is not None for cell in code), "run `make solutions`"
    assert not any(output.get("output_type") == "error" for cell in code for output in cell.outputs)
    checks = [cell.metadata["lenet"] for cell in code if "check" in cell.metadata.get("lenet", {})]
    assert len(checks) >= 2, "at least two exercises per notebook"
    assert all(entry["check"] in EXERCISES and entry["points"] > 0 for entry in checks)
    assert "execution" not in str([cell.metadata for cell in nb.cells]), "volatile metadata left in"
    views = [o for cell in code for o in cell.outputs if lessons.WIDGET_VIEW in o.get("data", {})]
    assert not views, "saved widget views (their model ids change every run) left in"


def test_at_least_twenty_exercises():
    count = sum(1 for path in SOLUTIONS for cell in read(path).cells if "check" in cell.metadata.get("lenet", {}))
    assert count >= 20


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.stem)
def test_lesson_is_clean(path):
    nbformat.validate(read(path))
    nb = read(path)
    text = "\n".join(cell.source for cell in nb.cells)
    for marker in ("BEGIN SOLUTION", "END SOLUTION", "HIDDEN TESTS"):
        assert marker not in text
    assert all(not cell.get("outputs") and cell.get("execution_count") is None
               for cell in nb.cells if cell.cell_type == "code")
    # every stub is followed by its self-check before the next exercise
    stub_cells = [i for i, cell in enumerate(nb.cells)
                  if cell.cell_type == "code" and "raise NotImplementedError()" in cell.source]
    assert stub_cells, "a lesson without exercises"
    for i in stub_cells:
        exercise = nb.cells[i].metadata["lenet"]["exercise"]
        following = next(cell for cell in nb.cells[i + 1:] if "check(" in cell.source)
        assert re.search(rf'check\("{exercise}", globals\(\)\)', following.source), (path.name, exercise)


def test_markers_must_pair_up():
    with pytest.raises(lessons.MarkerError, match="never closed"):
        lessons.student_source("x = 1\n### BEGIN SOLUTION\ny = 2\n")
    with pytest.raises(lessons.MarkerError, match="without its BEGIN"):
        lessons.student_source("### END SOLUTION\n")


def test_student_source_keeps_indentation():
    source = ("def f(x):\n    ### BEGIN SOLUTION\n    return x\n    ### END SOLUTION\n"
              "### BEGIN HIDDEN TESTS\nassert f(1)\n### END HIDDEN TESTS")
    assert lessons.student_source(source) == "def f(x):\n    # YOUR CODE HERE\n    raise NotImplementedError()"


def test_workspace_never_overwrites(tmp_path):
    workspace = tmp_path / "workspace"
    assert len(lessons.copy_to_workspace(workspace)) == len(LESSONS)
    mine = workspace / LESSONS[0].name
    mine.write_text("my work")
    (workspace / LESSONS[1].name).unlink()  # a lesson added by an update
    assert lessons.copy_to_workspace(workspace) == [LESSONS[1].name]
    assert mine.read_text() == "my work"


def _run(nb, folder):
    NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(folder)}}).execute()


@pytest.mark.parametrize("path", LESSONS[:1], ids=lambda p: p.stem)
def test_untouched_lesson_stops_at_the_first_exercise(path):
    from nbclient.exceptions import CellExecutionError

    nb = read(path)
    with pytest.raises(CellExecutionError) as failure:
        _run(nb, path.parent)
    assert "NotImplementedError" in str(failure.value)


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.stem)
def test_filled_lesson_runs_clean(path):
    """Put the solution blocks back into the student copy: every cell runs and every check passes."""
    filled = lessons.fill_stubs(read(path), read(lessons.SOLUTIONS / path.name))
    assert "raise NotImplementedError()" not in "\n".join(c.source for c in filled.cells if c.cell_type == "code")
    _run(filled, path.parent)
    outputs = "".join(output.get("text", "") for cell in filled.cells for output in cell.get("outputs", []))
    assert outputs.count("\u2705") == sum("check(" in cell.source for cell in filled.cells)
