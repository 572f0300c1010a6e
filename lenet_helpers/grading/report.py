"""What grading writes: the gradebook CSV, one feedback file per student, a summary (instructor guide)."""

from __future__ import annotations

import csv
import os
import re
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

COLUMNS = ["student", "lesson", "exercise", "points", "max_points", "status", "message"]
ICONS = {"passed": "\u2705", "failed": "\u274c", "error": "\u26a0\ufe0f"}
NO_SANDBOX = "Graded WITHOUT a sandbox (--no-sandbox): the submissions ran with the instructor's rights."


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


def write_feedback(rows: list[Row], folder: Path, note: str | None = None) -> list[Path]:
    """One Markdown file per student: per lesson, per exercise, points and the message they would see."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for student in sorted({row.student for row in rows}):
        mine = [row for row in rows if row.student == student]
        lines = [f"# Feedback for {student}", ""] + ([f"> {note}", ""] if note else [])
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
