"""Benchmark: how long the notebook suite takes, and a cold JupyterLab start to the first lesson's first output.

    python bench/suite_speed.py

(1) `make test`'s nbval part: `pytest solutions` with LENET_FAST=1, as `make test` runs it.
(2) A cold JupyterLab start, the way a student meets the course after `make lab`: a new
    JupyterLab process on a fresh copy of the lessons, headless Chromium opens lesson 00,
    runs its first code cell (Setup, in a new kernel) and waits for its output. Printed: seconds
    from the launch until the server answers, the notebook is on screen, the kernel is idle, and
    the first output appears. Needs Debian's chromium and Playwright (`make install`).
Also run by bench/train_speed.py. A benchmark that prints figures, not a test.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import nbformat

from lenet_helpers import lab, lessons

ROOT = Path(__file__).resolve().parent.parent
FIRST_LESSON = "00_setup_and_mnist.ipynb"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"]


def nbval_seconds() -> tuple[float, str]:
    """Wall seconds of `pytest solutions` in fast mode, and pytest's last line."""
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "pytest", "solutions", "-q", "-p", "no:cacheprovider"],
                            cwd=ROOT, env={**os.environ, "LENET_FAST": "1"}, capture_output=True, text=True)
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    return time.perf_counter() - started, lines[-1] if lines else f"pytest exited {result.returncode}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def first_code_cell(path: Path) -> int:
    cells = nbformat.read(path, as_version=4).cells
    return next(i for i, cell in enumerate(cells) if cell.cell_type == "code")


def cold_lab_seconds() -> dict[str, float]:
    """Seconds from launching JupyterLab to: server up, lesson 00 on screen, kernel idle, first output."""
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        raise RuntimeError("no chromium: install Debian's chromium package")
    with tempfile.TemporaryDirectory() as tmp:
        workspace, settings = Path(tmp) / "workspace", Path(tmp) / "settings"
        lessons.copy_to_workspace(workspace)
        news = settings / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
        news.parent.mkdir(parents=True)
        news.write_text(json.dumps({"fetchNews": "false", "checkForUpdates": False}))
        index = first_code_cell(workspace / FIRST_LESSON)
        port, token = free_port(), "bench-token"
        env = {key: value for key, value in os.environ.items() if key != "LENET_FAST"}
        env["JUPYTERLAB_SETTINGS_DIR"] = str(settings)
        marks: dict[str, float] = {}
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS)
            started = time.perf_counter()
            server = subprocess.Popen(lab.lab_command(str(workspace), port, token), env=env,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            try:
                base = f"http://127.0.0.1:{port}"
                while "server" not in marks:
                    try:
                        with urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2):
                            marks["server"] = time.perf_counter() - started
                    except OSError:
                        if server.poll() is not None or time.perf_counter() - started > 120:
                            raise RuntimeError("JupyterLab did not start") from None
                        time.sleep(0.1)
                page = browser.new_page(viewport={"width": 1400, "height": 1000})
                page.goto(f"{base}/lab/workspaces/bench/tree/{FIRST_LESSON}?token={token}&reset")
                page.wait_for_selector(".jp-NotebookPanel .jp-Notebook .jp-Cell", timeout=120_000)
                marks["notebook"] = time.perf_counter() - started
                page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=120_000)
                marks["kernel"] = time.perf_counter() - started
                cell = page.locator(".jp-NotebookPanel .jp-Notebook .jp-Cell").nth(index)
                output = cell.locator(".jp-OutputArea-output").first
                for _ in range(5):  # a key press during start-up can be lost: press again
                    cell.locator(".jp-InputArea-editor").click()
                    page.keyboard.press("Control+Enter")
                    try:
                        output.wait_for(state="visible", timeout=5_000)
                        break
                    except Exception:  # noqa: BLE001 - Playwright's TimeoutError; retry the key press
                        if cell.locator(".jp-InputArea-prompt").inner_text().strip() != "[ ]:":
                            output.wait_for(state="visible", timeout=120_000)
                            break
                marks["first output"] = time.perf_counter() - started
                text = output.inner_text()
                if "Traceback" in text or "Error" in text:
                    raise RuntimeError(f"the first cell failed: {text[-500:]}")
            finally:
                server.terminate()
                server.wait(timeout=30)
                browser.close()
    return marks


def report() -> None:
    """Print both figures (called by bench/train_speed.py too)."""
    print("\nnotebook suite (`make test`'s nbval part: pytest solutions, LENET_FAST=1):")
    seconds, last = nbval_seconds()
    print(f"  {seconds:.1f} s  ({re.sub(r'=+', '', last).strip()})")
    print("cold JupyterLab start (new server, new kernel) to the first lesson's first output, seconds from launch:")
    marks = cold_lab_seconds()
    print("  " + "; ".join(f"{name} {value:.1f} s" for name, value in marks.items()))


if __name__ == "__main__":
    report()
