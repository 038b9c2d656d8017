"""The shipped base model is what ``python -m course.pretrain_base`` makes; its text world keeps its promises."""

from __future__ import annotations

import re

import pytest
import torch

from course import basemodel, pretrain, pretrain_base, textworld
from course.foundation import state_hash, weights_dir


def test_shipped_weights_match_their_card():
    card = basemodel.model_card()
    path = weights_dir() / basemodel.WEIGHTS
    assert pretrain.file_hash(path) == card["file_sha256"] and card["file_bytes"] == path.stat().st_size
    model = basemodel.load_pretrained()  # raises if the parameter hash differs from the card
    assert state_hash(model) == card["state_sha256"]
    assert card["steps"] == pretrain_base.STEPS and card["seed"] == pretrain_base.SEED
    assert card["parameters"] == sum(p.numel() for p in model.parameters())
    assert path.stat().st_size < 2_000_000  # the budget: under 2 MB
    assert card["seconds"] <= 20 * 60  # "at most about 20 minutes on one CPU thread", as recorded when it was built


def test_short_run_agrees_with_the_card_within_the_stated_tolerance():
    card = basemodel.model_card()
    _, losses = pretrain_base.pretrain(seed=card["seed"], steps=card["steps"], stop_after=5, progress=False)
    worst = pretrain.worst_relative_difference(losses, card["first_losses"][:5])
    assert worst <= pretrain.LOSS_RTOL, f"the first losses differ from the card by {worst:.2e} (relative)"
    assert pretrain_base.check(steps=3) is True  # what `python -m course.pretrain_base --check` runs


def test_a_rerun_on_one_machine_is_bit_for_bit_identical():
    a, la = pretrain_base.pretrain(stop_after=3, progress=False)
    b, lb = pretrain_base.pretrain(stop_after=3, progress=False)
    assert la == lb and state_hash(a) == state_hash(b)


@pytest.fixture(scope="module")
def text() -> str:
    return textworld.pretraining_text(pretrain_base.CORPUS_CHARS)


def test_the_world_is_seeded_and_its_unseen_people_are_unseen(text):
    assert textworld.pretraining_text(5000) == text[: len(textworld.pretraining_text(5000))]
    known, unseen = textworld.known_people(), textworld.unseen_people()
    assert len(known) == textworld.N_KNOWN and len(unseen) == textworld.N_UNSEEN
    assert not {p.name for p in known} & {p.name for p in unseen}
    for p in unseen:
        assert not re.search(re.escape(p.name) + r"\b", text), p.name
    assert all(text.count(p.name) >= 20 for p in known[:20])  # the known ones are there, many times
    assert set(text) <= set(textworld.CHARS)


def test_eval_words_are_never_played_in_a_game(text):
    played = set(re.findall(r"^([a-z]+) -> ", text, re.M)) | set(re.findall(r"^[a-z]+: ([a-z]+) = ", text, re.M))
    assert played and not played & set(textworld.eval_words())
    assert len(textworld.eval_words()) >= 140 and not set(textworld.eval_words()) & set(textworld.train_words())


def test_no_dialogue_in_pretraining(text):
    assert "User:" not in text and "Bot:" not in text


def test_encode_decode_and_bad_input():
    assert basemodel.decode(basemodel.encode("Q: Where?\nA: Istra")) == "Q: Where?\nA: Istra"
    with pytest.raises(ValueError, match="cannot read"):
        basemodel.encode("café 42")
    with pytest.raises(TypeError):
        basemodel.encode(["a"])


def _greedy_without_cache(model, prompt: str, max_chars: int) -> str:
    """The definition of greedy decoding: run the model on the whole text (its last `context` characters) each step."""
    ids = basemodel.encode(prompt)
    out = []
    with torch.no_grad():
        for _ in range(max_chars):
            nxt = int(model(ids[-model.cfg.context:][None])[0, -1].argmax())
            if basemodel.CHARS[nxt] == "\n":
                break
            out.append(nxt)
            ids = torch.cat([ids, torch.tensor([nxt])])
    return basemodel.decode(out)


def test_cached_generation_gives_the_answers_of_plain_greedy_decoding():
    """complete_many keeps keys and values between steps when prompt and answer fit the context; a prompt longer
    than that takes the plain path. Either way the answers are those of running the model on the whole text."""
    model = basemodel.load_pretrained()
    long_prompt = "\n".join(f"{w} -> {w[::-1]}" for w in ("lamp", "stone", "river", "cloud") * 6) + "\nmoon ->"
    assert len(long_prompt) + 16 > model.cfg.context
    prompts = ["Write each word backwards.\nsun ->", "upper: cat =", "Q: Where does", "User: Where is Istra?\nBot:",
               long_prompt]
    got = basemodel.complete_many(model, prompts, 16)
    assert got == [_greedy_without_cache(model, p, 16) for p in prompts]
    assert got[0] and got[-1]  # something was generated on both paths


def test_complete_many_agrees_with_complete_and_continuation_probability_is_a_probability():
    model = basemodel.load_pretrained()
    prompts = ["Write each word twice.\nsun ->", "reverse: lamp =", "Q: Where does X", "upper: cat ="]
    assert basemodel.complete_many(model, prompts, 12) == [basemodel.complete(model, p, 12) for p in prompts]
    p = basemodel.continuation_probability(model, "reverse: lamp =", " pmal")
    total = sum(basemodel.continuation_probability(model, "upper: cat =", " " + ch) for ch in "ABCDEFGHIJKLMNOPQRSTUVWXYZ")
    assert 0 < p <= 1 and 0 < total <= 1.0001
    with pytest.raises(ValueError, match="length"):
        model(torch.zeros(1, model.cfg.context + 1, dtype=torch.long))
    with pytest.raises(TypeError):
        basemodel.complete_many(model, "one prompt")
