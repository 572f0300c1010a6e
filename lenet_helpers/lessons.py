"""solutions/ -> lessons/: one source of truth, nbgrader's markers (instructor guide).

    python -m lenet_helpers.lessons build        write lessons/ from solutions/
    python -m lenet_helpers.lessons check        exit 1 if lessons/ is stale
    python -m lenet_helpers.lessons execute      re-run solutions/ and keep their outputs
    python -m lenet_helpers.lessons workspace D  copy lessons/ into D, never overwriting
    python -m lenet_helpers.lessons nbgrader D   write an nbgrader course folder (lenet_helpers.nbgrader_export)
    python -m lenet_helpers.lessons release D    write the student release (lenet_helpers.distribute)
    python -m lenet_helpers.lessons nbgitpuller-link --hub URL --repo URL [--branch B]

In a solution, code between `### BEGIN SOLUTION` and `### END SOLUTION` becomes
`# YOUR CODE HERE` + `raise NotImplementedError()` in the lesson; code between
`### BEGIN HIDDEN TESTS` and `### END HIDDEN TESTS` disappears; outputs are cleared.
"""

from __future__ import annotations

import argparse
import copy
import shutil
import sys
from pathlib import Path

import nbformat

from lenet_helpers import lab

ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS, LESSONS = ROOT / "solutions", ROOT / "lessons"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"  # a live widget's output; its text/plain twin stays
BEGIN_SOLUTION, END_SOLUTION = "### BEGIN SOLUTION", "### END SOLUTION"
BEGIN_HIDDEN, END_HIDDEN = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"
STUB = ("# YOUR CODE HERE", "raise NotImplementedError()")
MARKDOWN_STUB = "YOUR ANSWER HERE"
KEPT_CELL_METADATA = ("tags", "lenet")


class CourseError(ValueError):
    """A problem in the course's files that a command reports in one line (no traceback)."""


class MarkerError(CourseError):
    """A solution cell whose BEGIN/END markers do not pair up."""


def split_blocks(source: str) -> list[tuple[str, list[str]]]:
    """Cut a cell into ("text" | "solution" | "hidden", lines) blocks by nbgrader's markers."""
    blocks: list[tuple[str, list[str]]] = [("text", [])]
    opening = {BEGIN_SOLUTION: "solution", BEGIN_HIDDEN: "hidden"}
    closing = {END_SOLUTION: "solution", END_HIDDEN: "hidden"}
    for number, line in enumerate(source.splitlines(), start=1):
        marker = line.strip()
        current = blocks[-1][0]
        if marker in opening:
            if current != "text":
                raise MarkerError(f"line {number}: {marker} inside an open {current} block")
            indent = line[: len(line) - len(line.lstrip())]
            blocks.append((opening[marker], [indent]))  # first item remembers the marker's indentation
        elif marker in closing:
            if current != closing[marker]:
                raise MarkerError(f"line {number}: {marker} without its BEGIN")
            blocks.append(("text", []))
        else:
            blocks[-1][1].append(line)
    if blocks[-1][0] != "text":
        raise MarkerError(f"a {blocks[-1][0]} block is never closed")
    return blocks


def student_source(source: str, cell_type: str = "code") -> str:
    """The lesson version of a solution cell's source: stubs in, hidden tests out."""
    lines: list[str] = []
    for kind, block in split_blocks(source):
        if kind == "text":
            lines.extend(block)
        elif kind == "solution":
            indent = block[0]
            lines.extend([indent + STUB[0], indent + STUB[1]] if cell_type == "code" else [MARKDOWN_STUB])
    return "\n".join(lines)


def without_hidden_tests(source: str) -> str:
    """A solution cell's source with the markers and hidden tests removed (what graders and tests run)."""
    return "\n".join(line for kind, block in split_blocks(source) if kind != "hidden"
                     for line in (block[1:] if kind == "solution" else block))


def solution_blocks(source: str) -> list[list[str]]:
    """The code of each solution block in a cell, in order."""
    return [block[1:] for kind, block in split_blocks(source) if kind == "solution"]


def clean_metadata(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Keep only what a notebook needs: kernelspec, language, tags and our exercise metadata."""
    nb.metadata = nbformat.from_dict({
        key: nb.metadata[key] for key in ("kernelspec", "language_info") if key in nb.metadata
    })
    if "language_info" in nb.metadata:
        nb.metadata.language_info = nbformat.from_dict({"name": "python"})
    for cell in nb.cells:
        cell.metadata = nbformat.from_dict({k: cell.metadata[k] for k in KEPT_CELL_METADATA if k in cell.metadata})
    return nb


def without_widget_views(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Drop saved widget views: their model ids change on every run and point at a kernel that is gone."""
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            output.get("data", {}).pop(WIDGET_VIEW, None)
    return nb


def make_lesson(solution: nbformat.NotebookNode, name: str = "notebook") -> nbformat.NotebookNode:
    """The student notebook for a solution notebook: stubs, no hidden tests, no outputs."""
    lesson = clean_metadata(copy.deepcopy(solution))
    for index, cell in enumerate(lesson.cells):
        try:
            cell.source = student_source(cell.source, cell.cell_type)
        except MarkerError as error:
            raise MarkerError(f"{name}, cell {index}: {error}") from None
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    return lesson


def fill_stubs(lesson: nbformat.NotebookNode, solution: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Put the solution blocks back into a lesson's stubs, cell by cell (matched by cell id)."""
    blocks_by_id = {cell.get("id"): solution_blocks(cell.source) for cell in solution.cells}
    filled = copy.deepcopy(lesson)
    for cell in filled.cells:
        blocks = list(blocks_by_id.get(cell.get("id"), []))
        lines, source = [], cell.source.splitlines()
        i = 0
        while i < len(source):
            if source[i].strip() == STUB[0] and i + 1 < len(source) and source[i + 1].strip() == STUB[1] and blocks:
                lines.extend(blocks.pop(0))
                i += 2
            else:
                lines.append(source[i])
                i += 1
        cell.source = "\n".join(lines)
    return filled


def dumps(nb: nbformat.NotebookNode) -> str:
    """The exact text we write for a notebook (stable, so `check` can compare bytes)."""
    return nbformat.writes(nb) + "\n"


def notebook_paths(folder: Path = SOLUTIONS) -> list[Path]:
    return sorted(folder.glob("[0-9][0-9]_*.ipynb"))


def expected_lessons(solutions: Path = SOLUTIONS) -> dict[str, str]:
    """Lesson file name -> the text it should have."""
    return {path.name: dumps(make_lesson(nbformat.read(path, as_version=4), path.name))
            for path in notebook_paths(solutions)}


def build(solutions: Path = SOLUTIONS, lessons: Path = LESSONS) -> list[str]:
    """Write every lesson from its solution; returns the names written (`make lessons`)."""
    lessons.mkdir(exist_ok=True)
    expected = expected_lessons(solutions)
    for name, text in expected.items():
        (lessons / name).write_text(text, encoding="utf-8")
    for stale in set(p.name for p in notebook_paths(lessons)) - set(expected):
        (lessons / stale).unlink()
    return sorted(expected)


def stale_lessons(solutions: Path = SOLUTIONS, lessons: Path = LESSONS) -> list[str]:
    """Lessons that are missing, out of date, or have no solution any more."""
    expected = expected_lessons(solutions)
    problems = [name for name, text in expected.items()
                if not (lessons / name).exists() or (lessons / name).read_text(encoding="utf-8") != text]
    problems += [p.name for p in notebook_paths(lessons) if p.name not in expected]
    return sorted(problems)


def execute(paths: list[Path], timeout: int = 1800) -> None:
    """Run solution notebooks top to bottom in their folder and save them with their outputs (`make solutions`)."""
    from nbclient import NotebookClient

    for path in paths:
        print(f"executing {path.name} ...", flush=True)
        nb = nbformat.read(path, as_version=4)
        NotebookClient(nb, timeout=timeout, kernel_name="python3", record_timing=False,
                       resources={"metadata": {"path": str(path.parent)}}, config=lab.kernel_config()).execute()
        path.write_text(dumps(without_widget_views(clean_metadata(nb))), encoding="utf-8")


def copy_to_workspace(workspace: Path, lessons: Path = LESSONS) -> list[str]:
    """Copy lessons the student does not have yet into their workspace; never overwrite (`make lab`)."""
    workspace.mkdir(parents=True, exist_ok=True)
    added = []
    for path in notebook_paths(lessons):
        target = workspace / path.name
        if not target.exists():
            shutil.copyfile(path, target)
            added.append(path.name)
    return added


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lenet_helpers.lessons", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("build", help="write lessons/ from solutions/")
    sub.add_parser("check", help="exit 1 if lessons/ is stale")
    run = sub.add_parser("execute", help="re-run solutions and keep their outputs")
    run.add_argument("notebooks", nargs="*", type=Path, help="default: every solution")
    space = sub.add_parser("workspace", help="copy new lessons into a workspace folder")
    space.add_argument("folder", type=Path)
    course = sub.add_parser("nbgrader", help="write an nbgrader course folder (config + source/<lesson>/)")
    course.add_argument("folder", type=Path)
    release = sub.add_parser("release", help="write what students get: lessons, helper library, README")
    release.add_argument("folder", type=Path)
    link = sub.add_parser("nbgitpuller-link", help="print a JupyterHub link that pulls the repo and opens lesson 00")
    link.add_argument("--hub", required=True, help="the JupyterHub's address, e.g. https://hub.example.edu")
    link.add_argument("--repo", required=True, help="the students' git repository, e.g. https://github.com/me/lenet5")
    link.add_argument("--branch", default="main")
    args = parser.parse_args(argv)
    try:
        if args.command == "build":
            print(f"wrote {len(build())} lessons to {LESSONS}")
        elif args.command == "check":
            stale = stale_lessons()
            if stale:
                print(f"lessons/ is stale: {', '.join(stale)}. Run `make lessons` and commit the result.")
                return 1
            print(f"lessons/ is up to date ({len(notebook_paths(LESSONS))} lessons).")
        elif args.command == "execute":
            execute(args.notebooks or notebook_paths())
        elif args.command == "workspace":
            added = copy_to_workspace(args.folder)
            kept = len(notebook_paths(args.folder)) - len(added)
            print(f"workspace {args.folder}: added {len(added)} new lessons, kept {kept} of yours untouched.")
        elif args.command == "nbgrader":
            from lenet_helpers.nbgrader_export import export_course

            names = export_course(args.folder)
            print(f"nbgrader course {args.folder}: nbgrader_config.py and {len(names)} assignments in source/. "
                  f"Next: cd {args.folder} && nbgrader generate_assignment {names[0]}")
        elif args.command == "release":
            from lenet_helpers.distribute import write_release

            written = write_release(args.folder)
            print(f"release {args.folder}: {len(written['lessons'])} lessons, lenet_helpers with "
                  f"{', '.join(written['modules'])}; README.md, pyproject.toml, environment.yml.")
        elif args.command == "nbgitpuller-link":
            from lenet_helpers.distribute import nbgitpuller_link

            print(nbgitpuller_link(args.hub, args.repo, args.branch))
    except CourseError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    # Run the imported module's main, not this __main__ copy: the export and release modules import
    # lenet_helpers.lessons, and their errors must be the CourseError that main() catches.
    from lenet_helpers.lessons import main as lessons_main

    sys.exit(lessons_main())
