"""The student release and the ways courses hand it out: nbgitpuller links, Binder, GitHub Actions.

`python -m lenet_helpers.lessons release DIR` writes what students get. It must hold no solution
code and no hidden test, and a fresh virtual environment made from it must run lesson 00's Setup.
"""

from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tomllib
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import nbformat
import pytest
import yaml

from lenet_helpers import distribute, lessons

ROOT = Path(__file__).resolve().parent.parent
# The judges (lenet_helpers/judges) are the self-checks' answer key: they compute what a check
# expects, in the student's kernel, so a student has them by design (DESIGN.md: the checks and
# the grader share the judges). Their reference code may repeat solution lines; they are exempt
# from the solution-line rule, not from the marker and hidden-case rules.
ANSWER_KEY = ("lenet_helpers/judges/", "lenet_helpers/judges.py")
# Elsewhere in the library, solution lines the lessons need, listed one by one: a lesson has the
# student write something, then uses the library's version (`shapes.conv_output_size` from
# lesson 02 on, `shapes.receptive_fields` in lesson 04, `models.seed_lenet5()` in the
# build-and-train lesson). Any other solution line found in the release fails the test, so each
# new one is a decision. The README says these are readable.
LIBRARY_ANSWERS = {
    "return (width - kernel + 2 * padding) // stride + 1",  # shapes.conv_output_size
    "field += (kernel - 1) * step",  # shapes.receptive_fields
    "step *= stride",
    "layers = keras.layers",  # models.seed_lenet5
    'layers.Conv2D(6, kernel_size=5, padding="same", activation="tanh", name="C1"),',
    'layers.AveragePooling2D(pool_size=2, strides=2, name="S2"),',
    'layers.Conv2D(16, kernel_size=5, activation="tanh", name="C3"),',
    'layers.AveragePooling2D(pool_size=2, strides=2, name="S4"),',
    'layers.Conv2D(120, kernel_size=5, activation="tanh", name="C5"),',
    'layers.Flatten(name="flatten"),',
    'layers.Dense(84, activation="tanh", name="F6"),',
    'layers.Dense(10, activation="softmax", name="output"),',
    "ax.set_ylabel(metric)",  # plots.plot_history: lesson 07 uses the library's after 06 has students write one
}
# Lessons are compared with what solutions/ generates now (lessons/ may be stale mid-edit; the
# lessons tests catch that).


@pytest.fixture(scope="module")
def release(tmp_path_factory):
    folder = tmp_path_factory.mktemp("release") / "lenet5-course"
    made = subprocess.run([sys.executable, "-m", "lenet_helpers.lessons", "release", str(folder)],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert made.returncode == 0, made.stdout + made.stderr
    return folder


def release_texts(folder: Path) -> dict[str, str]:
    """Every text the release holds, by relative path (a notebook's text = its cells' sources)."""
    texts = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        relative = path.relative_to(folder).as_posix()
        if path.suffix == ".ipynb":
            texts[relative] = "\n".join(cell.source for cell in nbformat.read(path, as_version=4).cells)
        elif path.suffix != ".npz":
            texts[relative] = path.read_text(encoding="utf-8")
    return texts


def blocks(kind: str) -> list[list[str]]:
    paths = lessons.notebook_paths(lessons.SOLUTIONS)
    cells = [cell for path in paths for cell in nbformat.read(path, as_version=4).cells]
    return [block[1:] for cell in cells for found, block in lessons.split_blocks(cell.source) if found == kind]


# --- what the release holds -------------------------------------------------------------------


def test_release_layout(release):
    assert sorted(p.name for p in (release / "lessons").iterdir()) == sorted(lessons.expected_lessons())
    expected = lessons.expected_lessons()
    for path in (release / "lessons").iterdir():  # the lessons students get: generated from solutions/
        assert path.read_text(encoding="utf-8") == expected[path.name]
    package = {p.relative_to(release / "lenet_helpers").as_posix() for p in (release / "lenet_helpers").rglob("*")}
    assert {"__init__.py", "checks.py", "data.py", "resources/mnist_sample.npz"} <= package
    for instructor_only in ("grade.py", "grading", "lessons.py", "nbgrader_export.py", "distribute.py"):
        assert instructor_only not in package
    assert not (release / "solutions").exists() and not (release / "tests").exists()
    readme = (release / "README.md").read_text(encoding="utf-8")
    for needed in ("conda env create -f environment.yml", "pip install -e .", "jupyter lab", "lessons/"):
        assert needed in readme


def test_release_modules_cover_every_lesson_import(release):
    """Every lenet_helpers module a lesson imports, directly or through another module, is shipped."""
    package = release / "lenet_helpers"
    shipped = {p.stem for p in package.glob("*.py")} | {p.parent.name for p in package.glob("*/__init__.py")}
    imported = set()
    for path in (release / "lessons").iterdir():
        for cell in nbformat.read(path, as_version=4).cells:
            imported |= set(re.findall(r"from lenet_helpers\.(\w+) import", cell.source))
            for names in re.findall(r"from lenet_helpers import ([\w, ]+)", cell.source):
                imported |= {name.split()[0] for name in names.split(",") if name.strip()}  # `x as y` -> x
    assert imported and imported <= shipped
    for module in package.rglob("*.py"):  # and what those modules import in turn
        source = module.read_text(encoding="utf-8")
        assert set(re.findall(r"(?:from|import) lenet_helpers\.(\w+)", source)) <= shipped, module


def test_release_holds_no_solution_code_and_no_hidden_tests(release):
    texts = release_texts(release)
    lesson_lines = {line.strip() for text in lessons.expected_lessons().values()
                    for cell in nbformat.reads(text, as_version=4).cells for line in cell.source.splitlines()}
    # Lines shorter than 12 characters (`else:`, `return x`, `pass`) say nothing about an answer.
    secret = {line.strip() for block in blocks("solution") for line in block
              if len(line.strip()) >= 12} - lesson_lines
    hidden = {line.strip() for block in blocks("hidden") for line in block} - {""}
    cases = [match for block in blocks("hidden") for line in block for match in re.findall(r"cases=(\[.*\])", line)]
    assert secret and hidden and cases
    for relative, text in texts.items():
        for marker in ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS"):
            assert marker not in text, (relative, marker)
        lines = {line.strip() for line in text.splitlines()}
        if relative.startswith(ANSWER_KEY):
            leaked = set()
        else:
            leaked = (secret & lines) - (LIBRARY_ANSWERS if relative.startswith("lenet_helpers/") else set())
        assert not leaked, (f"{relative} holds solution lines {sorted(leaked)}: take them out of what students get, "
                            "or, if the library really needs them, list them in LIBRARY_ANSWERS with the reason")
        assert not hidden & lines, relative
        flat = re.sub(r"\s+", "", text)
        for literal in cases:
            assert re.sub(r"\s+", "", literal) not in flat, (relative, literal)
            for case in ast.literal_eval(literal):  # nor any single hidden case
                assert re.sub(r"\s+", "", repr(case)) not in flat, (relative, case)


def test_release_packages_match_between_pip_and_conda(release):
    def name(requirement):
        return re.split(r"[<>=!~ ;\[]", requirement.strip(), maxsplit=1)[0].lower()

    project = tomllib.loads((release / "pyproject.toml").read_text(encoding="utf-8"))
    environment = yaml.safe_load((release / "environment.yml").read_text(encoding="utf-8"))
    conda = {name(d) for d in environment["dependencies"] if isinstance(d, str)} - {"python", "pip"}
    pip = [d for entry in environment["dependencies"] if isinstance(entry, dict) for d in entry["pip"]]
    pip_names = {name(d) for d in pip if not d.startswith("-e")}
    assert conda | pip_names == {name(d) for d in project["project"]["dependencies"]}
    assert "-e ." in pip and "python=3.11" in environment["dependencies"]
    assert "optional-dependencies" not in project["project"] and "nbval" not in str(project)
    assert project["tool"]["setuptools"]["package-data"] == {"lenet_helpers": ["resources/*.npz"]}


def test_release_refuses_to_overwrite_the_course():
    with pytest.raises(distribute.ReleaseError):
        distribute.write_release(ROOT)


def test_release_into_a_student_repo_replaces_generated_folders_only(tmp_path):
    """`make release RELEASE=../student-repo` in a clone: its .git stays, stale generated files go."""
    target = tmp_path / "student-repo"
    (target / ".git").mkdir(parents=True)
    (target / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    for stale in ("lessons/99_removed_lesson.ipynb", "lenet_helpers/grade.py"):
        (target / stale).parent.mkdir(exist_ok=True)
        (target / stale).write_text("old")
    written = distribute.write_release(target)
    assert (target / ".git" / "HEAD").read_text() == "ref: refs/heads/main\n"
    assert not (target / "lessons" / "99_removed_lesson.ipynb").exists()
    assert not (target / "lenet_helpers" / "grade.py").exists()
    assert written["lessons"] == sorted(lessons.expected_lessons()) and "checks" in written["modules"]


def test_fresh_venv_from_the_release_runs_lesson_00_setup(release, tmp_path):
    """Install the release into a fresh venv and run lesson 00's Setup cell with that venv's python.

    Installing TensorFlow & co. from PyPI would take minutes and the network, so the venv borrows
    the course venv's third-party packages: a .pth file puts the course's site-packages on its
    path (a plain path line: .pth files *inside* that folder, such as the course's editable
    install of lenet_helpers, are not processed). lenet_helpers itself comes only from the
    release, installed with pip (not editable: the package data must install too). The Setup cell
    runs as plain Python (`python -c`) rather than through a kernel, so no kernelspec is needed.
    """
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    python = venv / "bin" / "python"
    site = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          check=True, capture_output=True, text=True).stdout.strip()
    (Path(site) / "course-venv.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    clean_env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    source = shutil.copytree(release, tmp_path / "release")  # pip builds in place (build/, *.egg-info)
    installed = subprocess.run([python, "-m", "pip", "install", "--no-deps", "--no-build-isolation", "--no-index",
                                "--disable-pip-version-check", str(source)],
                               env=clean_env, capture_output=True, text=True, timeout=600)
    assert installed.returncode == 0, installed.stdout[-3000:] + installed.stderr[-3000:]

    notebook = nbformat.read(release / "lessons" / "00_setup_and_mnist.ipynb", as_version=4)
    setup = next(cell for cell in notebook.cells if cell.cell_type == "code")
    assert "runtime.setup_lesson()" in setup.source
    probe = ("\nimport importlib.util, lenet_helpers\n"
             "print('FROM', lenet_helpers.__file__)\n"
             "print('INSTRUCTOR', [m for m in ('grade', 'grading', 'lessons', 'nbgrader_export', 'distribute')"
             " if importlib.util.find_spec('lenet_helpers.' + m)])\n")
    run = subprocess.run([python, "-c", setup.source + probe], cwd=release / "lessons", capture_output=True,
                         text=True, timeout=600,
                         env={**clean_env, "LENET_FAST": "1", "MPLBACKEND": "Agg", "KERAS_HOME": str(tmp_path / "k")})
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    lines = run.stdout.splitlines()
    versions = next(line for line in lines if line.startswith("python "))
    assert re.match(r"python 3\.\d+\.\d+, tensorflow \d+\.\d+\.\d+, keras \d", versions)
    assert "not installed" not in versions
    assert "FAST" in run.stdout  # LENET_FAST=1 reached it
    origin = next(line for line in lines if line.startswith("FROM ")).removeprefix("FROM ")
    assert Path(origin).is_relative_to(venv)  # the release's package, not the course's
    assert "INSTRUCTOR []" in lines


# --- handing it out -------------------------------------------------------------------------


def test_nbgitpuller_link(capsys):
    link = distribute.nbgitpuller_link("hub.example.edu/", "https://github.com/teacher/lenet5-course.git")
    assert link == ("https://hub.example.edu/hub/user-redirect/git-pull?"
                    "repo=https%3A%2F%2Fgithub.com%2Fteacher%2Flenet5-course.git&branch=main"
                    "&urlpath=lab%2Ftree%2Flenet5-course%2Flessons%2F00_setup_and_mnist.ipynb")
    assert lessons.main(["nbgitpuller-link", "--hub", "http://127.0.0.1:8000", "--repo",
                         "https://gitlab.example.edu/cs/lenet5/", "--branch", "spring/2027"]) == 0
    printed = capsys.readouterr().out.strip()
    parts = urlsplit(printed)
    assert (parts.scheme, parts.netloc, parts.path) == ("http", "127.0.0.1:8000", "/hub/user-redirect/git-pull")
    assert parse_qs(parts.query) == {"repo": ["https://gitlab.example.edu/cs/lenet5/"], "branch": ["spring/2027"],
                                     "urlpath": ["lab/tree/lenet5/lessons/00_setup_and_mnist.ipynb"]}
    assert (ROOT / distribute.FIRST_LESSON).exists()


@pytest.mark.parametrize("where", ["course", "release"])
def test_binder_builds_from_environment_yml(where, release):
    """repo2docker reads binder/ or .binder/ if present, else the root's environment.yml. Its conda
    buildpack sees a local pip requirement (`-e .`) and then installs the environment after copying
    the repository (repo2docker's CondaBuildPack._should_preassemble_env), so `-e .` needs no postBuild."""
    folder = ROOT if where == "course" else release
    assert not (folder / "binder").exists() and not (folder / ".binder").exists()  # they would hide environment.yml
    environment = yaml.safe_load((folder / "environment.yml").read_text(encoding="utf-8"))
    pip = [d for entry in environment["dependencies"] if isinstance(entry, dict) for d in entry["pip"]]
    assert "-e ." in pip and "python=3.11" in environment["dependencies"]
    assert (folder / "pyproject.toml").exists()


def test_github_workflow_runs_ci_entry_point():
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "ci.yml").read_text(encoding="utf-8"))
    triggers = workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` as true
    assert {"push", "pull_request"} <= set(triggers)
    (job,) = workflow["jobs"].values()
    assert "ubuntu" in job["runs-on"]
    python = str(job.get("container", {}).get("image", "")) + str(
        [step.get("with", {}).get("python-version") for step in job["steps"]])
    assert "3.11" in python
    assert any(step.get("uses", "").startswith("actions/checkout@") for step in job["steps"])
    assert [step["run"].strip() for step in job["steps"] if "run" in step][-1] == "bash .ci/run"
    assert "make test" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def test_make_targets_call_the_commands():
    dry = subprocess.run(["make", "-n", "nbgrader", "release", "COURSE=c1", "RELEASE=r1"],
                         cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert dry.returncode == 0, dry.stderr
    assert "-m lenet_helpers.lessons nbgrader c1" in dry.stdout
    assert "-m lenet_helpers.lessons release r1" in dry.stdout
