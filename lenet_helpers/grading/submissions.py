"""Find the submissions in a folder and tell which lesson each one is (instructor guide)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import nbformat

SEPARATOR = "__"
MAX_NOTEBOOK_BYTES = 50_000_000


@dataclass
class Submission:
    """One student's notebook: who, where, and which lesson it matched (None when it matched none)."""

    student: str
    path: Path
    lesson: str | None


def find_submissions(folder: Path, lessons: list[str]) -> list[Submission]:
    """Every .ipynb under `folder` (`<student>/<NN_lesson>.ipynb` or `<student>__<NN_lesson>.ipynb`)."""
    found = []
    for path in sorted(folder.rglob("*.ipynb")):
        if ".ipynb_checkpoints" in path.parts or path.is_symlink():
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


def read_notebook(raw: bytes) -> nbformat.NotebookNode:
    """A submission's notebook from its bytes; ValueError with the reason when it is not one."""
    if len(raw) > MAX_NOTEBOOK_BYTES:
        raise ValueError(f"larger than {MAX_NOTEBOOK_BYTES // 1_000_000} MB")
    notebook = nbformat.reads(raw.decode("utf-8"), as_version=4)
    if not isinstance(notebook.get("cells"), list):
        raise ValueError("no list of cells")
    return notebook
