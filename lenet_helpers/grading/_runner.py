"""Runs one submission's notebook inside the sandbox: limits, then the cells, one by one (instructor guide).

Started by the grader as a plain script (it imports nothing from lenet_helpers, so it starts in
a fraction of a second). It sets the resource limits, gives up root if it has it, starts a
kernel in the scratch folder and runs the cells with a deadline each. It records only each
cell's status in out/cells.json; the answers are written by the probe cells themselves. The
grader trusts none of it: everything here runs next to the submission.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path


def set_limits(memory: int, processes: int, file_size: int) -> None:
    """Memory (private data) per process, processes and threads, size of any file written; no core dumps."""
    for limit, value in ((resource.RLIMIT_DATA, memory), (resource.RLIMIT_NPROC, processes),
                         (resource.RLIMIT_FSIZE, file_size), (resource.RLIMIT_CORE, 0)):
        resource.setrlimit(limit, (value, value))


def drop_root(uid: int, gid: int) -> None:
    os.setgroups([])
    os.setgid(gid)
    os.setuid(uid)
    if os.getuid() == 0 or os.geteuid() == 0:
        raise SystemExit("could not give up root")


def write_status(path: Path, cells: list[dict], reason: str | None) -> None:
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps({"cells": cells, "reason": reason}), encoding="utf-8")
    os.replace(temporary, path)


def short(text) -> str:
    text = str(text).replace("\n", " ").strip()
    return text[:300]


def run(io: Path, cell_timeout: int, notebook_timeout: int, kernel_settings: dict) -> None:
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError
    from traitlets.config import Config

    class QuietClient(NotebookClient):
        def output(self, outs, msg, display_id, cell_index):
            return None  # outputs are never kept: a flood cannot fill the runner's memory

    nb = nbformat.read(io / "run.ipynb", as_version=4)
    status_path = io / "out" / "cells.json"
    env = {**os.environ, "LENET_FAST": "1", "LENET_GRADING_DIR": str(io)}
    client = QuietClient(nb, timeout=cell_timeout, kernel_name="python3", allow_errors=False,
                         resources={"metadata": {"path": os.getcwd()}}, record_timing=False,
                         shutdown_kernel="immediate", config=Config({"KernelManager": kernel_settings}))
    cells: list[dict] = []
    reason = None
    deadline = time.monotonic() + notebook_timeout
    try:
        with client.setup_kernel(env=env, cwd=os.getcwd(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL):
            for index, cell in enumerate(nb.cells):
                left = deadline - time.monotonic()
                if left <= 0:
                    reason = f"the notebook ran longer than {notebook_timeout} s"
                    break
                client.timeout = int(max(1, min(cell_timeout, left)))
                entry = {"index": index, "status": "ok", "message": ""}
                try:
                    client.execute_cell(cell, index)
                except CellTimeoutError:
                    entry.update(status="timeout",
                                 message=f"a cell ran longer than {client.timeout} s (infinite loop?)")
                    reason = "stopped after a cell timed out"
                except DeadKernelError:
                    entry.update(status="dead", message="the kernel died (os._exit, a crash, or out of memory)")
                    reason = "the kernel died"
                except CellExecutionError as error:
                    entry.update(status=short(getattr(error, "ename", "Error")),
                                 message=short(getattr(error, "evalue", error)))
                cell.outputs = []
                cells.append(entry)
                write_status(status_path, cells, reason)
                if reason:
                    break
    except DeadKernelError:
        reason = "the kernel died"
    except Exception as error:  # the kernel could not start or stop: the grader still writes a row per exercise
        reason = f"the notebook could not be run: {short(error)}"
    write_status(status_path, cells, reason)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("io", type=Path)
    parser.add_argument("--cell-timeout", type=int, required=True)
    parser.add_argument("--notebook-timeout", type=int, required=True)
    parser.add_argument("--memory", type=int, required=True)
    parser.add_argument("--processes", type=int, required=True)
    parser.add_argument("--file-size", type=int, required=True)
    parser.add_argument("--uid", type=int)
    parser.add_argument("--gid", type=int)
    parser.add_argument("--kernel-settings", default="{}")
    args = parser.parse_args()
    set_limits(args.memory, args.processes, args.file_size)
    if args.uid is not None:
        drop_root(args.uid, args.gid if args.gid is not None else args.uid)
    os.umask(0o077)
    run(args.io, args.cell_timeout, args.notebook_timeout, json.loads(args.kernel_settings))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
