"""`python -m lenet_helpers.grade SUBMISSIONS --out gradebook.csv` (and `make grade`): grade a folder."""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from lenet_helpers.grading.grader import Settings, grade_folder
from lenet_helpers.grading.report import NO_SANDBOX, summary_table, write_feedback, write_gradebook
from lenet_helpers.grading.sandbox import Limits, SandboxUnavailable

GIB = 2**30


def _progress(done: int, total: int, label: str) -> None:
    width = 24
    filled = width * done // max(total, 1)
    print(f"[{'#' * filled}{'.' * (width - filled)}] {done}/{total} {label}", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lenet_helpers.grade",
                                     description="Grade a folder of student notebooks, each in its own sandbox.")
    parser.add_argument("submissions", type=Path, help="folder of student notebooks")
    parser.add_argument("--out", type=Path, default=Path("gradebook.csv"))
    parser.add_argument("--feedback", type=Path, help="folder for per-student feedback (default: next to --out)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 2, help="notebooks graded at once")
    parser.add_argument("--cell-timeout", type=int, default=120, help="seconds per cell (default 120)")
    parser.add_argument("--notebook-timeout", type=int, default=600, help="seconds per notebook (default 600)")
    parser.add_argument("--memory-limit", type=float, default=4, help="GiB of memory per process (default 4)")
    parser.add_argument("--max-processes", type=int, default=Limits.processes,
                        help=f"processes and threads per submission (default {Limits.processes})")
    parser.add_argument("--no-sandbox", action="store_true",
                        help="run submissions without bubblewrap, with your own rights (said in every feedback file)")
    args = parser.parse_args(argv)
    if not args.submissions.is_dir():
        parser.error(f"{args.submissions} is not a folder")
    settings = Settings(args.cell_timeout, args.notebook_timeout, max(1, args.jobs), not args.no_sandbox,
                        Limits(int(args.memory_limit * GIB), args.max_processes))
    started = time.perf_counter()
    try:
        rows = grade_folder(args.submissions, settings, progress=_progress)
    except SandboxUnavailable as error:
        print(f"error: cannot grade safely: {error}", file=sys.stderr)
        return 2
    note = NO_SANDBOX if args.no_sandbox else None
    write_gradebook(rows, args.out)
    feedback = write_feedback(rows, args.feedback or args.out.parent / "feedback", note)
    print(summary_table(rows))
    if note:
        print(f"\n{note}")
    where = feedback[0].parent if feedback else "-"
    print(f"\n{len(rows)} rows -> {args.out}; {len(feedback)} feedback files -> {where}"
          f" ({time.perf_counter() - started:.0f} s)")
    return 0
