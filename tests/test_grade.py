"""The grader, fed with submissions made from the course itself: good ones, broken ones and attacks.

Every submission below is graded in one run, in bubblewrap sandboxes, two at a time. Each must
earn exactly the points it deserves, leave nothing behind on this machine, and leave the
other rows of the run untouched.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import secrets
import socket
import threading
import time
from pathlib import Path

import nbformat
import pytest

from lenet_helpers import lessons
from lenet_helpers.grading import Row, Settings, grade_folder, report, sandbox
from lenet_helpers.grading.cli import main as grade_main

LESSON = "01_convolution_c1"
EXERCISES_01 = ["01-conv-output-size", "01-c1-size", "01-c1-counts", "01-numpy-conv"]
FULL = 7
CI = os.environ.get("CI", "").lower() in ("1", "true")


def have_sandbox() -> bool:
    try:
        sandbox.check_available()
        return True
    except sandbox.SandboxUnavailable:
        return False


needs_sandbox = pytest.mark.skipif(not have_sandbox() and not CI,
                                   reason="bubblewrap cannot run here (CI installs it and runs these tests)")


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


def with_cell(exercise, source, base=None):
    nb = base or solved()
    exercise_cell(nb, exercise).source = source
    return nb


def write(folder, student, nb_or_bytes, name=f"{LESSON}.ipynb"):
    path = folder / student / name
    path.parent.mkdir(parents=True, exist_ok=True)
    data = nb_or_bytes if isinstance(nb_or_bytes, bytes) else lessons.dumps(nb_or_bytes).encode()
    path.write_bytes(data)
    return path


WRONG_ANSWERS = {
    "01-conv-output-size": "def conv_output_size(width, kernel, padding=0, stride=1):\n    return 0",
    "01-c1-size": "c1_size = 0",
    "01-c1-counts": "c1_params = c1_connections = 0",
    "01-numpy-conv": "def convolve2d(image, kernel):\n    return image",
}


def wrong_with(first_cell_prefix: str):
    """Wrong answers everywhere, with `first_cell_prefix` run before the first one (an attack on the checks)."""
    nb = solved()
    for exercise, source in WRONG_ANSWERS.items():
        exercise_cell(nb, exercise).source = source
    cell = exercise_cell(nb, "01-conv-output-size")
    cell.source = first_cell_prefix + "\n" + cell.source
    return nb


class Listener:
    """A TCP server on 127.0.0.1 that counts the connections it accepts (none may come from a sandbox)."""

    def __init__(self):
        self.server = socket.create_server(("127.0.0.1", 0))
        self.server.settimeout(0.5)
        self.port = self.server.getsockname()[1]
        self.accepted = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        while not self.stop.is_set():
            try:
                connection, _ = self.server.accept()
                self.accepted += 1
                connection.close()
            except OSError:
                pass

    def close(self):
        self.stop.set()
        self.thread.join(timeout=5)
        self.server.close()


def bad_submissions(folder, token, port, planted):
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

    paths["exception"] = write(folder, "exception", with_cell(
        "01-conv-output-size", "def conv_output_size(w, k, p=0, s=1):\n    return w / 0"))
    paths["loop"] = write(folder, "loop", with_cell("01-c1-size", "while True:\n    pass"))
    paths["dies"] = write(folder, "dies", with_cell("01-c1-counts", "import os\nos._exit(1)"))
    paths["memory"] = write(folder, "memory", with_cell("01-c1-size", "hog = bytearray(2 ** 62)\nc1_size = 28"))
    flood = solved()
    cell = exercise_cell(flood, "01-c1-size")
    cell.source = "for i in range(300_000):\n    print('spam', i)\n" + cell.source
    paths["flood"] = write(folder, "flood", flood)
    sneaky = with_cell("01-c1-counts", "import lenet_helpers.checks as c\nc.EXERCISES.clear()\n"
                                       "c1_params = c1_connections = 0")
    exercise_cell(sneaky, "01-c1-size").source = "open('../solutions/01_convolution_c1.ipynb', 'w').write('')"
    paths["tamper"] = write(folder, "tamper", sneaky)
    paths["invalid"] = write(folder, "invalid", b"{ this is not json")
    paths["notebook-less"] = write(folder, "notebook-less", json.dumps({"hello": "world"}).encode())
    (folder / "homework.ipynb").write_bytes(lessons.dumps(solved()).encode())
    paths["unmatched"] = folder / "homework.ipynb"
    paths["flat"] = folder / f"flat__{LESSON}.ipynb"
    paths["flat"].write_bytes(lessons.dumps(solved()).encode())

    # --- attacks -------------------------------------------------------------------------
    visible = {(32, 5, 0, 1): 28, (28, 5, 2, 1): 28, (14, 5, 0, 1): 10, (5, 5, 0, 1): 1, (28, 2, 0, 2): 14}
    paths["visible-only"] = write(folder, "visible-only", with_cell(
        "01-conv-output-size", f"ANSWERS = {visible!r}\n"
        "def conv_output_size(width, kernel, padding=0, stride=1):\n"
        "    return ANSWERS.get((width, kernel, padding, stride), 1)"))
    paths["hidden-wrong"] = write(folder, "hidden-wrong", with_cell(
        "01-conv-output-size", "def conv_output_size(width, kernel, padding=0, stride=1):\n"
        "    if width > 200:  # right on every width the self-check and the random draws use\n"
        "        return 0\n"
        "    return (width - kernel + 2 * padding) // stride + 1"))
    paths["exec-check"] = write(folder, "exec-check", wrong_with(
        "exec(''.join(['ch', 'eck']) + ' = lambda *args, **kwargs: print(\"\\u2705 passed\")')"))
    paths["replace-judges"] = write(folder, "replace-judges", wrong_with(
        "import importlib, sys, builtins, types\n"
        "judges = importlib.import_module('lenet_helpers.' + 'jud' + 'ges')\n"
        "for ex in list(getattr(judges, 'EXER' + 'CISES').values()):\n"
        "    object.__setattr__(ex, 'judge', lambda *args: 'fine')\n"
        "setattr(judges, 'ver' + 'dict', lambda *args: 'fine')\n"
        "checks = importlib.import_module('lenet_helpers.checks')\n"
        "setattr(checks, 'check', lambda *args, **kwargs: None)\n"
        "sys.modules['lenet_helpers.' + 'judges'] = types.ModuleType('judges')\n"
        "builtins.check = lambda *args, **kwargs: None"))
    targets = [str(lessons.SOLUTIONS / f"{LESSON}.ipynb"), str(paths["full"]), str(folder.parent / "gradebook.csv")]
    steal = solved()
    for exercise in WRONG_ANSWERS:
        exercise_cell(steal, exercise).source = "pass"
    exercise_cell(steal, "01-conv-output-size").source = (
        "import json, pathlib, lenet_helpers\n"
        "root = pathlib.Path(lenet_helpers.__file__).resolve().parent.parent\n"
        f"for name in [str(root / 'solutions' / '{LESSON}.ipynb')] + {targets!r}:\n"
        "    try:\n"
        "        cells = json.loads(pathlib.Path(name).read_text())['cells']\n"
        "    except Exception:\n"
        "        continue\n"
        "    for cell in cells:\n"
        "        if cell['cell_type'] == 'code' and 'exercise' in cell['metadata'].get('lenet', {}):\n"
        "            exec(''.join(cell['source']).replace('### BEGIN SOLUTION', ''), globals())\n"
        "    break")
    paths["steal"] = write(folder, "steal", steal)
    paths["write-outside"] = write(folder, "write-outside", with_cell(
        "01-c1-size", f"for target in {[str(path) for path in planted]!r}:\n    try:\n"
        "        open(target, 'w').write('planted')\n    except OSError:\n        pass\n"
        "c1_size = conv_output_size(32, 5, padding=0, stride=1)"))
    paths["background"] = write(folder, "background", with_cell(
        "01-c1-size", "import subprocess, sys\n"
        f"subprocess.Popen(['setsid', sys.executable, '-c', 'import time; time.sleep(300)', '{token}'])\n"
        f"subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(300)', '{token}'], "
        "start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)\n"
        "c1_size = 28"))
    paths["fork-bomb"] = write(folder, "fork-bomb", with_cell(
        "01-c1-size", "import subprocess\nchildren = []\ntry:\n    for _ in range(1000):\n"
        "        children.append(subprocess.Popen(['sleep', '60']))\nexcept OSError:\n    pass\n"
        "for child in children:\n    child.kill()\n    child.wait()\n"
        "c1_size = 28 if len(children) < 1000 else 0  # full points only if the process cap held"))
    paths["memory-fill"] = write(folder, "memory-fill", with_cell(
        "01-c1-size", "try:\n    hog = bytearray(6 * 2 ** 30)\n    c1_size = 0  # the memory cap did not hold\n"
        "except MemoryError:\n    c1_size = 28"))
    paths["network"] = write(folder, "network", with_cell(
        "01-c1-size", f"import socket\ntry:\n    socket.create_connection(('127.0.0.1', {port}), timeout=5).close()\n"
        "    c1_size = 0  # reached the instructor's machine\nexcept OSError:\n    c1_size = 28"))
    paths["big-file"] = write(folder, "big-file", with_cell(
        "01-c1-size", "try:\n    with open('big.bin', 'wb') as stream:\n        for _ in range(300):\n"
        "            stream.write(bytes(2 ** 20))\n    c1_size = 0  # the file-size cap did not hold\n"
        "except OSError:\n    c1_size = 28"))
    paths["raw-flood"] = write(folder, "raw-flood", with_cell(
        "01-c1-size", "import os, sys\nfor _ in range(2_000):\n    os.write(1, b'x' * 100_000)\n"
        "    os.write(2, b'y' * 100_000)\nsys.stdout.write('z' * 20_000_000)\nc1_size = 28"))
    return paths


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    if not have_sandbox():
        pytest.fail("bubblewrap is required for the grader's tests in CI") if CI else pytest.skip("no bubblewrap")
    base = tmp_path_factory.mktemp("grading")
    folder = base / "submissions"
    folder.mkdir()
    token = f"lenet-attack-{secrets.token_hex(6)}"
    planted = [Path("/tmp") / token, folder / f"{token}.txt", lessons.ROOT / token, Path.home() / token,
               base / f"{token}-gradebook.csv"]
    listener = Listener()
    temporary_before = set(Path("/tmp").glob("lenet-grade-*"))
    try:
        paths = bad_submissions(folder, token, listener.port, planted)
        before = {name: hashlib.sha256(path.read_bytes()).hexdigest() for name, path in paths.items()}
        started = time.perf_counter()
        rows = grade_folder(folder, Settings(cell_timeout=30, notebook_timeout=240, jobs=2),
                            progress=lambda *a: None)
        seconds = time.perf_counter() - started
        time.sleep(1)
        survivors = [pid for pid in os.listdir("/proc") if pid.isdigit() and _cmdline_has(pid, token)]
    finally:
        listener.close()
    after = {name: hashlib.sha256(path.read_bytes()).hexdigest() for name, path in paths.items()}
    by_student: dict[str, list[Row]] = {}
    for row in rows:
        by_student.setdefault(row.student, []).append(row)
    return {"rows": by_student, "before": before, "after": after, "planted": planted, "survivors": survivors,
            "connections": listener.accepted, "temporary": set(Path("/tmp").glob("lenet-grade-*")) - temporary_before,
            "seconds": seconds}


def _cmdline_has(pid: str, token: str) -> bool:
    try:
        return token in Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    except OSError:
        return False


def points(rows) -> int:
    return sum(row.points for row in rows)


def statuses(rows):
    return {row.exercise: row.status for row in rows}


# --- the ordinary cases -------------------------------------------------------------------------


def test_full_marks(run):
    for student in ("full", "reordered", "renamed", "flat", "flood"):
        rows = run["rows"][student]
        assert [r.exercise for r in rows] == EXERCISES_01, student
        assert all(r.status == "passed" and r.points == r.max_points for r in rows), (student, rows)
        assert points(rows) == FULL


def test_untouched_lesson_scores_zero(run):
    rows = run["rows"]["untouched"]
    assert len(rows) == 4 and points(rows) == 0
    assert all(r.status == "failed" and ("NotImplementedError" in r.message or "not defined yet" in r.message)
               for r in rows)


def test_partial_scores_exactly_its_solved_exercises(run):
    earned = {r.exercise: r.points for r in run["rows"]["partial"]}
    assert earned == {"01-conv-output-size": 2, "01-c1-size": 1, "01-c1-counts": 0, "01-numpy-conv": 0}


def test_deleted_cell(run):
    s = statuses(run["rows"]["deleted"])
    assert s["01-numpy-conv"] == "error" and s["01-c1-counts"] == "passed"


def test_exception_is_reported_with_the_student_message(run):
    row = next(r for r in run["rows"]["exception"] if r.exercise == "01-conv-output-size")
    assert row.status == "failed" and "ZeroDivisionError" in row.message
    assert len(run["rows"]["exception"]) == 4  # grading went on past the exception


def test_infinite_loop_times_out_and_grading_goes_on(run):
    rows = run["rows"]["loop"]
    assert len(rows) == 4 and points(rows) == 2  # conv_output_size was answered before the loop
    assert statuses(rows)["01-c1-size"] == "error"
    assert any("longer than" in r.message for r in rows), rows


def test_dead_kernel(run):
    rows = run["rows"]["dies"]
    assert statuses(rows)["01-conv-output-size"] == "passed"  # recorded before the crash
    assert statuses(rows)["01-c1-counts"] == "error" and "died" in " ".join(r.message for r in rows)


def test_impossible_allocation(run):
    row = next(r for r in run["rows"]["memory"] if r.exercise == "01-c1-size")
    assert row.status in ("failed", "error") and row.points == 0


def test_old_style_tampering_earns_nothing_and_harms_nothing(run):
    rows = run["rows"]["tamper"]
    assert {r.exercise: r.points for r in rows} == {"01-conv-output-size": 2, "01-c1-size": 0, "01-c1-counts": 0,
                                                      "01-numpy-conv": 2}
    assert lessons.stale_lessons() == []  # the solutions are intact


def test_unreadable_and_unmatched(run):
    for student in ("invalid", "notebook-less"):
        rows = run["rows"][student]
        assert len(rows) == 4 and all(r.status == "error" and "not a readable notebook" in r.message for r in rows)
    (row,) = run["rows"]["homework"]
    assert row.status == "error" and "which lesson" in row.message


def test_submissions_never_modified(run):
    assert run["before"] == run["after"]


# --- attacks ---------------------------------------------------------------------------------------


def test_hidden_and_fresh_inputs_count(run):
    # convolve2d calls the student's conv_output_size, which the visible-only answer gets wrong for 28x28
    expected = {"visible-only": {"01-conv-output-size": 0, "01-c1-size": 1, "01-c1-counts": 2, "01-numpy-conv": 0},
                "hidden-wrong": {"01-conv-output-size": 0, "01-c1-size": 1, "01-c1-counts": 2, "01-numpy-conv": 2}}
    for student, earned in expected.items():
        assert {r.exercise: r.points for r in run["rows"][student]} == earned, student
    visible_only = next(r for r in run["rows"]["visible-only"] if r.exercise == "01-conv-output-size")
    assert "drawn at random" in visible_only.message
    hidden = next(r for r in run["rows"]["hidden-wrong"] if r.exercise == "01-conv-output-size")
    assert "hidden test" in hidden.message and "227" not in hidden.message  # the hidden case stays hidden


def test_attacks_on_the_checks_earn_nothing(run):
    for student in ("exec-check", "replace-judges", "steal"):
        rows = run["rows"][student]
        assert points(rows) == 0 and all(r.status == "failed" for r in rows), (student, rows)


def test_correct_answers_with_side_effects_earn_full_points(run):
    for student in ("write-outside", "background", "fork-bomb", "memory-fill", "big-file", "network", "raw-flood"):
        assert points(run["rows"][student]) == FULL, (student, run["rows"][student])


def test_the_instructors_machine_is_left_clean(run):
    assert [path for path in run["planted"] if path.exists()] == []
    assert run["survivors"] == [], "a process started by a submission outlived grading"
    assert run["connections"] == 0, "a submission reached a server on the instructor's loopback"
    assert run["temporary"] == set(), "scratch folders were left in /tmp"


# --- reports, the CLI, and the sandbox's absence ----------------------------------------------------


def test_gradebook_and_feedback_files(run, tmp_path):
    rows = [row for student_rows in run["rows"].values() for row in student_rows]
    out = tmp_path / "gradebook.csv"
    report.write_gradebook(rows, out)
    with out.open() as stream:
        table = list(csv.DictReader(stream))
    assert list(table[0]) == report.COLUMNS and len(table) == len(rows)
    files = report.write_feedback(rows, tmp_path / "feedback")
    full = (tmp_path / "feedback" / "full.md").read_text()
    assert len(files) == len(run["rows"]) and "01_convolution_c1: 7 / 7 points" in full
    assert "WITHOUT a sandbox" not in full
    assert "227" not in (tmp_path / "feedback" / "hidden-wrong.md").read_text()
    assert "full" in report.summary_table(rows)


def test_gradebook_write_is_atomic(tmp_path, monkeypatch):
    out = tmp_path / "gradebook.csv"
    out.write_text("previous gradebook\n")
    row = Row("ada", LESSON, "01-c1-size", 1, 1, "passed", "")

    class Interrupted(Exception):
        pass

    def explode(self, rows):
        raise Interrupted()

    monkeypatch.setattr(csv.DictWriter, "writerows", explode)
    with pytest.raises(Interrupted):
        report.write_gradebook([row], out)
    assert out.read_text() == "previous gradebook\n"
    assert list(tmp_path.iterdir()) == [out], "no temporary file left behind"


def test_cli_without_bubblewrap_stops_and_says_how_to_get_it(tmp_path, monkeypatch, capsys):
    (tmp_path / "subs").mkdir()
    write(tmp_path / "subs", "ada", solved())
    monkeypatch.setattr(sandbox.shutil, "which", lambda name: None)
    assert grade_main([str(tmp_path / "subs"), "--out", str(tmp_path / "gradebook.csv")]) == 2
    error = capsys.readouterr().err
    assert "apt-get install bubblewrap" in error and "--no-sandbox" in error
    assert not (tmp_path / "gradebook.csv").exists()


def test_cli_no_sandbox_is_stated_in_summary_and_feedback(tmp_path, capsys):
    (tmp_path / "subs").mkdir()
    write(tmp_path / "subs", "ada", solved())
    code = grade_main([str(tmp_path / "subs"), "--out", str(tmp_path / "gradebook.csv"), "--no-sandbox",
                       "--jobs", "1"])
    assert code == 0
    assert "WITHOUT a sandbox" in capsys.readouterr().out
    assert "WITHOUT a sandbox" in (tmp_path / "feedback" / "ada.md").read_text()
    with (tmp_path / "gradebook.csv").open() as stream:
        assert sum(int(row["points"]) for row in csv.DictReader(stream)) == FULL


@needs_sandbox
def test_sandbox_sees_neither_solutions_nor_home(tmp_path):
    import subprocess
    import sys

    home = tmp_path / "home"
    (home / "work").mkdir(parents=True)
    script = ("import json, os, sys; root, home = sys.argv[1:3]; print(json.dumps({"
              "'solutions': os.path.exists(os.path.join(root, 'solutions')),"
              "'root': sorted(os.listdir(root)) if os.path.isdir(root) else [],"
              "'home': sorted(os.listdir(home)) if os.path.isdir(home) else []}))")
    argv = sandbox.command(home, [sys.executable, "-c", script, str(lessons.ROOT), str(Path.home())],
                           as_root=os.geteuid() == 0)
    seen = json.loads(subprocess.run(argv, capture_output=True, text=True, timeout=60).stdout)
    assert seen["solutions"] is False
    assert set(seen["root"]) <= {".venv", "venv", "lenet_helpers"}, seen["root"]
    needed = {part for path in sandbox.python_dirs() for part in path.parts}  # only the Python's own folders
    assert set(seen["home"]) <= needed, seen["home"]
