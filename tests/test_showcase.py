"""The capstone's showcase samples are well formed and come from the notebooks as they are now."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np

from course import showcase

import harness


def test_showcase_was_built_from_the_current_notebooks():
    data = showcase.load()
    assert set(data["notebooks"]) == set(showcase.EXTRACT)
    for rel, digest in data["notebooks"].items():
        assert showcase.notebook_hash(harness.REPO / "source" / rel) == digest, \
            f"source/{rel} changed since course/weights/showcase.json was built: run `python -m course.showcase`"


def test_showcase_samples_have_the_documented_shapes():
    data = showcase.load()
    assert data["vae_samples"].shape == (24, 64) and 0 <= data["vae_samples"].min() <= data["vae_samples"].max() <= 1
    for key in ("gan_samples", "diffusion_samples"):
        assert data[key].shape == (1000, 2) and np.isfinite(data[key]).all()
    assert len(data["names_t05"]) == len(data["names_t10"]) == 10
    assert all(name.isalpha() for name in data["names_t05"] + data["names_t10"])
    cm = data["language_confusion"]
    assert cm.shape == (len(data["language_classes"]),) * 2 == (10, 10) and cm.min() >= 0


def test_showcase_figure_has_five_titled_panels():
    fig = showcase.draw()
    titled = [ax for ax in fig.axes if ax.get_title()]
    assert len(titled) == 5
