"""Benchmark: grade 30 submissions of lesson 01 and print how long it takes (not a test).

    python bench/grade_speed.py [--submissions 30] [--jobs N]

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

from lenet_helpers import grade, lessons

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
    args = parser.parse_args()
    os.environ["LENET_FAST"] = "1"
    with tempfile.TemporaryDirectory() as folder:
        make_submissions(Path(folder), args.submissions)
        started = time.perf_counter()
        rows = grade.grade_folder(Path(folder), jobs=args.jobs, progress=lambda *a: None)
        seconds = time.perf_counter() - started
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"graded {args.submissions} submissions of {LESSON} ({len(rows)} rows) with --jobs {args.jobs}: "
          f"{seconds:.1f} s ({seconds / args.submissions:.2f} s per submission)")
    print(f"points: {sum(r.points for r in rows)} of {sum(r.max_points for r in rows)}")


if __name__ == "__main__":
    main()
