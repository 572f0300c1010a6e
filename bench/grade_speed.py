"""Benchmark: grade 30 submissions of lesson 01, with and without the sandbox, and print the times (not a test).

    python bench/grade_speed.py [--submissions 30] [--jobs N] [--rounds 1]

Each round grades the same folder twice, sandboxed (bubblewrap) and with --no-sandbox, in
alternating order, so the sandbox's cost is measured within one run on one machine.

Submissions are made from the course itself: a third fully solved, a third untouched,
a third half solved, so the grader sees passes, failures and stubs.
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from pathlib import Path

import nbformat

from lenet_helpers import lessons
from lenet_helpers.grading import Settings, grade_folder

LESSON = "01_convolution_c1"


def make_submissions(folder: Path, count: int) -> None:
    lesson = nbformat.read(lessons.LESSONS / f"{LESSON}.ipynb", as_version=4)
    solution = nbformat.read(lessons.SOLUTIONS / f"{LESSON}.ipynb", as_version=4)
    half = nbformat.read(lessons.SOLUTIONS / f"{LESSON}.ipynb", as_version=4)
    half.cells = [cell if cell.metadata.get("lenet", {}).get("exercise") in ("01-conv-output-size", "01-c1-size")
                  else nbformat.v4.new_markdown_cell("") for cell in half.cells]
    kinds = [lessons.fill_stubs(lesson, solution), lesson, lessons.fill_stubs(lesson, half)]
    for i in range(count):
        path = folder / f"student{i:02d}" / f"{LESSON}.ipynb"
        path.parent.mkdir(parents=True)
        path.write_text(lessons.dumps(kinds[i % 3]), encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--submissions", type=int, default=30)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()
    os.environ["LENET_FAST"] = "1"
    times: dict[bool, list[float]] = {True: [], False: []}
    with tempfile.TemporaryDirectory() as folder:
        make_submissions(Path(folder), args.submissions)
        for round_ in range(args.rounds):
            for sandboxed in ((True, False) if round_ % 2 == 0 else (False, True)):
                started = time.perf_counter()
                rows = grade_folder(Path(folder), Settings(jobs=args.jobs, sandboxed=sandboxed))
                times[sandboxed].append(time.perf_counter() - started)
                label = "sandboxed" if sandboxed else "no sandbox"
                print(f"round {round_ + 1}, {label}: {times[sandboxed][-1]:.1f} s, "
                      f"points {sum(r.points for r in rows)} of {sum(r.max_points for r in rows)}", flush=True)
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    for sandboxed, label in ((True, "sandboxed (bubblewrap)"), (False, "--no-sandbox")):
        best = min(times[sandboxed])
        print(f"{label:>24}: {args.submissions} submissions of {LESSON} with --jobs {args.jobs}: "
              f"fastest {best:.1f} s ({best / args.submissions:.2f} s per submission)")
    cost = min(times[True]) - min(times[False])
    print(f"sandbox cost: {cost:+.1f} s for {args.submissions} submissions "
          f"({cost / args.submissions:+.2f} s each, ratio {min(times[True]) / min(times[False]):.2f}x)")


if __name__ == "__main__":
    main()
