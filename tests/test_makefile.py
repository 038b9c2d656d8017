"""Every target the Makefile's help (and so the README) names has a recipe."""

from __future__ import annotations

import re
import subprocess

import harness


def test_every_documented_target_has_a_recipe():
    makefile = (harness.REPO / "Makefile").read_text()
    documented = re.findall(r'@echo "make (\w+)', makefile)
    assert {"lab", "test", "release", "autograde", "feedback", "grades", "bench"} <= set(documented)
    for target in documented:
        proc = subprocess.run(["make", "-n", target, "ASSIGNMENT=00_orientation"], cwd=harness.REPO,
                              capture_output=True, text=True, timeout=60)
        assert proc.returncode == 0, f"make -n {target} fails: {proc.stderr}"
        assert "Nothing to be done" not in proc.stdout + proc.stderr, f"`make {target}` has no recipe"
        assert proc.stdout.strip(), f"`make {target}` would do nothing"
