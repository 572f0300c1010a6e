"""pyproject.toml and environment.yml list the same packages; the Makefile and CI say what the README says."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~ ;\[]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


def _spec(requirement: str) -> str:
    return requirement.split("#")[0].strip().replace(" ", "")


def test_environment_matches_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = {_name(r): _spec(r) for r in project["dependencies"]}
    text = (ROOT / "environment.yml").read_text()
    dependencies = text[text.index("dependencies:"):]
    lines = [line.strip()[2:] for line in dependencies.splitlines()
             if line.strip().startswith("- ") and not line.strip().startswith("- pip:")]
    conda = {_name(r): _spec(r) for r in lines if _name(r) not in ("python", "pip", "-e")}
    assert "python=3.11" in [_spec(r) for r in lines]
    assert "-e." in [_spec(r) for r in lines]
    assert conda == wanted
    assert "tensorflow" in wanted and "torch" not in wanted and "tensorflow-cpu" not in wanted


def test_ci_and_readme_use_make_test():
    assert "make test" in (ROOT / ".ci" / "run").read_text()
    readme = (ROOT / "README.md").read_text()
    quick_start = readme[: readme.index("## Course map")]
    assert "make lab" in quick_start and "make test" in quick_start


def test_lab_is_loopback_with_a_token():
    from lenet_helpers.lab import lab_command

    command = lab_command("workspace", 8888, "secret-token")
    assert "--ServerApp.ip=127.0.0.1" in command and "--IdentityProvider.token=secret-token" in command
    assert "--ServerApp.root_dir=workspace" in command
    assert "--KernelManager.transport_encryption=auto" in command  # kernels talk encrypted (pinned pyzmq has Curve)


def test_course_kernels_start_encrypted_and_quiet(tmp_path, capfd):
    """ipykernel warns at every start of an unencrypted TCP kernel; `make solutions` and the grader
    start kernels with lab.kernel_config(), so an executed notebook runs and the warning is gone."""
    import nbformat

    from lenet_helpers import lessons

    path = tmp_path / "tiny.ipynb"
    path.write_text(lessons.dumps(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("print(6 * 7)")])))
    lessons.execute([path], timeout=120)
    assert nbformat.read(path, as_version=4).cells[0].outputs[0]["text"] == "42\n"
    assert "without encryption" not in capfd.readouterr().err


def test_every_subpackage_is_packaged():
    import fnmatch

    patterns = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]["find"]["include"]
    packages = [".".join(path.parent.relative_to(ROOT).parts) for path in (ROOT / "lenet_helpers").rglob("__init__.py")]
    assert {"lenet_helpers", "lenet_helpers.grading", "lenet_helpers.judges"} <= set(packages)
    assert all(any(fnmatch.fnmatch(package, pattern) for pattern in patterns) for package in packages)
