"""Pretrain the course's foundation model, bit for bit, from a seed: ``python -m course.pretrain``.

What it does: masked-character prediction (hide about a quarter of a word's letters, guess
them back) on :func:`course.corpora.pretraining_words`, about 34,000 unlabelled words
from ten languages, with AdamW, a short warm-up and a cosine learning-rate decay.
It writes ``course/weights/char_encoder.pt`` and ``char_encoder.json`` (config, seed,
steps, time taken, the losses of the first steps and the SHA-256 of the parameters).

Time: about 4 minutes on one CPU thread (it uses one thread, as the notebooks do: more
threads would not make this tiny model faster, and a fixed thread count keeps the result
bit for bit the same). ``--check`` re-runs only the first steps and compares their
losses with the ones recorded in the card.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path

import torch
from tqdm.auto import tqdm

from course import corpora
from course.foundation import (CARD, WEIGHTS, CharEncoder, EncoderConfig, config_dict, encode_batch,
                               masked_lm_loss, model_card, state_hash, weights_dir)

SEED = 0
STEPS = 6000
BATCH_SIZE = 128
LR = 3e-3
WARMUP = 200
RECORDED_STEPS = 20  # losses of the first steps, kept in the card for a quick reproducibility check


def learning_rate(step: int, steps: int = STEPS, lr: float = LR, warmup: int = WARMUP) -> float:
    """Linear warm-up for ``warmup`` steps, then a cosine decay to 5% of ``lr`` at ``steps``."""
    if step < warmup:
        return lr * (step + 1) / warmup
    progress = (step - warmup) / max(1, steps - warmup)
    return lr * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * progress)))


def pretrain(seed: int = SEED, steps: int = STEPS, stop_after: int | None = None, progress: bool = True,
             cfg: EncoderConfig | None = None) -> tuple[CharEncoder, list[float]]:
    """Pretrain a fresh :class:`CharEncoder`; return it (in eval mode) and the loss of every step.

    ``stop_after`` ends the run early without changing the schedule, so the first steps of a
    short run are exactly those of the full run.
    """
    torch.set_num_threads(1)
    torch.manual_seed(seed)
    model = CharEncoder(cfg or EncoderConfig())
    tokens = encode_batch(corpora.pretraining_words())
    gen = torch.Generator().manual_seed(seed)
    opt = torch.optim.AdamW(model.parameters(), lr=LR, weight_decay=0.01)
    last = steps if stop_after is None else min(steps, stop_after)
    losses: list[float] = []
    order = torch.randperm(len(tokens), generator=gen)
    cursor = 0
    model.train()
    bar = tqdm(range(last), desc="pretraining", disable=not progress, mininterval=1.0)
    for step in bar:
        if cursor + BATCH_SIZE > len(order):
            order, cursor = torch.randperm(len(tokens), generator=gen), 0
        batch = tokens[order[cursor : cursor + BATCH_SIZE]]
        cursor += BATCH_SIZE
        for group in opt.param_groups:
            group["lr"] = learning_rate(step, steps)
        loss = masked_lm_loss(model, batch, gen)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
        if step % 50 == 0:
            bar.set_postfix(loss=f"{sum(losses[-50:]) / len(losses[-50:]):.3f}")
    bar.close()
    return model.eval(), losses


def save(model: CharEncoder, losses: list[float], seconds: float, seed: int, folder: Path) -> dict:
    """Write the weights and their card to ``folder``; return the card."""
    folder.mkdir(parents=True, exist_ok=True)
    torch.save(model.state_dict(), folder / WEIGHTS)
    n_params = sum(p.numel() for p in model.parameters())
    card = {
        "model": "CharEncoder: character-level transformer encoder, masked-character pretraining",
        "config": config_dict(model.cfg),
        "parameters": n_params,
        "seed": seed,
        "steps": len(losses),
        "batch_size": BATCH_SIZE,
        "lr": LR,
        "corpus": f"course.corpora.pretraining_words(): {len(corpora.pretraining_words())} words, "
                  f"languages {', '.join(corpora.LANGUAGES)} (wordfreq 3.1.1, data CC BY-SA 4.0)",
        "torch": torch.__version__,
        "seconds": round(seconds, 1),
        "first_losses": losses[:RECORDED_STEPS],
        "final_loss_mean_last_200": sum(losses[-200:]) / len(losses[-200:]),
        "loss_every_100_steps": [round(sum(losses[i : i + 100]) / len(losses[i : i + 100]), 4)
                                 for i in range(0, len(losses), 100)],
        "state_sha256": state_hash(model),
    }
    (folder / CARD).write_text(json.dumps(card, indent=1) + "\n")
    return card


def check(steps: int = RECORDED_STEPS) -> bool:
    """Re-run the first ``steps`` steps and compare their losses with the card's; print the result."""
    card = model_card()
    _, losses = pretrain(seed=card["seed"], steps=card["steps"], stop_after=steps, progress=False)
    same = losses == card["first_losses"][:steps]
    print(("Same" if same else "DIFFERENT") + f" losses in the first {steps} steps as the shipped weights.")
    return same


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--steps", type=int, default=STEPS)
    parser.add_argument("--out", type=Path, default=None, help="folder for the weights (default: course/weights)")
    parser.add_argument("--check", action="store_true", help="only re-run the first steps and compare")
    args = parser.parse_args()
    if args.check:
        raise SystemExit(0 if check() else 1)
    start = time.perf_counter()
    model, losses = pretrain(args.seed, args.steps)
    seconds = time.perf_counter() - start
    card = save(model, losses, seconds, args.seed, args.out or weights_dir())
    print(f"Pretrained {card['parameters']:,} parameters in {seconds:.0f} s; "
          f"final loss {card['final_loss_mean_last_200']:.3f}; sha256 {card['state_sha256'][:16]}...")


if __name__ == "__main__":
    main()
