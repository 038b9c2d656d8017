"""Versions are written once: pyproject.toml pins the course's packages, constraints.txt the Jupyter
stack under them; environment.yml, course.runtime and the Makefile read or match them."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from importlib import metadata

import harness

from course import runtime


def _pins(lines):
    pins = {}
    for line in lines:
        m = re.fullmatch(r"\s*([A-Za-z0-9_.\-]+)\s*==\s*([A-Za-z0-9_.+\-]+)\s*", line)
        assert m, f"not an exact pin: {line!r}"
        pins[m.group(1).lower().replace("_", "-")] = m.group(2)
    return pins


def _project():
    return tomllib.loads((harness.REPO / "pyproject.toml").read_text())["project"]


def _constraints():
    lines = (harness.REPO / "constraints.txt").read_text().splitlines()
    return _pins([l for l in lines if l.strip() and not l.startswith("#")])


def test_environment_yml_is_the_learner_runtime_exactly():
    wanted = _pins(_project()["dependencies"]) | _constraints()
    text = (harness.REPO / "environment.yml").read_text()
    pip_lines = [l.strip()[2:] for l in text.split("- pip:")[1].splitlines() if l.strip().startswith("- ")]
    listed = _pins([l for l in pip_lines if not l.startswith("-")])
    assert listed == wanted
    extras = _project()["optional-dependencies"]
    dev = _pins([d for group in extras.values() for d in group if not d.startswith("course[")])
    assert not set(dev) & set(listed), "environment.yml is for learners: no test tools"


def test_installed_versions_are_the_pinned_ones():
    for name, version in (_pins(_project()["dependencies"]) | _constraints()).items():
        assert metadata.version(name).split("+")[0] == version, f"{name} {metadata.version(name)} is not {version}"


def test_runtime_reads_its_versions_from_pyproject():
    pinned = _pins(_project()["dependencies"])
    assert runtime.pinned_versions() == pinned
    assert runtime.EXPECTED_VERSIONS == {k: v for k, v in pinned.items() if k in runtime.CHECKED_PACKAGES}
    assert set(runtime.CHECKED_PACKAGES) <= set(pinned)


def test_supported_pythons_agree_with_requires_python():
    spec = _project()["requires-python"]
    assert spec == ">=3.11,<3.14"
    assert runtime.SUPPORTED_PYTHONS == ((3, 11), (3, 12), (3, 13))
    makefile = (harness.REPO / "Makefile").read_text()
    assert "SUPPORTED_PYTHONS := 3.11 3.12 3.13" in makefile
    assert sys.version_info[:2] in runtime.SUPPORTED_PYTHONS


def test_torch_is_pinned_once_and_the_makefile_reads_it():
    project = _project()
    assert "torch==2.13.0" in project["dependencies"]
    assert not any(d.lower().startswith("torchvision") for d in project["dependencies"])
    out = subprocess.run(["make", "-n", "--no-print-directory", "-p", "help"], cwd=harness.REPO,
                         capture_output=True, text=True, timeout=60).stdout
    assert re.search(r"^TORCH_VERSION := 2\.13\.0$", out, re.M), "the Makefile does not read torch's pin"


def test_pretraining_card_names_the_installed_wordfreq():
    from course import foundation

    assert f"wordfreq {metadata.version('wordfreq')}" in foundation.model_card()["corpus"]
