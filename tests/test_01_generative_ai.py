"""Quality asserts for module 01 (generative AI), read back from the autograded solution notebooks.

The generic grading invariants (full marks, blank scores zero, release equality, no leaks, time) are
tested for every assignment elsewhere; these check that the models in the notebooks learn what the text
says they learn.
"""

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("01_generative_ai")]

ASSIGNMENT = "01_generative_ai"


@pytest.fixture(scope="module")
def metrics(graded):
    return graded(ASSIGNMENT).metrics("solution")


def test_novelty_separates_the_mixture_from_the_copier(metrics):
    held_out = metrics["gen_novelty_held_out"]
    assert metrics["gen_novelty_memoriser"] == 0.0                      # every sample is a training point
    assert 0.7 * held_out <= metrics["gen_novelty_mixture"] <= 1.5 * held_out
    assert metrics["gen_novelty_noise"] >= 2 * held_out                 # made up: far from all data


def test_variability_exposes_the_one_trick_model(metrics):
    yardstick = metrics["gen_coverage_held_out"]
    assert metrics["gen_coverage_mixture"] <= 1.5 * yardstick
    assert metrics["gen_coverage_one_trick"] >= 10 * yardstick          # most real points far from its samples


def test_vae_beats_the_mean_image(metrics):
    assert metrics["vae_bce_ratio"] <= 0.85
    assert metrics["vae_test_bce"] < metrics["vae_baseline_bce"]


def test_gan_covers_the_ring(metrics):
    assert metrics["gan_modes_covered"] >= 7
    assert metrics["gan_share_near_a_mode"] >= 0.6


def test_gan_failure_settings_change_one_thing(metrics):
    # Each setting differs from the trained GAN by its learning rate only (same steps, networks, noise, seeds).
    assert metrics["gan_slow_modes_covered"] <= 1                  # lr 1e-5: has not found the ring yet
    assert metrics["gan_collapsed_modes_covered"] <= 4             # lr 3.5e-2: collapses onto a few modes
    assert metrics["gan_modes_covered"] - metrics["gan_collapsed_modes_covered"] >= 3
