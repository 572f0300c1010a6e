"""One bubblewrap sandbox per submission (instructor guide: what the grader protects).

Inside: a read-only view of the system folders and of the Python environment, the course's
package folder (but not the repository: no solutions/, no other submission, no gradebook),
a private scratch folder as HOME, a private /tmp, no network, its own PID namespace (so
nothing it starts outlives it) and limits on memory, processes and file size. As root, the
submission runs as an unprivileged user of its own; otherwise, in a user namespace.
"""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

SANDBOX_HOME = "/sandbox/home"  # a path no real folder of the instructor is likely to have
FIRST_UID = 65533  # as root: sandbox slot k runs as uid/gid 65533 - k (Debian reserves 65000-65533, unused)
SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc")
HOW_TO_GET = ("install bubblewrap (Debian/Ubuntu: `sudo apt-get install bubblewrap`; Fedora: `sudo dnf install "
              "bubblewrap`; Arch: `sudo pacman -S bubblewrap`), or grade on a Linux machine that has it; "
              "or pass --no-sandbox to grade without one (stated in the summary and in every student's feedback).")
LOG_TAIL = 16_000


class SandboxUnavailable(RuntimeError):
    """bubblewrap is missing or cannot create a sandbox here; the message says how to get one."""


@dataclass(frozen=True)
class Limits:
    """What one submission may use (`--memory-limit` and friends)."""

    memory: int = 4 * 2**30  # private memory of any one process, bytes
    processes: int = 256  # processes and threads at once
    file_size: int = 256 * 2**20  # any one file it writes, bytes


@dataclass(frozen=True)
class Finished:
    """How a sandboxed run ended: exit code, whether the grader had to stop it, the end of its log."""

    returncode: int
    timed_out: bool
    log: str


def python_dirs() -> list[Path]:
    """The folders the Python environment lives in (the venv, its base interpreter, the package)."""
    import lenet_helpers

    found = {Path(sys.prefix), Path(sys.base_prefix), Path(sys.exec_prefix),
             Path(os.path.realpath(sys.executable)).parent.parent, Path(lenet_helpers.__file__).resolve().parent}
    return sorted(path.resolve() for path in found if path.exists())


def _covered(path: Path, binds: list[Path]) -> bool:
    return any(path == bind or bind in path.parents for bind in binds)


def command(home: Path, argv: list[str], as_root: bool) -> list[str]:
    """The bwrap command line that runs `argv` in a sandbox whose HOME is the scratch folder `home`."""
    args = ["bwrap", "--die-with-parent", "--new-session", "--unshare-pid", "--unshare-net", "--unshare-ipc",
            "--unshare-uts", "--unshare-cgroup-try"]
    if not as_root:
        args.append("--unshare-user")
    args += ["--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp"]  # first: binds below may lie inside /tmp
    for name in SYSTEM_DIRS:
        if os.path.islink(name):
            args += ["--symlink", os.readlink(name), name]
        elif os.path.isdir(name):
            args += ["--ro-bind", name, name]
    system = [Path(name) for name in SYSTEM_DIRS]
    made: set[Path] = {Path("/"), Path("/tmp")}
    for path in python_dirs():
        if _covered(path, system):
            continue
        for parent in reversed(path.parents):  # bwrap would make them 0700; the submission's user must pass through
            if parent not in made and not _covered(parent, system):
                args += ["--perms", "0755", "--dir", str(parent)]
                made.add(parent)
        args += ["--ro-bind", str(path), str(path)]
    args += ["--perms", "0755", "--dir", str(Path(SANDBOX_HOME).parent), "--bind", str(home), SANDBOX_HOME,
             "--chdir", f"{SANDBOX_HOME}/work",
             "--clearenv", "--setenv", "HOME", SANDBOX_HOME, "--setenv", "LANG", "C.UTF-8",
             "--setenv", "PATH", f"{Path(sys.executable).parent}:/usr/local/bin:/usr/bin:/bin",
             "--setenv", "MPLBACKEND", "Agg", "--hostname", "sandbox", "--"]
    return args + argv


def exposed(paths: list[Path]) -> list[Path]:
    """Which of `paths` (solutions, submissions, gradebook) the sandbox would see: must be none."""
    binds = [Path(name) for name in SYSTEM_DIRS if os.path.isdir(name) and not os.path.islink(name)] + python_dirs()
    return [path for path in paths if _covered(path.resolve(), binds)]


def check_available() -> None:
    """Raise SandboxUnavailable, saying how to get bubblewrap, unless a sandbox can be made here."""
    if platform.system() != "Linux":
        raise SandboxUnavailable(f"the grader's sandbox (bubblewrap) needs Linux, this is {platform.system()}: "
                                 + HOW_TO_GET)
    if shutil.which("bwrap") is None:
        raise SandboxUnavailable("bubblewrap (`bwrap`) is not installed: " + HOW_TO_GET)
    with tempfile.TemporaryDirectory(prefix="lenet-sandbox-check-") as home:
        (Path(home) / "work").mkdir()
        probe = command(Path(home), [sys.executable, "-c", "pass"], os.geteuid() == 0)
        result = subprocess.run(probe, capture_output=True, text=True, timeout=60)
    if result.returncode != 0:
        raise SandboxUnavailable("bubblewrap is installed but cannot make a sandbox here "
                                 f"({result.stderr.strip()[:300]}); in a container, user namespaces may be "
                                 "switched off. " + HOW_TO_GET)


def _drain(stream, keep: list[bytes]) -> None:
    """Read a child's output to the end, keeping only its tail: a flood costs neither memory nor disk."""
    tail = b""
    for chunk in iter(lambda: stream.read(65536), b""):
        tail = (tail + chunk)[-LOG_TAIL:]
    keep.append(tail)


def run(argv: list[str], home: Path, timeout: float, sandboxed: bool, as_root: bool) -> Finished:
    """Run `argv` (the runner) in a sandbox, or plainly with `sandboxed=False`; stop it after `timeout` s."""
    if sandboxed:
        argv = command(home, argv, as_root)
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
        cwd = None
    else:
        env = {**os.environ, "HOME": str(home), "MPLBACKEND": "Agg"}
        cwd = home / "work"
    process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               env=env, cwd=cwd, start_new_session=True)
    kept: list[bytes] = []
    reader = threading.Thread(target=_drain, args=(process.stdout, kept), daemon=True)
    reader.start()
    timed_out = False
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
    finally:
        _kill_group(process.pid)
        process.wait()
    reader.join(timeout=10)
    return Finished(process.returncode, timed_out, (kept[0] if kept else b"").decode(errors="replace"))


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, 9)
    except (ProcessLookupError, PermissionError):
        pass
