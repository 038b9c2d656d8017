"""Quality asserts for 00_orientation/01_neural_network, read back from the autograded solution notebook.

The generic grading invariants (full marks, blank scores zero, release equality, no leaks) are tested for
every assignment elsewhere; these check that the line and the network learn what the notebook's text
says they learn. Thresholds leave a margin: numbers may differ in the last digits across CPUs.
"""

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("00_orientation")]

ASSIGNMENT = "00_orientation"
TRUE_W, TRUE_B = 1.5, 0.5  # the line the notebook's data were drawn from (plus noise of std 0.3)
NOISE_FLOOR = 0.01  # the variance of the noise on the sine


@pytest.fixture(scope="module")
def metrics(graded):
    return graded(ASSIGNMENT).metrics("solution")


def test_gradient_descent_finds_the_best_line(metrics):
    # 100 steps with learning rate 0.2 reach the least-squares line ...
    assert metrics["line_gd_final_loss"] <= 1.01 * metrics["line_best_loss"]
    assert abs(metrics["line_gd_w"] - metrics["line_best_w"]) < 0.02
    assert abs(metrics["line_gd_b"] - metrics["line_best_b"]) < 0.02
    # ... which is close to the line behind the noisy data
    assert abs(metrics["line_gd_w"] - TRUE_W) < 0.3
    assert abs(metrics["line_gd_b"] - TRUE_B) < 0.3
    assert metrics["line_best_loss"] < 0.1  # no more than the variance of the noise (0.09), give or take


def test_learning_rates_too_small_and_too_large(metrics):
    best = metrics["line_best_loss"]
    assert metrics["lr_good_final_loss"] <= 1.01 * best
    assert metrics["lr_small_final_loss"] >= 3 * best                 # still crawling after 100 steps
    assert metrics["lr_small_final_loss"] < metrics["lr_too_large_first_loss"]  # but it did go down
    assert metrics["lr_too_large_last_loss"] >= 1e3 * metrics["lr_too_large_first_loss"]  # blew up
    assert metrics["lr_too_large_steps_that_raised_the_loss"] == 99   # every step went up


def test_autograd_matches_the_derivatives_by_hand(metrics):
    assert metrics["line_autograd_vs_hand_grad"] < 1e-9
    assert metrics["line_autograd_vs_hand_path"] < 1e-9


def test_the_learners_loop_trains_the_network_to_the_noise_floor(metrics):
    assert metrics["nn_best_line_mse"] > 0.3                          # no line follows the wave
    assert metrics["nn_final_train_mse"] < 1.5 * NOISE_FLOOR          # Adam, 1,000 steps of train()
    assert metrics["nn_test_mse"] < 1.5 * NOISE_FLOOR                 # the wave, not the noise
    # plain gradient descent with as many steps is clearly behind Adam
    assert metrics["nn_sgd_final_train_mse"] > 2 * metrics["nn_final_train_mse"]
    assert metrics["nn_sgd_final_train_mse"] < 0.5 * metrics["nn_best_line_mse"]  # but better than a line


def test_fit_repeats_the_learners_loop(metrics):
    assert metrics["fit_vs_loop_max_loss_diff"] < 1e-4
    assert metrics["fit_vs_loop_max_param_diff"] < 1e-2
    assert metrics["fit_final_val_mse"] < 1.5 * NOISE_FLOOR
