"""pyproject.toml and environment.yml name the same packages at the same versions."""

from __future__ import annotations

import re
import tomllib

import harness


def _pins(lines):
    pins = {}
    for line in lines:
        m = re.fullmatch(r"\s*([A-Za-z0-9_.\-]+)\s*==\s*([A-Za-z0-9_.+\-]+)\s*", line)
        assert m, f"not an exact pin: {line!r}"
        pins[m.group(1).lower()] = m.group(2)
    return pins


def test_environment_yml_matches_pyproject():
    project = tomllib.loads((harness.REPO / "pyproject.toml").read_text())["project"]
    wanted = _pins(project["dependencies"] + project["optional-dependencies"]["dev"])
    text = (harness.REPO / "environment.yml").read_text()
    pip_lines = [l.strip()[2:] for l in text.split("- pip:")[1].splitlines() if l.strip().startswith("- ")]
    listed = _pins([l for l in pip_lines if not l.startswith("-e")])
    assert listed == wanted


def test_torch_is_the_cpu_build_version():
    project = tomllib.loads((harness.REPO / "pyproject.toml").read_text())["project"]
    assert "torch==2.13.0" in project["dependencies"]
    assert not any(d.lower().startswith("torchvision") for d in project["dependencies"])
