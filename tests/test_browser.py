"""JupyterLab in a real browser: widgets render, respond to the mouse, and never show an error.

Starts JupyterLab on a free loopback port with a token, drives Debian's headless Chromium
through Playwright, opens two lessons, runs their Setup and widget cells, moves a slider,
draws a digit, and saves screenshots under artifacts/browser/ (git-ignored).
Outside CI the test is skipped when no chromium is installed; in CI (.ci/run installs it)
a missing browser is a failure.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest

from lenet_helpers import lessons
from lenet_helpers.lab import lab_command

ROOT = Path(__file__).resolve().parent.parent
SHOTS = ROOT / "artifacts" / "browser"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--disable-quic"]

if CHROMIUM is None:
    if os.environ.get("CI"):
        pytest.fail("CI must provide chromium (.ci/run installs the Debian package)", pytrace=False)
    pytest.skip("no chromium found: install Debian's `chromium` package to run the browser test",
                allow_module_level=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    workspace = tmp_path_factory.mktemp("workspace")
    for name in ("01_convolution_c1.ipynb", "07_evaluate_and_visualize.ipynb"):
        shutil.copy(lessons.LESSONS / name, workspace / name)
    settings = tmp_path_factory.mktemp("lab-settings")
    news = settings / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
    news.parent.mkdir(parents=True)
    news.write_text(json.dumps({"fetchNews": "false", "checkForUpdates": False}))
    tracker = settings / "@jupyterlab" / "notebook-extension" / "tracker.jupyterlab-settings"
    tracker.parent.mkdir(parents=True)
    tracker.write_text(json.dumps({"windowingMode": "none"}))  # every cell in the page, none virtualised
    port, token = free_port(), "browser-test-token"
    env = {**os.environ, "LENET_FAST": "1", "JUPYTERLAB_SETTINGS_DIR": str(settings)}
    command = lab_command(str(workspace), port, token)  # exactly what `make lab` runs
    log = open(tmp_path_factory.mktemp("log") / "lab.log", "w")  # noqa: SIM115
    server = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while True:
        try:
            with urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2) as response:
                if response.status == 200:
                    break
        except OSError:
            pass
        if time.monotonic() > deadline or server.poll() is not None:
            server.terminate()
            pytest.fail(f"JupyterLab did not start; see {log.name}")
        time.sleep(0.5)
    # without the token the server must refuse
    with pytest.raises(urllib.error.HTTPError):
        urllib.request.urlopen(f"{base}/api/contents", timeout=5)
    yield base, token, workspace
    server.terminate()
    server.wait(timeout=30)
    log.close()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    yield page
    page.close()


def cell_indices(path: Path) -> dict[str, list[int]]:
    nb = nbformat.read(path, as_version=4)
    setup = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and "runtime.setup_lesson()" in c.source]
    widgets = [i for i, c in enumerate(nb.cells) if "widget" in c.metadata.get("tags", [])]
    return {"setup": setup, "widgets": widgets}


def open_notebook(page, lab, name):
    base, token, _ = lab
    # a fresh, named workspace, so JupyterLab does not restore tabs from another test
    page.goto(f"{base}/lab/workspaces/{Path(name).stem}/tree/{name}?token={token}&reset")
    page.wait_for_selector(".jp-NotebookPanel .jp-Notebook .jp-Cell", timeout=60_000)
    page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=60_000)


def run_cell(page, index, wait_for=None, timeout=120_000):
    from playwright.sync_api import expect

    cell = page.locator(".jp-NotebookPanel .jp-Notebook .jp-Cell").nth(index)
    prompt = cell.locator(".jp-InputArea-prompt")
    for _ in range(5):  # a key press during JupyterLab's start-up can be lost: press again
        cell.scroll_into_view_if_needed()
        cell.locator(".jp-InputArea-editor").click()  # edit mode in this cell
        page.keyboard.press("Control+Enter")  # run it and stay there
        try:
            expect(prompt).not_to_have_text("[ ]:", timeout=5_000)
            break
        except AssertionError:
            continue
    try:
        expect(prompt).to_have_text(re.compile(r"\[\d+\]"), timeout=timeout)
    except AssertionError:
        page.screenshot(path=str(SHOTS / f"failed_cell_{index}.png"))
        raise
    assert "Traceback" not in cell.inner_text(), cell.inner_text()[-2000:]
    if wait_for:
        cell.locator(wait_for).first.wait_for(state="visible", timeout=timeout)
    return cell


def no_widget_errors(page):
    text = page.locator("body").inner_text()
    assert "Error displaying widget" not in text and "Failed to load model class" not in text


def test_shape_explorer_slider_changes_the_numbers(page, lab):
    indices = cell_indices(lab[2] / "01_convolution_c1.ipynb")
    open_notebook(page, lab, "01_convolution_c1.ipynb")
    run_cell(page, indices["setup"][0])
    cell = run_cell(page, indices["widgets"][0], wait_for=".lenet-shape-result")
    result = cell.locator(".lenet-shape-result")
    assert "output 28x28x6" in result.inner_text() and "156 trainable parameters" in result.inner_text()
    handle = cell.locator(".widget-slider .noUi-handle, .widget-slider .ui-slider-handle").first
    handle.click()
    page.keyboard.press("ArrowRight")  # input size 32 -> 33
    page.wait_for_function(
        "() => document.querySelector('.lenet-shape-result').innerText.includes('output 29x29x6')", timeout=20_000)
    page.screenshot(path=str(SHOTS / "01_shape_explorer.png"), full_page=False)
    no_widget_errors(page)


def test_draw_a_digit_and_explore_the_network(page, lab):
    from playwright.sync_api import expect

    indices = cell_indices(lab[2] / "07_evaluate_and_visualize.ipynb")
    open_notebook(page, lab, "07_evaluate_and_visualize.ipynb")
    run_cell(page, indices["setup"][0], timeout=300_000)
    explorer, draw = indices["widgets"]
    cell = run_cell(page, explorer, wait_for=".widget-button")
    cell.locator("button", has_text="show me a mistake").click()
    cell.locator(".jp-OutputArea-output img").first.wait_for(timeout=60_000)
    cell = run_cell(page, draw, wait_for=".lenet-draw-answer")
    page.screenshot(path=str(SHOTS / "06_draw_cell.png"), full_page=False)
    box = cell.locator("canvas").last.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] * 0.2
    page.mouse.move(x, y)
    page.mouse.down()
    for step in range(1, 13):  # a vertical stroke: a "1"
        page.mouse.move(x, y + step * box["height"] * 0.05)
    page.mouse.up()
    answer = cell.locator(".lenet-draw-answer")
    try:
        expect(answer).to_contain_text(re.compile(r"I read a \d"), timeout=60_000)  # shows the text if not
    finally:
        page.screenshot(path=str(SHOTS / "06_draw_a_digit.png"), full_page=False)
    no_widget_errors(page)
