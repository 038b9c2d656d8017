"""Quality asserts for module 01's diffusion notebook (4_diffusion.ipynb), read back from the autograded
solution notebook. The generic grading invariants are tested for every assignment in test_assignments.py."""

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("01_generative_ai")]

ASSIGNMENT = "01_generative_ai"


@pytest.fixture(scope="module")
def metrics(graded):
    return graded(ASSIGNMENT).metrics("solution")


def test_diffusion_covers_the_ring(metrics):
    assert metrics["diffusion_modes_covered"] >= 7
    assert metrics["diffusion_share_near_a_mode"] >= 0.6               # most samples on a cluster, not between


def test_diffusion_is_measured_beside_the_gan(metrics):
    # The GAN samples shipped with the course, measured with the same yardstick in the same notebook.
    assert metrics["diffusion_gan_modes_covered"] >= 7
    assert metrics["diffusion_modes_covered"] >= metrics["diffusion_gan_modes_covered"] - 1


def test_a_label_steers_the_samples(metrics):
    assert metrics["diffusion_conditional_lowest_hit_share"] >= 0.6    # each asked-for mode gets most samples
