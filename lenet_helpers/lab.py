"""`make lab`: start JupyterLab on the student's workspace, on 127.0.0.1, with a fresh token."""

from __future__ import annotations

import argparse
import os
import secrets
import sys

from traitlets.config import Config


def kernel_settings() -> dict[str, str]:
    """KernelManager settings for every kernel the course starts (`make lab`, `make solutions`, `make grade`).

    Where Jupyter and pyzmq support it, kernels talk over encrypted sockets; ipykernel otherwise
    warns at every start that its local TCP traffic is plain text.
    """
    import zmq
    from jupyter_client.manager import KernelManager

    if "transport_encryption" in KernelManager.class_trait_names() and zmq.has("curve"):
        return {"transport_encryption": "auto"}
    return {}


def kernel_config() -> Config:
    """The same settings as a traitlets Config, for nbclient's NotebookClient."""

    return Config({"KernelManager": kernel_settings()})


def lab_command(directory: str, port: int, token: str) -> list[str]:
    """The `jupyter lab` command line: loopback only, token required, no browser (lesson 00)."""
    command = [
        sys.executable, "-m", "jupyter", "lab",
        "--no-browser",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",  # fail clearly instead of moving to a port we did not print
        f"--ServerApp.root_dir={directory}",
        f"--IdentityProvider.token={token}",
        *(f"--KernelManager.{name}={value}" for name, value in kernel_settings().items()),
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")
    return command


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dir", default="workspace", help="folder to open (default: workspace)")
    parser.add_argument("--port", type=int, default=8888)
    args = parser.parse_args(argv)
    token = os.environ.get("LENET_LAB_TOKEN") or secrets.token_urlsafe(24)
    print(f"Open the course at: http://127.0.0.1:{args.port}/lab?token={token}", flush=True)
    print("(Ctrl-C twice stops JupyterLab; your notebooks are saved in the workspace folder.)", flush=True)
    command = lab_command(args.dir, args.port, token)
    os.execv(command[0], command)


if __name__ == "__main__":
    main()
