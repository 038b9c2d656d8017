"""Quality of module 03: the numbers its notebooks show must tell the story the text tells."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("03_foundation_models")]

ASSIGNMENT = "03_foundation_models"


@pytest.fixture(scope="module")
def metrics(graded):
    return graded(ASSIGNMENT).metrics("solution")


def test_pretraining_pays_off_with_few_labels(metrics):
    # mean of 3 seeds; best of probe and fine-tune minus the same network trained from scratch
    assert metrics["fm_gain_k5"] >= 10, metrics
    assert metrics["fm_gain_k20"] >= 10, metrics


def test_pretrained_beats_the_ngram_baseline_with_few_labels(metrics):
    # the notebook says so: at k = 5 and k = 20 the best adapted pretrained model is well ahead of the n-gram model
    assert metrics["fm_pretrained_minus_ngram_k5"] >= 5, metrics
    assert metrics["fm_pretrained_minus_ngram_k20"] >= 5, metrics


def test_ngram_baseline_catches_up_with_many_labels(metrics):
    # the notebook says so: at k = 100 the n-gram model and the best pretrained model are level
    assert abs(metrics["fm_ngram_minus_pretrained_k100"]) < 3, metrics


def test_finetune_and_scratch_had_stopped_improving(metrics):
    # k = 100, mean of 3 seeds: the second half of their steps adds (almost) nothing, so the budget is not the comparison
    assert metrics["fm_second_half_gain_finetune_k100"] < 2, metrics
    assert metrics["fm_second_half_gain_scratch_k100"] < 2, metrics


def test_one_backbone_serves_a_second_task(metrics):
    assert max(metrics["surname_probe"], metrics["surname_finetune"]) > metrics["surname_scratch"] + 3, metrics
    assert metrics["surname_probe"] > 100 / 7 + 15, metrics


def test_languages_never_seen_are_filled_in_worse(metrics):
    assert metrics["fill_seen_mean"] > metrics["fill_unseen_mean"] + 10, metrics


def test_text_to_image_draws_the_captioned_digit(metrics):
    assert metrics["t2i_recognised"] >= 0.8, metrics


def test_vision_result_is_the_honest_one_the_text_describes(metrics):
    # the notebook says: the probe is worse than from scratch, fine-tuning about equal
    assert metrics["vision_probe"] < metrics["vision_scratch"], metrics
    assert abs(metrics["vision_finetune"] - metrics["vision_scratch"]) < 5, metrics
    assert metrics["vision_scratch"] > 80, metrics
