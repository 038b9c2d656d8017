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


# --- 03c: from base model to assistant (thresholds leave room for another CPU's last digits) -------------

def test_prompting_adapts_the_base_model_without_training(metrics):
    # zero-shot with a known instruction already works; without it the model must guess the game
    assert metrics["prompt_k0"] >= 0.75, metrics
    assert metrics["examples_only_k0"] <= 0.4, metrics
    # one worked example tells the model which game is meant (in-context learning)
    assert metrics["examples_only_k1"] >= metrics["examples_only_k0"] + 0.4, metrics
    assert metrics["prompt_k4"] >= metrics["prompt_k0"], metrics


def test_examples_do_not_teach_a_game_never_seen_and_fine_tuning_on_them_does(metrics):
    """03c: "Prompting scores zero at every k"; fine-tuning "about one word in five after one example, close to nine
    in ten after 32"."""
    assert all(metrics[f"new_prompt_k{k}"] <= 0.05 for k in (0, 1, 2, 4, 8)), metrics
    assert 0.1 <= metrics["new_finetune_k1"] <= 0.35, metrics
    assert metrics["new_finetune_k32"] >= 0.75, metrics
    assert metrics["new_finetune_k8"] >= metrics["new_prompt_k8"] + 0.25, metrics
    tuned = [metrics[f"new_finetune_k{k}"] for k in (1, 2, 4, 8, 16, 32)]
    assert tuned == sorted(tuned), tuned  # more examples never hurt here


def test_one_model_does_every_text_to_text_task(metrics):
    tasks = ("reverse", "upper", "first", "double", "town", "job", "last")
    assert all(metrics[f"t2t_{t}"] >= 0.6 for t in tasks), metrics
    assert metrics["t2t_reverse"] < metrics["t2t_upper"], metrics  # "reverses less reliably than it writes capitals"


def test_instruction_tuning_changes_the_form(metrics):
    # the targets: at most about 20% well-formed before, at least 90% after
    assert metrics["base_well_formed"] <= 0.2, metrics
    assert metrics["tuned_well_formed"] >= 0.9, metrics
    # what the text says about knowledge: the where-questions carry over, the reworded job questions mostly do not
    assert metrics["tuned_answers_where"] >= 0.8, metrics
    assert metrics["tuned_answers_job"] <= 0.4 and metrics["base_job_recall"] >= 0.8, metrics
    assert max(metrics["tuned_answers_reverse"], metrics["tuned_answers_upper"]) <= 0.1, metrics  # "games fail"


def test_instruction_tuning_carries_the_form_but_not_the_answers_to_new_kinds(metrics):
    """03c: on two kinds of request no tuning pair used, every reply is well-formed and none answers."""
    assert metrics["base_well_formed_new_kinds"] <= 0.2, metrics
    assert metrics["tuned_well_formed_new_kinds"] >= 0.9, metrics
    assert metrics["tuned_answers_new_kinds"] <= 0.05, metrics                     # "hardly any of the 40"


def test_the_model_hallucinates_and_retrieval_fixes_it(metrics):
    assert metrics["accuracy_seen"] >= 0.9, metrics
    assert metrics["accuracy_unseen"] <= 3 * metrics["blind_guess"], metrics       # "about as often as a blind guess"
    assert metrics["median_confidence_seen"] >= 0.9, metrics
    assert metrics["blind_guess"] < metrics["median_confidence_unseen"] < 0.5, metrics
    assert metrics["retrieval_right_fact"] >= 0.95, metrics
    assert metrics["accuracy_unseen_with_retrieval"] >= 0.8, metrics                # the target
    assert metrics["assistant_unseen_well_formed"] >= 0.9 and metrics["assistant_unseen_correct"] <= 0.25, metrics


def test_a_retrieved_fact_wins_over_what_the_model_read(metrics):
    """03c: "the town on the line above the question wins over the town in its weights" (150 known people)."""
    assert metrics["known_follow_prompt"] >= 0.9, metrics
    assert metrics["known_keep_memory"] <= 0.1, metrics


def test_finetuning_adds_a_few_points_to_the_probe_most_at_k100(metrics):
    """03a: "fine-tuning, which starts from the probe, adds two to four points (the most at k = 100)"."""
    gain = {k: metrics[f"fm_finetune_k{k}"] - metrics[f"fm_probe_k{k}"] for k in (5, 20, 100)}
    assert all(1 <= g <= 5 for g in gain.values()) and gain[100] == max(gain.values()), gain


def test_preference_tuning_teaches_when_to_abstain(metrics):
    """03c section 7, on people no pair mentions. The bounds are wider than one run's numbers: trial runs of the same
    recipe with other batch orders and other new people moved the shares by tens of points (supervised tuning's
    abstentions on unseen people from 0.20 to 0.97, DPO with the next-character loss from 0.33 to 0.82), as
    another CPU's rounding may; the asserted orderings held in every trial."""
    assert metrics["pref_before_abstain_unseen"] <= 0.05, metrics                  # "never abstains"
    assert metrics["pref_before_known_right"] >= 0.9, metrics
    assert metrics["pref_dpo_abstain_unseen"] >= 0.3, metrics
    assert metrics["pref_dpo_known_right"] >= 0.8, metrics                         # "still answers nearly all"
    assert metrics["pref_dpo_known_idk"] <= 0.15, metrics
    assert metrics["pref_sft_abstain_unseen"] >= 0.1, metrics                      # "taught it the new reply"
    assert metrics["pref_sft_known_idk"] >= 0.15, metrics                          # "... but not when to use it"
    assert metrics["pref_sft_known_idk"] >= metrics["pref_dpo_known_idk"] + 0.1, metrics
    assert metrics["pref_sft_known_right"] <= metrics["pref_dpo_known_right"] - 0.1, metrics
    # DPO without the next-character loss "never abstains, and it lost much of what the assistant knew"
    assert metrics["pref_dpo_alone_abstain_unseen"] <= 0.1, metrics
    assert metrics["pref_dpo_alone_known_right"] <= metrics["pref_before_known_right"] - 0.3, metrics
    # "it adds no fact": hardly any unseen person gets the right town
    assert metrics["pref_dpo_unseen_right"] <= 0.15, metrics


def test_new_people_are_new():
    """textworld.new_people: none is a known or unseen person, and only a few names occur in the pretraining text
    (as one-off passages with the fact beside the question; the docstring says so)."""
    from course import textworld

    people = textworld.new_people(200, seed=1)
    names = {p.name for p in people}
    assert len(names) == 200 and people == textworld.new_people(200, seed=1)
    assert not names & {p.name for p in textworld.known_people() + textworld.unseen_people()}
    text = textworld.pretraining_text(6_000_000)
    assert sum(name in text for name in names) <= 10
    assert not any(f"{name} lives in" in text and text.count(name) > 3 for name in names)
