"""The shipped table of mode coverage over five seeds (course/weights/mode_coverage.json) is current and says
what notebook 01/4 says about it."""

from __future__ import annotations

import json

from course import coverage

import harness


def test_coverage_was_built_from_the_current_notebooks():
    data = json.loads((harness.REPO / "course" / "weights" / coverage.FILE).read_text())
    assert set(data["notebooks"]) == set(coverage.RETRAIN)
    for rel, digest in data["notebooks"].items():
        assert coverage.notebook_hash(harness.REPO / "source" / rel) == digest, \
            f"source/{rel} changed since {coverage.FILE} was built: run `python -m course.coverage`"


def test_the_table_holds_what_the_notebook_says():
    rows = coverage.load()
    assert [r["seed"] for r in rows] == list(coverage.SEEDS) and len(rows) >= 5     # "five training seeds"
    assert all(r["diffusion_modes_covered"] == 8 for r in rows)                      # "all eight with every seed"
    gan = [r["gan_modes_covered"] for r in rows]
    assert sum(m == 8 for m in gan) == 4 and min(gan) == 6 == rows[4]["gan_modes_covered"]  # "four ... six with seed 4"
    worst = rows[4]
    assert worst["gan_share_near_a_mode"] < min(r["gan_share_near_a_mode"] for r in rows if r is not worst)
    assert all(0 < r[k] <= 1 for r in rows for k in ("gan_share_near_a_mode", "diffusion_share_near_a_mode"))


def test_the_table_reads_as_a_table():
    rows = coverage.load()
    text = coverage.as_table(rows)
    assert len(text.splitlines()) == 2 + len(rows) and "6 of 8" in text
    assert "python -m course.coverage" in coverage.as_table([])
