"""Grade a folder of student notebooks: `python -m lenet_helpers.grade SUBMISSIONS --out gradebook.csv`.

Submissions are found as `SUBMISSIONS/<student>/<NN_lesson>.ipynb` (one folder per student)
or `SUBMISSIONS/<student>__<NN_lesson>.ipynb`. Each is graded on a temporary copy, in a
fresh kernel, in fast mode: the solution's notebook is rebuilt with the student's exercise
cells put in, so the student's check cells and the hidden tests from the solution are the
ones that run. A check cell that runs clean earns its points (declared in the solution).
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import os
import re
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from pathlib import Path

import nbformat

from lenet_helpers import lab
from lenet_helpers.lessons import SOLUTIONS, notebook_paths, without_hidden_tests

COLUMNS = ["student", "lesson", "exercise", "points", "max_points", "status", "message"]
MAX_MESSAGE = 300
MAX_OUTPUT_CHARS = 200_000  # per cell: a print loop cannot flood the grader's memory
SEPARATOR = "__"
# Student code that reaches for the grader's own machinery is refused before it runs.
TAMPERING = re.compile(
    r"lenet_helpers\.checks|lenet_helpers\.grade|\bEXERCISES\b|_render_traceback_|sys\.modules"
    r"|\bsolutions/|site-packages|lenet_helpers/|\bdef\s+check\b|\bcheck\s*=(?!=)|globals\(\)\s*\[|builtins"
)
OUTPUT_CAP = f"""\
import sys as _sys
class _Capped:
    def __init__(self, stream, limit={MAX_OUTPUT_CHARS}):
        self.stream, self.left = stream, limit
    def write(self, text):
        if self.left > 0:
            self.stream.write(text[: self.left])
        self.left -= len(text)
        return len(text)
    def __getattr__(self, name):
        return getattr(self.stream, name)
_sys.stdout, _sys.stderr = _Capped(_sys.stdout), _Capped(_sys.stderr)
del _Capped, _sys
"""


@dataclass
class Row:
    """One gradebook line: one exercise of one lesson of one student."""

    student: str
    lesson: str
    exercise: str
    points: int
    max_points: int
    status: str  # passed, failed, error
    message: str


@dataclass
class Submission:
    student: str
    path: Path
    lesson: str | None  # the matched solution's stem, or None


@dataclass
class Exercise:
    id: str
    points: int
    cells: list[str] = field(default_factory=list)  # ids of the student's exercise cells


# --- finding and matching ---------------------------------------------------------------


def find_submissions(folder: Path, lessons: list[str]) -> list[Submission]:
    """Every .ipynb under `folder`, with its student and matched lesson (None when unmatched)."""
    found = []
    for path in sorted(folder.rglob("*.ipynb")):
        if ".ipynb_checkpoints" in path.parts:
            continue
        relative = path.relative_to(folder)
        if len(relative.parts) >= 2:
            student, name = relative.parts[0], path.stem
        elif SEPARATOR in path.stem:
            student, name = path.stem.split(SEPARATOR, 1)
        else:
            student, name = path.stem, path.stem
        found.append(Submission(student, path, match_lesson(name, lessons)))
    return found


def match_lesson(name: str, lessons: list[str]) -> str | None:
    """The lesson a file name refers to: exact name, or its two-digit number ("01 (copy)" -> 01_...)."""
    if name in lessons:
        return name
    number = re.match(r"\s*(\d\d)(?!\d)", name)
    candidates = [lesson for lesson in lessons if number and lesson.startswith(number.group(1) + "_")]
    return candidates[0] if len(candidates) == 1 else None


def exercises_of(solution: nbformat.NotebookNode) -> list[Exercise]:
    """The graded exercises of a solution, from its check cells' metadata, in order."""
    exercises = {}
    for cell in solution.cells:
        meta = cell.metadata.get("lenet", {})
        if "check" in meta:
            exercises[meta["check"]] = Exercise(meta["check"], int(meta.get("points", 1)))
    for cell in solution.cells:
        meta = cell.metadata.get("lenet", {})
        if "exercise" in meta and meta["exercise"] in exercises:
            exercises[meta["exercise"]].cells.append(cell.get("id"))
    return list(exercises.values())


# --- building the notebook that is run ----------------------------------------------------


def graded_notebook(student: nbformat.NotebookNode, solution: nbformat.NotebookNode):
    """The solution's cells, with each exercise cell replaced by the student's cell of that exercise.

    Returns (notebook, problems): problems maps exercise id -> why it cannot be graded as written.
    """
    by_id = {cell.get("id"): cell for cell in student.cells if cell.get("cell_type") == "code"}
    by_exercise = {}
    for cell in student.cells:
        exercise = cell.get("metadata", {}).get("lenet", {}).get("exercise")
        if exercise and cell.get("cell_type") == "code":
            by_exercise.setdefault(exercise, cell)
    problems: dict[str, str] = {}
    graded = nbformat.v4.new_notebook(metadata={"kernelspec": solution.metadata.get("kernelspec", {})})
    graded.cells.append(nbformat.v4.new_code_cell(OUTPUT_CAP))
    for cell in solution.cells:
        if cell.cell_type != "code":
            continue
        meta = cell.metadata.get("lenet", {})
        source = without_hidden_tests(cell.source)
        new = nbformat.v4.new_code_cell(source, metadata={"lenet": dict(meta)})
        if "exercise" in meta:
            mine = by_id.get(cell.get("id")) or by_exercise.get(meta["exercise"])
            if mine is None:
                problems[meta["exercise"]] = "the exercise cell was deleted or changed beyond recognition"
                new.source = "raise NotImplementedError('exercise cell missing from the submission')"
            else:
                code = mine.get("source", "")
                code = "".join(code) if isinstance(code, list) else str(code)
                if TAMPERING.search(code):
                    problems[meta["exercise"]] = "refused: the answer reaches into the grader or its checks"
                    code = "raise NotImplementedError('refused by the grader')"
                new.source = code
        graded.cells.append(new)
    return graded, problems


# --- running -------------------------------------------------------------------------------


def _short(text: str) -> str:
    text = re.sub(r"\x1b\[[0-9;]*m", "", str(text)).strip().replace("\n", " ")
    return text[:MAX_MESSAGE] + ("..." if len(text) > MAX_MESSAGE else "")


def run_cells(nb: nbformat.NotebookNode, workdir: Path, cell_timeout: int, notebook_timeout: int) -> dict[int, tuple]:
    """Run cell by cell in a fresh kernel; returns {cell index: (status, message)} for every cell."""
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    results: dict[int, tuple] = {}
    env = {**os.environ, "LENET_FAST": "1"}
    client = NotebookClient(nb, timeout=cell_timeout, kernel_name="python3", allow_errors=False,
                            resources={"metadata": {"path": str(workdir)}}, record_timing=False,
                            shutdown_kernel="immediate", config=lab.kernel_config())
    deadline = time.monotonic() + notebook_timeout
    reason = None
    try:
        with client.setup_kernel(env=env, cwd=str(workdir)):
            for index, cell in enumerate(nb.cells):
                left = deadline - time.monotonic()
                if left <= 0:
                    reason = f"the notebook ran longer than {notebook_timeout} s"
                    break
                client.timeout = int(max(1, min(cell_timeout, left)))
                try:
                    client.execute_cell(cell, index)
                    results[index] = ("ok", "")
                except CellTimeoutError:
                    results[index] = ("timeout", f"a cell ran longer than {client.timeout} s (infinite loop?)")
                    reason = "stopped after a cell timed out"
                    break
                except DeadKernelError:
                    results[index] = ("dead", "the kernel died (os._exit, a crash, or out of memory)")
                    reason = "the kernel died"
                    break
                except CellExecutionError as error:
                    results[index] = (getattr(error, "ename", "Error"), _short(getattr(error, "evalue", error)))
    except DeadKernelError:
        reason = "the kernel died"
    except Exception as error:  # kernel could not start or shut down cleanly: still one row per exercise
        reason = f"the grader could not run the notebook: {_short(error)}"
    for index in range(len(nb.cells)):
        results.setdefault(index, ("not run", reason or "not run"))
    return results


def verdict(result: tuple, points: int) -> tuple[int, str, str]:
    """(points earned, status, message) for a check cell's result."""
    status, message = result
    if status == "ok":
        return points, "passed", ""
    if status in ("CheckFailed", "ExerciseNotDone", "AssertionError", "NotImplementedError"):
        return 0, "failed", message
    if status in ("timeout", "dead", "not run"):
        return 0, "error", message
    return 0, "error", f"{status}: {message}"


def grade_submission(submission: Submission, cell_timeout: int = 120, notebook_timeout: int = 600) -> list[Row]:
    """All rows for one submission; never raises, never modifies the submission."""
    if submission.lesson is None:
        return [Row(submission.student, submission.path.name, "-", 0, 0, "error",
                    "cannot tell which lesson this is: name it like NN_lesson.ipynb")]
    solution = nbformat.read(SOLUTIONS / f"{submission.lesson}.ipynb", as_version=4)
    exercises = exercises_of(solution)

    def every(status, message):
        return [Row(submission.student, submission.lesson, ex.id, 0, ex.points, status, message) for ex in exercises]

    try:
        raw = submission.path.read_bytes()
        student = nbformat.reads(raw.decode("utf-8"), as_version=4)
        if not isinstance(student.get("cells"), list):
            raise ValueError("no list of cells")
    except Exception as error:
        return every("error", f"not a readable notebook ({type(error).__name__}: {_short(error)})")
    nb, problems = graded_notebook(student, solution)
    with tempfile.TemporaryDirectory(prefix="lenet-grade-") as workdir:
        Path(workdir, submission.path.name).write_bytes(raw)  # a copy, in case the code looks for itself
        results = run_cells(nb, Path(workdir), cell_timeout, notebook_timeout)
    rows = []
    for ex in exercises:
        check_index = next(i for i, cell in enumerate(nb.cells) if cell.metadata.get("lenet", {}).get("check") == ex.id)
        points, status, message = verdict(results[check_index], ex.points)
        if ex.id in problems:
            points, status, message = 0, "error", problems[ex.id]
        rows.append(Row(submission.student, submission.lesson, ex.id, points, ex.points, status, message))
    return rows


def _grade_job(args):
    submission, cell_timeout, notebook_timeout = args
    try:
        return grade_submission(submission, cell_timeout, notebook_timeout)
    except Exception as error:  # last resort: the grader's own bug still yields a row
        return [Row(submission.student, submission.lesson or submission.path.name, "-", 0, 0, "error",
                    f"grader error: {_short(error)}")]


# --- writing ---------------------------------------------------------------------------------


def write_gradebook(rows: list[Row], out: Path) -> None:
    """Write the CSV atomically: a temporary file in the same folder, then a rename."""
    out.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{out.name}.", dir=out.parent)
    try:
        with os.fdopen(handle, "w", newline="", encoding="utf-8") as stream:
            writer = csv.DictWriter(stream, fieldnames=COLUMNS)
            writer.writeheader()
            writer.writerows(asdict(row) for row in rows)
        os.replace(temporary, out)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


ICONS = {"passed": "\u2705", "failed": "\u274c", "error": "\u26a0\ufe0f"}


def write_feedback(rows: list[Row], folder: Path) -> list[Path]:
    """One Markdown file per student: per lesson, per exercise, points and the message they would see."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for student in sorted({row.student for row in rows}):
        mine = [row for row in rows if row.student == student]
        lines = [f"# Feedback for {student}", ""]
        for lesson in sorted({row.lesson for row in mine}):
            part = [row for row in mine if row.lesson == lesson]
            lines += [f"## {lesson}: {sum(r.points for r in part)} / {sum(r.max_points for r in part)} points", "",
                      "| exercise | points | result |", "|---|---|---|"]
            for row in part:
                detail = f"{ICONS.get(row.status, '')} {row.status}" + (f": {row.message}" if row.message else "")
                lines.append(f"| {row.exercise} | {row.points} / {row.max_points} | {detail.replace('|', '/')} |")
            lines.append("")
        path = folder / f"{re.sub(r'[^A-Za-z0-9_.-]', '_', student)}.md"
        path.write_text("\n".join(lines), encoding="utf-8")
        written.append(path)
    return written


def summary_table(rows: list[Row]) -> str:
    """Points per student and lesson, as aligned text."""
    totals: dict[tuple[str, str], list[int]] = {}
    for row in rows:
        entry = totals.setdefault((row.student, row.lesson), [0, 0, 0])
        entry[0] += row.points
        entry[1] += row.max_points
        entry[2] += row.status == "error"
    lines = [f"{'student':<20}{'lesson':<28}{'points':>10}{'errors':>8}"]
    for (student, lesson), (points, maximum, errors) in sorted(totals.items()):
        lines.append(f"{student[:19]:<20}{lesson[:27]:<28}{f'{points}/{maximum}':>10}{errors:>8}")
    return "\n".join(lines)


def _progress(done: int, total: int, label: str) -> None:
    width = 24
    filled = width * done // max(total, 1)
    print(f"[{'#' * filled}{'.' * (width - filled)}] {done}/{total} {label}", file=sys.stderr, flush=True)


def grade_folder(folder: Path, jobs: int = 2, cell_timeout: int = 120, notebook_timeout: int = 600,
                 progress=_progress) -> list[Row]:
    """Grade every submission under `folder`, several at once; rows in a stable order."""
    lessons = [path.stem for path in notebook_paths(SOLUTIONS)]
    submissions = find_submissions(folder, lessons)
    before = {s.path: hashlib.sha256(s.path.read_bytes()).hexdigest() for s in submissions}
    rows_by_path: dict[Path, list[Row]] = {}
    with ProcessPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = {pool.submit(_grade_job, (s, cell_timeout, notebook_timeout)): s for s in submissions}
        for done, future in enumerate(as_completed(futures), start=1):
            submission = futures[future]
            rows_by_path[submission.path] = future.result()
            earned = sum(r.points for r in rows_by_path[submission.path])
            possible = sum(r.max_points for r in rows_by_path[submission.path])
            progress(done, len(submissions), f"{submission.student} {submission.lesson or '?'}: {earned}/{possible}")
    for submission in submissions:  # the grader must never change a submission
        if hashlib.sha256(submission.path.read_bytes()).hexdigest() != before[submission.path]:
            raise RuntimeError(f"{submission.path} changed while grading; this is a grader bug")
    return [row for s in submissions for row in rows_by_path[s.path]]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lenet_helpers.grade", description=__doc__.splitlines()[0])
    parser.add_argument("submissions", type=Path, help="folder of student notebooks")
    parser.add_argument("--out", type=Path, default=Path("gradebook.csv"))
    parser.add_argument("--feedback", type=Path, help="folder for per-student feedback (default: next to --out)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 2, help="notebooks graded at once")
    parser.add_argument("--cell-timeout", type=int, default=120, help="seconds per cell (default 120)")
    parser.add_argument("--notebook-timeout", type=int, default=600, help="seconds per notebook (default 600)")
    args = parser.parse_args(argv)
    if not args.submissions.is_dir():
        parser.error(f"{args.submissions} is not a folder")
    started = time.perf_counter()
    rows = grade_folder(args.submissions, args.jobs, args.cell_timeout, args.notebook_timeout)
    write_gradebook(rows, args.out)
    feedback = write_feedback(rows, args.feedback or args.out.parent / "feedback")
    print(summary_table(rows))
    where = feedback[0].parent if feedback else "-"
    print(f"\n{len(rows)} rows -> {args.out}; {len(feedback)} feedback files -> {where}"
          f" ({time.perf_counter() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
