"""The learner's JupyterLab and the instructor's formgrader, in a real browser (Chromium, driven
by Playwright), on the class hub of deploy/jupyterhub (real Unix accounts, PAM login).

A notebook that executes headless proves little about widgets: without the browser side they
show as text (``interactive(children=...)``). Here the student runs the released 00_orientation,
sees the drop-down of ``explore`` rendered as a control, picks another system and sees the map
change, answers the self-check quiz, and presses nbgrader's Validate button. The instructor then
opens the formgrader (in a browser tab of its own: JupyterHub >= 4.1 forbids frames, see
deploy/jupyterhub/README.md). Screenshots go to .scratch/test-output/test_browser/.

Needs root, configurable-http-proxy, Debian's chromium and playwright (``.ci/install-e2e``);
skipped locally when they are missing, failed in CI (CI=true).
"""

from __future__ import annotations

import shutil
import tempfile
import time

import pytest

import e2e_util as e2e

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]

A, NB = "00_orientation", "00_orientation"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
TIMEOUT_MS = 120_000


@pytest.fixture(scope="module")
def hub_with_release():
    e2e.require_browser()
    out = e2e.output_dir("test_browser")
    for old in out.glob("*.png"):
        old.unlink(missing_ok=True)
    klass = e2e.Classroom(n_students=1)
    hub = e2e.Hub(klass, out)
    try:
        klass.create()
        hub.start()
        for user in klass.users:
            hub.spawn(user)
        for step in ("assign", "release"):
            assert hub.user_ok(klass.instructor, "POST", f"/formgrader/api/assignment/{A}/{step}")["success"]
        student = klass.students[0]
        fetched = hub.user_ok(student, "POST", "/assignments/fetch",
                              data={"course_id": e2e.COURSE_ID, "assignment_id": A})
        assert fetched["success"], fetched
        yield klass, hub, out
    finally:
        hub.stop()
        klass.close()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        profiles: list[str] = []

        def open_context():
            profiles.append(tempfile.mkdtemp(prefix="gc-chromium-"))
            return pw.chromium.launch_persistent_context(
                profiles[-1], executable_path=e2e.CHROMIUM, args=CHROMIUM_ARGS, headless=True,
                viewport={"width": 1400, "height": 1000})

        yield open_context
        for p in profiles:
            shutil.rmtree(p, ignore_errors=True)


def _login(page, hub, user: str, password: str) -> None:
    page.goto(f"{hub.url}/hub/login", timeout=TIMEOUT_MS)
    page.fill("#username_input", user)
    page.fill("#password_input", password)
    page.click("#login_submit")
    page.wait_for_url(f"**/user/{user}/**", timeout=TIMEOUT_MS)


def _show(locator) -> None:
    """Wait for an element of the notebook, then scroll to it (JupyterLab renders the cells far
    from the viewport lazily)."""
    locator.wait_for(state="attached")
    locator.scroll_into_view_if_needed()
    locator.wait_for(state="visible")


def _shot(page, path) -> None:
    """A screenshot, without JupyterLab's "news" question covering a corner."""
    news = page.get_by_role("button", name="No", exact=True)
    if news.count():
        try:
            news.first.click(timeout=2000)
            page.wait_for_timeout(300)
        except Exception:  # e.g. behind a modal dialog: leave it
            pass
    page.screenshot(path=str(path))


def _run_all(page) -> None:
    """Run > Run All Cells, as a learner would; once more if the kernel missed the first request."""
    for attempt in range(2):
        page.click(".lm-MenuBar-itemLabel:text-is('Run')")
        page.click(".lm-Menu-itemLabel:text-is('Run All Cells')")
        try:
            page.locator(".jp-OutputArea-output").first.wait_for(state="attached", timeout=45_000)
            return
        except Exception:
            if attempt:
                raise


def test_student_runs_widgets_and_validates_in_jupyterlab(hub_with_release, browser):
    klass, hub, out = hub_with_release
    student = klass.students[0]
    context = browser()
    page = context.pages[0] if context.pages else context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    console: list[str] = []
    page.on("console", lambda m: console.append(f"{m.type}: {m.text}"))
    t0 = time.monotonic()
    try:
        _login(page, hub, student, klass.passwords[student])
        page.goto(f"{hub.url}/user/{student}/lab/tree/{A}/{NB}.ipynb")
        page.wait_for_selector(".jp-Notebook .jp-Cell")
        page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']")
        page.wait_for_timeout(2000)
        # Run All Cells stops at the first unanswered question, after the widgets
        _run_all(page)

        dropdown = page.locator(".jp-OutputArea-output .widget-dropdown select").first
        _show(dropdown)
        assert "interactive(children" not in page.locator(".jp-Notebook").inner_text(), \
            "the widget shows as text: the browser side of ipywidgets is missing"
        panel = page.locator(".jp-OutputArea-output .widget-interact").first
        image = panel.locator("img").first
        _show(image)
        before = image.get_attribute("src")
        first = dropdown.input_value()
        panel.scroll_into_view_if_needed()
        _shot(page, out / "1-student-widget-before.png")

        # by value: ipywidgets shows a label's spaces as non-breaking ones
        options = dropdown.locator("option").evaluate_all("os => os.map(o => o.value)")
        choice = next(o for o in options if o != first)
        dropdown.select_option(value=choice)
        page.wait_for_function(
            "([el, old]) => { const img = el.querySelector('img'); return img && img.src !== old; }",
            arg=[panel.element_handle(), before])
        after = image.get_attribute("src")
        assert after != before and dropdown.input_value() == choice
        _shot(page, out / "2-student-widget-after.png")

        # the self-check quiz: a rendered radio group and a Check button with instant feedback
        quiz = page.locator(".jp-OutputArea-output .widget-radio-box").first
        _show(quiz)
        quiz.locator("label", has_text="Fill in words that were hidden").click()
        page.locator(".jp-OutputArea-output button", has_text="Check").first.click()
        page.wait_for_selector(".jp-OutputArea-output .widget-html:has-text('✔')")

        # nbgrader's Validate button, on the notebook's toolbar
        page.locator(".jp-NotebookPanel-toolbar").get_by_text("Validate", exact=True).first.click()
        dialog = page.locator(".jp-Dialog-content")
        dialog.wait_for(state="visible")
        page.wait_for_function(
            "() => { const d = document.querySelector('.jp-Dialog-body'); "
            "return d && /failed|passed|success/i.test(d.innerText); }")
        result = dialog.inner_text()
        _shot(page, out / "3-student-validate.png")
        # unanswered: nbgrader names the first test cell that fails, with the learner-facing message
        assert "Validation Results" in result and "The following cell failed" in result, result
        assert "expect_answered(system_categories" in result, result
    except Exception:
        page.screenshot(path=str(out / "student-failure.png"))
        (out / "student-failure.html").write_text(page.content())
        print("\n".join(console[-40:]))
        print(hub.log_tail(80))
        raise
    finally:
        (out / "student-seconds.txt").write_text(f"{time.monotonic() - t0:.1f}\n")
        context.close()


def test_instructor_loads_the_formgrader(hub_with_release, browser):
    klass, hub, out = hub_with_release
    ins = klass.instructor
    context = browser()
    page = context.pages[0] if context.pages else context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    try:
        _login(page, hub, ins, klass.passwords[ins])
        page.goto(f"{hub.url}/user/{ins}/formgrader/manage_assignments")
        page.get_by_role("heading", name="Manage Assignments").wait_for()
        row = page.locator("tbody tr", has_text=A).first
        row.wait_for(state="visible")
        assert "released" in row.inner_text().lower(), row.inner_text()
        _shot(page, out / "4-instructor-formgrader.png")
    except Exception:
        page.screenshot(path=str(out / "instructor-failure.png"))
        print(hub.log_tail(80))
        raise
    finally:
        context.close()
    # a student who tries the same page is turned away
    student = klass.students[0]
    context = browser()
    page = context.pages[0] if context.pages else context.new_page()
    try:
        _login(page, hub, student, klass.passwords[student])
        response = page.goto(f"{hub.url}/user/{ins}/formgrader/manage_assignments")
        assert response is not None and response.status in (403, 404), response and response.status
        _shot(page, out / "5-student-denied-formgrader.png")
    finally:
        context.close()
