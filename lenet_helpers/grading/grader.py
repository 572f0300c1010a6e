"""Grade submissions: prepare each run, run it in its sandbox, judge what comes out (instructor guide).

The grader's own process builds each run (solution cells + the student's answers + probes),
draws fresh inputs, starts the sandboxed runner and, when it is done, reads back plain data
only and judges it with `lenet_helpers.judges`. An exercise earns its points only when its
visible check, its hidden cases and the fresh inputs all pass.
"""

from __future__ import annotations

import hashlib
import json
import os
import queue
import re
import secrets
import shutil
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

import nbformat
import numpy as np

from lenet_helpers import lab, plain
from lenet_helpers.grading import sandbox
from lenet_helpers.grading.build import GradedExercise, exercises_of, run_notebook
from lenet_helpers.grading.report import Row
from lenet_helpers.grading.submissions import Submission, find_submissions, read_notebook
from lenet_helpers.judges import EXERCISES, CheckFailed, ExerciseNotDone, inputs_for, verdict
from lenet_helpers.lessons import SOLUTIONS, notebook_paths

RUNNER = Path(__file__).resolve().parent / "_runner.py"
MAX_MESSAGE = 300
MAX_STATUS_BYTES = 1_000_000
GRACE_S = 60  # beyond the notebook's own deadline, for the kernel to start and stop


@dataclass(frozen=True)
class Settings:
    """How to grade: timeouts, limits, parallel runs, and whether to sandbox."""

    cell_timeout: int = 120
    notebook_timeout: int = 600
    jobs: int = 2
    sandboxed: bool = True
    limits: sandbox.Limits = sandbox.Limits()


@dataclass
class Prepared:
    """One submission ready to run: its scratch folder, its exercises and their inputs, or rows already known."""

    submission: Submission
    exercises: list[GradedExercise]
    inputs: dict[str, dict]
    problems: dict[str, str]
    check_cells: dict[str, int]
    scratch: Path | None
    rows: list[Row] | None = None  # set when there is nothing to run (unreadable, unmatched)


def _short(text) -> str:
    text = re.sub(r"[\x00-\x08\x0b-\x1f\x7f]|\x1b\[[0-9;]*m", "", str(text)).strip().replace("\n", " ")
    return text[:MAX_MESSAGE] + ("..." if len(text) > MAX_MESSAGE else "")


def prepare(submission: Submission, rng: np.random.Generator) -> Prepared:
    """Read the submission, build its run and write it with fresh inputs into a new scratch folder."""
    if submission.lesson is None:
        row = Row(submission.student, submission.path.name, "-", 0, 0, "error",
                  "cannot tell which lesson this is: name it like NN_lesson.ipynb")
        return Prepared(submission, [], {}, {}, {}, None, [row])
    solution = nbformat.read(SOLUTIONS / f"{submission.lesson}.ipynb", as_version=4)
    exercises = exercises_of(solution)
    try:
        raw = submission.path.read_bytes()
        student = read_notebook(raw)
    except Exception as error:
        reason = f"not a readable notebook ({type(error).__name__}: {_short(error)})"
        rows = [Row(submission.student, submission.lesson, ex.id, 0, ex.points, "error", reason) for ex in exercises]
        return Prepared(submission, exercises, {}, {}, {}, None, rows)
    run, problems = run_notebook(student, solution)
    check_cells = {}
    for index, cell in enumerate(run.cells):
        if "check" in cell.metadata.get("lenet", {}):
            check_cells[cell.metadata["lenet"]["check"]] = index
    scratch = Path(tempfile.mkdtemp(prefix="lenet-grade-"))
    io = scratch / ".grading"
    (scratch / "work").mkdir()
    (io / "out").mkdir(parents=True)
    (scratch / "work" / submission.path.name).write_bytes(raw)  # a copy, in case the code looks for itself
    nbformat.write(run, io / "run.ipynb")
    inputs = {}
    for ex in exercises:
        inputs[ex.id] = inputs_for(ex.id, ex.hidden, rng)
        request = {"names": list(EXERCISES[ex.id].names), "probe": EXERCISES[ex.id].probe, "inputs": inputs[ex.id]}
        plain.dump(request, io / "in" / ex.id)  # the probe needs nothing from the kernel's own copy of the judges
    return Prepared(submission, exercises, inputs, problems, check_cells, scratch)


def execute(prepared: Prepared, settings: Settings, slot: int) -> sandbox.Finished:
    """Run a prepared submission's notebook in its sandbox (or plainly, without one)."""
    scratch = prepared.scratch
    as_root = settings.sandboxed and os.geteuid() == 0
    io = f"{sandbox.SANDBOX_HOME}/.grading" if settings.sandboxed else str(scratch / ".grading")
    limits = settings.limits
    # As root the runner becomes a user of its own, counted alone; any other user's cap must leave room for
    # what that user already runs (RLIMIT_NPROC counts them all outside a user namespace).
    processes = limits.processes + (0 if os.geteuid() == 0 else _threads_of_this_user())
    argv = [sys.executable, str(RUNNER), io, f"--cell-timeout={settings.cell_timeout}",
            f"--notebook-timeout={settings.notebook_timeout}", f"--memory={limits.memory}",
            f"--processes={processes}", f"--file-size={limits.file_size}",
            f"--kernel-settings={json.dumps(lab.kernel_settings())}"]
    if as_root:
        uid = sandbox.FIRST_UID - slot
        argv += [f"--uid={uid}", f"--gid={uid}"]
        for path in [scratch, *scratch.rglob("*")]:
            os.chown(path, uid, uid, follow_symlinks=False)
    return sandbox.run(argv, scratch, settings.notebook_timeout + GRACE_S, settings.sandboxed, as_root)


def _threads_of_this_user() -> int:
    """Processes and threads already running as this user (RLIMIT_NPROC counts them too, outside a namespace)."""
    count = 0
    for task in Path("/proc").glob("[0-9]*/task/[0-9]*"):
        try:
            count += task.stat().st_uid == os.getuid()
        except OSError:
            pass
    return count


def read_statuses(path: Path) -> tuple[dict[int, tuple[str, str]], str | None]:
    """Each cell's status as the runner recorded it (untrusted: checked and shortened)."""
    try:
        if path.is_symlink() or path.stat().st_size > MAX_STATUS_BYTES:
            raise ValueError("too large")
        data = json.loads(path.read_text(encoding="utf-8"))
        statuses = {int(entry["index"]): (_short(entry["status"]), _short(entry["message"]))
                    for entry in data["cells"][:10_000]}
        return statuses, (_short(data["reason"]) if data.get("reason") else None)
    except Exception:
        return {}, None


def judge(prepared: Prepared, finished: sandbox.Finished | None) -> list[Row]:
    """One row per exercise, from the answers the run recorded: judged here, never inside the sandbox."""
    statuses, reason = read_statuses(prepared.scratch / ".grading" / "out" / "cells.json")
    if finished is not None and finished.timed_out:
        reason = "the grader stopped the notebook at its deadline"
    stopper = next((message for status, message in reversed(list(statuses.values()))
                    if status in ("timeout", "dead")), None)
    rows = []
    for ex in prepared.exercises:
        student, lesson = prepared.submission.student, prepared.submission.lesson
        if ex.id in prepared.problems:
            rows.append(Row(student, lesson, ex.id, 0, ex.points, "error", prepared.problems[ex.id]))
            continue
        try:
            answer = plain.load(prepared.scratch / ".grading" / "out" / ex.id)
        except plain.PlainDataError as error:
            status, message = statuses.get(prepared.check_cells[ex.id], ("not run", ""))
            if status == "not run":
                why = f"the check did not run: {stopper or reason or error}"
            elif status in ("timeout", "dead"):
                why = message
            else:
                why = f"the check could not record an answer ({status}: {message})"
            rows.append(Row(student, lesson, ex.id, 0, ex.points, "error", _short(why)))
            continue
        try:
            verdict(ex.id, prepared.inputs[ex.id], answer)
            rows.append(Row(student, lesson, ex.id, ex.points, ex.points, "passed", ""))
        except (CheckFailed, ExerciseNotDone) as failure:
            rows.append(Row(student, lesson, ex.id, 0, ex.points, "failed", _short(failure)))
        except Exception as error:  # data that even the judge could not make sense of
            rows.append(Row(student, lesson, ex.id, 0, ex.points, "error",
                            _short(f"the answer could not be judged ({type(error).__name__}: {error})")))
    return rows


def remove(scratch: Path | None) -> None:
    """Delete a scratch folder, whatever the submission did to its permissions."""
    if scratch is None:
        return

    def make_writable(function, path, _):
        os.chmod(os.path.dirname(path), 0o700)
        os.chmod(path, 0o700) if not os.path.islink(path) else None
        function(path)

    shutil.rmtree(scratch, onerror=make_writable)


def grade_folder(folder: Path, settings: Settings = Settings(), progress=None) -> list[Row]:
    """Grade every submission under `folder`, `settings.jobs` at once; rows in a stable order."""
    if settings.sandboxed:
        sandbox.check_available()
        leaks = sandbox.exposed([SOLUTIONS, folder])
        if leaks:
            raise sandbox.SandboxUnavailable(f"{', '.join(map(str, leaks))} would be visible inside the sandbox "
                                             "(it lies inside the Python environment or a system folder); move it.")
    lessons = [path.stem for path in notebook_paths(SOLUTIONS)]
    submissions = find_submissions(folder, lessons)
    before = {s.path: hashlib.sha256(s.path.read_bytes()).hexdigest() for s in submissions}
    rng = np.random.default_rng(secrets.randbits(128))  # fresh inputs on every grading run
    slots: queue.Queue[int] = queue.Queue()
    for slot in range(max(1, settings.jobs)):
        slots.put(slot)

    def run_one(prepared: Prepared):
        slot = slots.get()
        try:
            return execute(prepared, settings, slot)
        finally:
            slots.put(slot)

    rows_by_path: dict[Path, list[Row]] = {}
    prepared: list[Prepared] = []
    try:
        for submission in submissions:
            prepared.append(prepare(submission, rng))
        with ThreadPoolExecutor(max_workers=max(1, settings.jobs)) as pool:
            futures = {pool.submit(run_one, item): item for item in prepared if item.rows is None}
            for item in prepared:
                if item.rows is not None:
                    rows_by_path[item.submission.path] = item.rows
            for done, future in enumerate(as_completed(futures), start=1):
                item = futures[future]
                try:
                    rows = judge(item, future.result())
                except Exception as error:  # the grader's own bug still yields a row
                    rows = [Row(item.submission.student, item.submission.lesson or "-", "-", 0, 0, "error",
                                f"grader error: {_short(error)}")]
                rows_by_path[item.submission.path] = rows
                remove(item.scratch)
                if progress:
                    earned, possible = sum(r.points for r in rows), sum(r.max_points for r in rows)
                    progress(done, len(futures), f"{item.submission.student} {item.submission.lesson}: "
                                                 f"{earned}/{possible}")
    finally:
        for item in prepared:
            if item.scratch is not None and item.scratch.exists():
                remove(item.scratch)
    for submission in submissions:  # the grader must never change a submission
        if hashlib.sha256(submission.path.read_bytes()).hexdigest() != before[submission.path]:
            raise RuntimeError(f"{submission.path} changed while grading; this is a grader bug")
    return [row for s in submissions for row in rows_by_path[s.path]]
