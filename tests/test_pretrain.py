"""The shipped foundation model is what ``python -m course.pretrain`` makes, and its helpers behave."""

from __future__ import annotations

import hashlib

import pytest
import torch

from course import corpora, foundation, pretrain


def test_shipped_weights_match_their_card():
    """The shipped file is the one the card describes (a file hash: the same on every machine)."""
    card = foundation.model_card()
    assert pretrain.file_hash(foundation.weights_dir() / foundation.WEIGHTS) == card["file_sha256"]
    model = foundation.load_pretrained()  # raises if the parameter hash differs from the card
    assert foundation.state_hash(model) == card["state_sha256"]
    assert card["steps"] == pretrain.STEPS and card["seed"] == pretrain.SEED
    assert card["parameters"] == sum(p.numel() for p in model.parameters()) < 500_000
    assert (foundation.weights_dir() / foundation.WEIGHTS).stat().st_size < 2_000_000  # the weights stay small


def test_short_run_agrees_with_the_card_within_the_stated_tolerance():
    """Across CPU families the first losses differ in the last digits, never by more than LOSS_RTOL."""
    card = foundation.model_card()
    _, losses = pretrain.pretrain(seed=card["seed"], steps=card["steps"], stop_after=pretrain.RECORDED_STEPS,
                                  progress=False)
    worst = pretrain.worst_relative_difference(losses, card["first_losses"])
    assert worst <= pretrain.LOSS_RTOL, f"the first losses differ from the card by {worst:.2e} (relative)"
    assert pretrain.check() is True


def test_a_rerun_on_one_machine_is_bit_for_bit_identical():
    a, la = pretrain.pretrain(stop_after=pretrain.RECORDED_STEPS, progress=False)
    b, lb = pretrain.pretrain(stop_after=pretrain.RECORDED_STEPS, progress=False)
    assert la == lb and foundation.state_hash(a) == foundation.state_hash(b)


def test_the_tolerance_check_tells_a_drift_from_a_different_run():
    recorded = [4.0, 3.5, 3.0]
    assert pretrain.worst_relative_difference(recorded, recorded) == 0
    assert pretrain.worst_relative_difference([4.0 * (1 + 3e-7), 3.5, 3.0], recorded) <= pretrain.LOSS_RTOL
    assert pretrain.worst_relative_difference([4.01, 3.5, 3.0], recorded) > pretrain.LOSS_RTOL
    with pytest.raises(ValueError):
        pretrain.worst_relative_difference([1.0], recorded)


def test_schedule_warms_up_and_decays():
    assert pretrain.learning_rate(0) < pretrain.learning_rate(pretrain.WARMUP - 1) == pytest.approx(pretrain.LR)
    assert pretrain.learning_rate(pretrain.STEPS) == pytest.approx(0.05 * pretrain.LR)


def test_encode_batch_pads_cuts_and_decodes():
    t = foundation.encode_batch(["Ab", "straße", "x" * 20, "日本"], max_len=8)
    assert t.dtype == torch.long and t.shape == (4, 8)
    assert t[0, 2:].eq(foundation.PAD).all() and t[3, :2].eq(foundation.UNK).all()
    assert foundation.decode(t)[:2] == ["ab", "straße"] and foundation.decode(t)[2] == "x" * 8
    with pytest.raises(TypeError):
        foundation.encode_batch("word")


def test_encoder_shapes_and_padding_independence():
    model = foundation.load_pretrained()
    a = foundation.encode_batch(["haus"], max_len=12)
    b = foundation.encode_batch(["haus"], max_len=6)
    assert model(a).shape == (1, 12, model.dim) and model.masked_logits(a).shape == (1, 12, foundation.VOCAB_SIZE)
    with torch.no_grad():
        assert torch.allclose(model.embed(a), model.embed(b), atol=1e-5)
    assert foundation.load_pretrained() is not model  # a fresh copy each time


def test_corpora_splits_are_disjoint_and_seeded():
    task = corpora.language_id()
    assert task.classes == corpora.LANGUAGES
    assert not set(task.test_words) & set(corpora.pretraining_words())
    assert not set(task.test_words) & set(task.pool_words)
    w1, l1 = task.few_shot(5, seed=1)
    assert (w1, l1) == task.few_shot(5, seed=1) and sorted(l1) == sorted(list(range(10)) * 5)
    names = corpora.surnames()
    assert len(names.classes) == 7 and not set(names.test_words) & set(names.pool_words)
    with pytest.raises(ValueError):
        corpora.words("xx")
    with pytest.raises(ValueError):
        task.few_shot(0)
    digest = hashlib.sha256("\n".join(corpora.pretraining_words()).encode()).hexdigest()
    assert foundation.model_card()["corpus"].startswith(f"course.corpora.pretraining_words(): "
                                                        f"{len(corpora.pretraining_words())} words"), digest
