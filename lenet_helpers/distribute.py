"""What instructors hand out: the student release and nbgitpuller links (instructor guide).

    python -m lenet_helpers.lessons release DIR
    python -m lenet_helpers.lessons nbgitpuller-link --hub URL --repo URL [--branch main]

The release is a folder to publish as the students' repository: lessons/ (generated from
solutions/, stubs in, hidden tests out), the part of lenet_helpers/ the lessons import (no grader,
no lesson build or export code: nothing here reads solutions/), pyproject.toml and
environment.yml for pip, conda and Binder, and a README for students.
"""

from __future__ import annotations

import ast
import re
import shutil
import tomllib
from pathlib import Path
from urllib.parse import quote, urlencode, urlsplit

import nbformat

from lenet_helpers.lessons import LESSONS, ROOT, SOLUTIONS, CourseError, expected_lessons, notebook_paths

PACKAGE = ROOT / "lenet_helpers"
# Modules that read solutions/ or grade: never in a student's hands (checked, not just skipped).
INSTRUCTOR_ONLY = ("lessons", "nbgrader_export", "distribute", "grade", "grading")
# Packages the course needs for its own tests only.
NOT_FOR_STUDENTS = ("nbval",)
FIRST_LESSON = "lessons/00_setup_and_mnist.ipynb"


class ReleaseError(CourseError):
    """The release cannot be written as asked."""


# --- which modules students need ---------------------------------------------------------


def _imported_modules(source: str) -> set[str]:
    """Top-level lenet_helpers modules a piece of Python imports (anywhere, also inside functions)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:  # a notebook cell with IPython syntax: keep its plain import lines
        lines = [line for line in source.splitlines() if re.match(r"\s*(from|import)\s", line)]
        tree = ast.parse("\n".join(line.strip() for line in lines))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[1] for alias in node.names if alias.name.startswith("lenet_helpers.")}
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level == 0 and module == "lenet_helpers":
                found |= {alias.name for alias in node.names}
            elif node.level == 0 and module.startswith("lenet_helpers."):
                found.add(module.split(".")[1])
            elif node.level == 1:  # relative, inside the package
                found |= {module.split(".")[0]} if module else {alias.name for alias in node.names}
    return found


def _module_path(name: str, package: Path) -> Path | None:
    for candidate in (package / f"{name}.py", package / name / "__init__.py"):
        if candidate.exists():
            return candidate
    return None


def student_modules(lessons: Path = LESSONS, package: Path = PACKAGE) -> list[str]:
    """The package's modules the lessons import, directly or through each other (plus __init__)."""
    wanted = {"__init__"}
    for path in notebook_paths(lessons):
        for cell in nbformat.read(path, as_version=4).cells:
            if cell.cell_type == "code":
                wanted |= _imported_modules(cell.source)
    needed: set[str] = set()
    while wanted:
        name = wanted.pop()
        path = _module_path(name, package)
        if path is None or name in needed:
            continue  # e.g. `from lenet_helpers import __version__`: not a module
        needed.add(name)
        subpackage = path.name == "__init__.py" and path.parent != package
        for file in sorted(path.parent.rglob("*.py")) if subpackage else [path]:  # a subpackage: all its modules
            wanted |= _imported_modules(file.read_text(encoding="utf-8"))
    leaked = sorted(needed & set(INSTRUCTOR_ONLY))
    if leaked:
        raise ReleaseError(f"the lessons need instructor-only modules: {', '.join(leaked)}")
    return sorted(needed)


# --- the files of the release ------------------------------------------------------------


def _requirements(requirements: list[str]) -> list[str]:
    """A pyproject dependency list without the packages students do not need."""
    return [r for r in requirements if re.split(r"[<>=!~ ;\[]", r, maxsplit=1)[0].lower() not in NOT_FOR_STUDENTS]


def student_pyproject(packages: list[str]) -> str:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    dependencies = "".join(f'    "{r}",\n' for r in _requirements(project["dependencies"]))
    return f'''\
# The course's helper library, for students: `pip install -e .` (see README.md).
[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = "{project["name"]}"
version = "{project["version"]}"
description = "{project["description"]}"
readme = "README.md"
requires-python = "{project["requires-python"]}"
license = {{ text = "{project["license"]["text"]}" }}
dependencies = [
{dependencies}]

[tool.setuptools]
packages = [{", ".join(f'"{name}"' for name in packages)}]

[tool.setuptools.package-data]
lenet_helpers = ["resources/*.npz"]
'''


def student_environment() -> str:
    """The course's environment.yml (conda, Binder) without the packages students do not need."""
    text = (ROOT / "environment.yml").read_text(encoding="utf-8")
    body = text[text.index("name:"):]
    kept = [line for line in body.splitlines()
            if not re.match(rf"\s*-\s*({'|'.join(NOT_FOR_STUDENTS)})\b", line)]
    header = ("# Conda / Binder (repo2docker) environment for the LeNet-5 course.\n"
              "#   conda env create -f environment.yml && conda activate lenet5-course\n"
              "# repo2docker sees the local `-e .` below and installs this environment after copying\n"
              "# the repository, so Binder installs lenet_helpers too.\n")
    return header + "\n".join(kept) + "\n"


def _title(path: Path) -> str:
    first = nbformat.read(path, as_version=4).cells[0].source.splitlines()[0]
    return first.lstrip("# ").strip()


def student_readme(lesson_names: list[str], lessons: Path) -> str:
    rows = "".join(f"| `lessons/{name}` | {_title(lessons / name)} |\n" for name in lesson_names)
    return f"""\
# LeNet-5 in Keras, taught in JupyterLab

{len(lesson_names)} notebooks that take LeNet-5 (LeCun et al., 1998) apart and build it again in Keras.
They run on a laptop CPU, and offline: a sample of real MNIST digits ships with the course.

## Start

With conda:

```bash
conda env create -f environment.yml
conda activate lenet5-course
jupyter lab
```

Or with pip (Python 3.11 or 3.12):

```bash
python3 -m venv .venv
source .venv/bin/activate        # Windows: .venv\\Scripts\\activate
pip install -e .
jupyter lab
```

JupyterLab opens in your browser. In its file browser, open `lessons/` and start with
`00_setup_and_mnist.ipynb`: its Setup cell checks that everything is installed.

If your course runs on JupyterHub or Binder, your instructor gives you a link instead: it opens
the same lessons with everything installed.

## The lessons

| notebook | topic |
|---|---|
{rows}
An exercise is a code cell that says `# YOUR CODE HERE`: replace `raise NotImplementedError()`
with your answer, run the cell, then run the check cell right after it. A check prints a green
tick, or what was expected, what you gave and a hint.

Tip: keep your work in these notebooks, or copy a lesson before you change it; if you get the
lessons through a JupyterHub link, opening the link again brings new lessons and keeps your edits.
"""


GITIGNORE = """\
.venv/
__pycache__/
*.egg-info/
build/
.ipynb_checkpoints/
*.keras
"""


def write_release(target: Path, solutions: Path = SOLUTIONS) -> dict[str, list[str]]:
    """Write the student release into `target`; returns the lessons and modules written.

    `target/lessons` and `target/lenet_helpers` are replaced as a whole (they are generated);
    other files in `target` (a .git folder, say) are left alone, top-level files we write are
    overwritten.
    """
    target = target.resolve()
    if target == ROOT or (target / "solutions").exists() or ROOT.is_relative_to(target):
        raise ReleaseError(f"{target} holds (or is) the course itself; choose an empty or release folder")
    lessons = expected_lessons(solutions)
    for folder in ("lessons", "lenet_helpers"):
        if (target / folder).exists():
            shutil.rmtree(target / folder)
    (target / "lessons").mkdir(parents=True)
    for name, text in lessons.items():
        (target / "lessons" / name).write_text(text, encoding="utf-8")
    modules = student_modules(target / "lessons")
    package = target / "lenet_helpers"
    package.mkdir()
    for name in modules:
        source = _module_path(name, PACKAGE)
        if source.name == "__init__.py" and source.parent != PACKAGE:  # a subpackage
            shutil.copytree(source.parent, package / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copyfile(source, package / source.name)
    shutil.copytree(PACKAGE / "resources", package / "resources", ignore=shutil.ignore_patterns("__pycache__"))
    packages = sorted(".".join(init.parent.relative_to(target).parts) for init in package.rglob("__init__.py"))
    (target / "pyproject.toml").write_text(student_pyproject(packages), encoding="utf-8")
    (target / "environment.yml").write_text(student_environment(), encoding="utf-8")
    (target / "README.md").write_text(student_readme(sorted(lessons), target / "lessons"), encoding="utf-8")
    (target / ".gitignore").write_text(GITIGNORE, encoding="utf-8")
    return {"lessons": sorted(lessons), "modules": modules}


# --- nbgitpuller ---------------------------------------------------------------------------


def repo_dir(repo: str) -> str:
    """The folder nbgitpuller clones `repo` into: the repository's name."""
    name = urlsplit(repo).path.rstrip("/").rsplit("/", 1)[-1]
    name = name.removesuffix(".git")
    if not name:
        raise ReleaseError(f"cannot tell the repository's name from {repo!r}")
    return name


def nbgitpuller_link(hub: str, repo: str, branch: str = "main", path: str = FIRST_LESSON) -> str:
    """A JupyterHub link that clones (or updates) `repo` for the student and opens `path` in JupyterLab."""
    hub = hub.strip().rstrip("/")
    if "://" not in hub:
        hub = "https://" + hub
    query = urlencode({"repo": repo, "branch": branch, "urlpath": f"lab/tree/{repo_dir(repo)}/{path}"},
                      quote_via=quote, safe="")
    return f"{hub}/hub/user-redirect/git-pull?{query}"
