"""`make lab` and `make formgrader`, as a learner and an instructor open them in a browser.

The learner's JupyterLab (`make lab`, settings in jupyter_config/learner) must not show nbgrader's
instructor tools (the "Create Assignment" panel, the Nbgrader menu with the formgrader) nor
JupyterLab's news question; the instructor's (`make formgrader`) shows them. Both are started with
the Makefile's own recipes and looked at in Debian's Chromium (Playwright). Screenshots go to
.scratch/test-output/test_learner_lab/.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

import e2e_util as e2e
import harness

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(target: str, work: Path, log: Path) -> tuple[subprocess.Popen, str]:
    """Run `make <target>` on a free port with a known token; return the process and the lab URL."""
    port, token = _free_port(), secrets.token_hex(8)
    proc = subprocess.Popen(
        ["make", target, f"PORT={port}", f"WORK={work}", f"LAB_ARGS=--IdentityProvider.token={token}"],
        cwd=harness.REPO, stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}/lab?token={token}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"`make {target}` stopped:\n{log.read_text()[-3000:]}"
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return proc, url
        except OSError:
            time.sleep(0.5)
    raise AssertionError(f"`make {target}` did not serve JupyterLab in 120 s:\n{log.read_text()[-3000:]}")


def _stop(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=20)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        os.killpg(proc.pid, signal.SIGKILL)


def _look(url: str, shot: Path) -> dict[str, bool]:
    """Open JupyterLab in Chromium and report which instructor tools and pop-ups it shows."""
    from playwright.sync_api import sync_playwright

    profile = tempfile.mkdtemp(prefix="gc-chromium-")
    try:
        with sync_playwright() as pw:
            context = pw.chromium.launch_persistent_context(
                profile, executable_path=e2e.CHROMIUM, args=CHROMIUM_ARGS, headless=True,
                viewport={"width": 1400, "height": 900})
            page = context.pages[0] if context.pages else context.new_page()
            page.set_default_timeout(120_000)
            page.goto(url)
            page.wait_for_selector(".lm-MenuBar-itemLabel:text-is('File')")
            page.wait_for_selector(".jp-DirListing-item")  # the file browser has listed the folder
            page.wait_for_timeout(4000)  # plugins that add panels and notifications have run
            page.screenshot(path=str(shot))
            seen = {
                "create_assignment": page.locator(".lm-TabBar-tab[title*='Create Assignment'], "
                                                  ".lm-TabBar-tabLabel:text-is('Create Assignment')").count() > 0,
                "nbgrader_menu": page.locator(".lm-MenuBar-itemLabel:text-is('Nbgrader')").count() > 0,
                "news_question": page.get_by_text("get notified about", exact=False).count() > 0,
            }
            context.close()
            return seen
    finally:
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture(scope="module")
def ready():
    e2e.require_browser()
    return e2e.output_dir("test_learner_lab")


def test_learner_lab_hides_the_instructor_tools_and_keeps_answers(ready, tmp_path):
    work = tmp_path / "work"
    kept = work / "00_orientation" / "00_orientation.ipynb"
    kept.parent.mkdir(parents=True)
    kept.write_text('{"my": "answers"}')  # the learner's own copy, from an earlier `make lab`
    proc, url = _start("lab", work, ready / "lab.log")
    try:
        seen = _look(url, ready / "learner-lab.png")
    finally:
        _stop(proc)
    assert seen == {"create_assignment": False, "nbgrader_menu": False, "news_question": False}, seen
    assert kept.read_text() == '{"my": "answers"}'
    assert (work / "START_HERE.ipynb").exists()


def test_instructor_lab_shows_the_instructor_tools(ready, tmp_path):
    proc, url = _start("formgrader", tmp_path, ready / "formgrader.log")
    try:
        seen = _look(url, ready / "instructor-lab.png")
    finally:
        _stop(proc)
    assert seen["create_assignment"] and seen["nbgrader_menu"], seen
