"""The item analysis (``make report``): on a synthetic class with planted items, the flags, counts and
figures come out as planted; alpha matches a hand calculation; bad input is a clear error."""

from __future__ import annotations

import csv
import html
import os
import re
import shutil
import subprocess
import sys
import tempfile

import pytest

import e2e_util as e2e
import grading_class as gc
import harness

from course.grading import analysis, itemstats


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    """The planted class, analysed once (the tests only read it)."""
    root = tmp_path_factory.mktemp("planted")
    gc.planted(root)
    page, result = analysis.report(root, gc.A)
    return root, page, result


def _items(result) -> dict[str, itemstats.Item]:
    return {i.label if i.kind == "answer" else i.cell: i for i in result.items}


def _csv(path) -> list[dict[str, str]]:
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def test_planted_items_are_flagged_as_planted(report):
    _, _, result = report
    items = _items(result)
    assert set(items) == {"answers[easy]", "answers[good]", "answers[misread]", "answers[reversed]", "double_tests"}
    assert items["answers[easy]"].difficulty == 1.0 and items["answers[easy]"].flags == ["too_easy"]
    assert items["answers[easy]"].discrimination is None, "no spread, no discrimination"
    assert items["answers[reversed]"].discrimination < 0
    assert items["answers[reversed]"].flags == ["negative_discrimination"]
    misread = items["answers[misread]"]
    assert misread.top_wrong == ('"x"', 13) and misread.right == 6 and misread.options[itemstats.NO_ANSWER] == 1
    assert misread.flags == ["popular_wrong_answer"]
    assert items["answers[good]"].flags == [] and items["answers[good]"].discrimination > 0.5
    double = items["double_tests"]
    assert double.kind == "function" and double.right == 14 and double.weight == 3
    assert double.failed_checks.most_common() == [("value double of 2", 6), ("value double of -1", 3)]
    assert double.flags == []


def test_class_counts_scores_and_manual_grading_come_from_the_gradebook(report):
    _, _, result = report
    assert result.counts == {"submitted": 21, "graded": 20, "not graded": 1, "missing": 1,
                             "needing manual grading": 3}
    assert result.record.source == "gradebook" and result.record.max_score == 9
    expected = {s: v + (0 if s in ("s01", "s02", "s03") else 2) for s, v in gc.planted_scores().items()}
    assert result.record.scores == pytest.approx(expected)
    assert result.distribution["mean"] == pytest.approx(sum(expected.values()) / 20)
    assert result.record.manual == {("nb1", "essay"): ["s01", "s02", "s03"]}
    assert result.flags == {"stderr": ["s04", "s05"], "notebook_unreadable": ["s21"]}


def test_the_page_and_the_csvs_say_the_same(report):
    root, page, result = report
    text = page.read_text()
    assert "http://" not in text and "https://" not in text and "<script" not in text, "self-contained, no network"
    assert len(re.findall(r'<img alt="[^"]+" src="data:image/png;base64,', text)) == 3  # histogram, scatter, options
    for label in ("answers[misread]", "answers[reversed]", "double_tests", "value double of 2", "Cronbach",
                  "popular_wrong_answer", "negative_discrimination", "too_easy", "essay"):
        assert html.escape(label) in text or label in text, label
    folder = root / "reports" / gc.A
    rows = {r["item"] if r["kind"] == "answer" else r["cell"]: r for r in _csv(folder / "analysis-items.csv")}
    assert rows["answers[misread]"]["top_wrong_answer"] == '"x"' and rows["answers[misread]"]["top_wrong_count"] == "13"
    assert rows["answers[reversed]"]["flags"] == "negative_discrimination"
    summary = {r["measure"]: r["value"] for r in _csv(folder / "analysis-summary.csv")}
    assert float(summary["cronbach_alpha"]) == pytest.approx(result.reliability.alpha, abs=1e-3)
    assert summary["missing"] == "1" and summary["not_graded"] == "1"
    assert f"{result.reliability.alpha:.2f}" in text
    checks = _csv(folder / "analysis-checks.csv")
    assert checks[0] == {"notebook": "nb1", "cell": "double_tests", "check": "value double of 2", "failed_for": "6"}
    options = [r for r in _csv(folder / "analysis-options.csv") if r["item"] == "answers[misread]"]
    assert [(r["answer"], r["students"], r["right"]) for r in options] == [
        ('"x"', "13", "0"), ('"y"', "6", "1"), (itemstats.NO_ANSWER, "1", "0")]
    assert _csv(folder / "analysis-manual.csv") == [{"notebook": "nb1", "cell": "essay", "students_to_grade": "3"}]


def test_alpha_matches_a_hand_calculation():
    # 4 students x 3 items of 1 point: p = .75, .5, .25, so sum(pq) = .625; totals 3, 2, 1, 0 have
    # variance 1.25; KR-20 = 3/2 * (1 - .625 / 1.25) = 0.75.
    rows = []
    for s, answers in {"a": (1, 1, 1), "b": (1, 1, 0), "c": (1, 0, 0), "d": (0, 0, 0)}.items():
        rows += [itemstats.Row(s, "nb", "c", f"answers[{k}]", "answer", bool(ok), '"x"', 3, sum(answers))
                 for k, ok in zip("xyz", answers)]
    _, items, matrix, rel = itemstats.analyse(rows)
    assert [i.weight for i in items] == [1, 1, 1]
    assert rel.alpha == pytest.approx(0.75)
    # SEM = sample SD of the totals (sqrt(5/3)) * sqrt(1 - 0.75)
    assert rel.sem == pytest.approx((5 / 3) ** 0.5 * 0.5)
    assert rel.low < 0.75 < rel.high
    # the first item (1, 1, 1, 0) against the rest (2, 1, 0, 0): deviations (.25, .25, .25, -.75) and
    # (1.25, .25, -.75, -.75) give r = .75 / sqrt(.75 * 2.75) = 0.5222
    assert items[0].discrimination == pytest.approx(0.75 / (0.75 * 2.75) ** 0.5)
    assert "4 graded submissions" in itemstats.how_to_read(rel) and "fewer than 10" in itemstats.how_to_read(rel)


def test_bad_input_is_a_clear_error(tmp_path, capsys):
    assert analysis.main([gc.A, "--root", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "items.csv does not exist" in err and f"make autograde ASSIGNMENT={gc.A}" in err and "Traceback" not in err
    folder = gc.planted(tmp_path)
    text = (folder / "items.csv").read_text().splitlines()
    (folder / "items.csv").write_text("\n".join(text[:3] + [text[3].replace(",1,", ",yes,", 1)]) + "\n")
    assert analysis.main([gc.A, "--root", str(tmp_path)]) == 2
    assert "items.csv, line 4: not a row the grader writes" in capsys.readouterr().err
    (folder / "items.csv").write_text("student,cell\ns01,x\n")
    assert analysis.main([gc.A, "--root", str(tmp_path)]) == 2
    assert "lacks the column(s) notebook, item" in capsys.readouterr().err


def test_make_report_runs_the_analysis(tmp_path):
    gc.planted(tmp_path)
    proc = subprocess.run(["make", "--no-print-directory", "-s", "report", f"ASSIGNMENT={gc.A}",
                           f"REPORT_ARGS=--root {tmp_path}"],
                          cwd=harness.REPO, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "20 submissions, 5 items, 3 flagged" in proc.stdout
    assert (tmp_path / "reports" / gc.A / "analysis.html").exists()
    proc = subprocess.run(["make", "--no-print-directory", "-s", "report"], cwd=harness.REPO, capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 2 and "usage: make report ASSIGNMENT=" in proc.stdout


@pytest.mark.e2e
def test_the_page_in_chromium(report):
    """A person looks at the page: Chromium renders it offline; the screenshot is kept for them."""
    if not os.access(e2e.CHROMIUM, os.X_OK):
        e2e._need([f"Chromium at {e2e.CHROMIUM} (apt-get install chromium)"])
    _, page, _ = report
    shot = e2e.output_dir("test_grading_analysis") / "analysis.png"
    shot.unlink(missing_ok=True)
    profile = tempfile.mkdtemp(prefix="gc-chromium-")
    try:
        proc = subprocess.run([e2e.CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                               "--no-first-run", "--disable-component-update", "--disable-sync", f"--user-data-dir={profile}",
                               "--hide-scrollbars", "--window-size=1280,4200", f"--screenshot={shot}", page.as_uri()],
                              capture_output=True, text=True, timeout=120)
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    assert shot.exists() and shot.stat().st_size > 50_000, proc.stderr[-2000:]
    print(f"screenshot: {shot}", file=sys.stderr)
