"""The course's generative base model: a small causal transformer over characters (a tiny GPT).

It was pretrained once (``python -m course.pretrain_base``) by next-character prediction on the
text world of :mod:`course.textworld`: facts about fictional people, questions with answers,
short passages, word games and lines with a task prefix. Nobody labelled a task for it: it only
learned to continue text. Notebook 03c prompts it, adapts it and grounds it; the prompts, the
tuning data and the retrieval step are the learner's to write.

One token per character of :data:`course.textworld.CHARS` (anything else is an error, so a typo
in a prompt is caught, not silently mapped).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from torch import nn
from torch.nn import functional as F

from course.foundation import state_hash, weights_dir
from course.textworld import CHARS

WEIGHTS = "base_model.pt"
CARD = "base_model.json"
_INDEX = {ch: i for i, ch in enumerate(CHARS)}


def encode(text: str) -> torch.Tensor:
    """A text as a 1-D LongTensor of character ids."""
    if not isinstance(text, str):
        raise TypeError(f"encode() takes a string, got {type(text).__name__}")
    bad = sorted({ch for ch in text if ch not in _INDEX})
    if bad:
        raise ValueError(f"the base model cannot read {bad!r}: it reads only English letters (no digits) and "
                         f"{CHARS[:11]!r}")
    return torch.tensor([_INDEX[ch] for ch in text], dtype=torch.long)


def decode(ids: Sequence[int] | torch.Tensor) -> str:
    """The inverse of :func:`encode`."""
    return "".join(CHARS[i] for i in (ids.tolist() if isinstance(ids, torch.Tensor) else ids))


@dataclass(frozen=True)
class BaseConfig:
    """The base model's size. The shipped weights use the defaults."""

    dim: int = 96
    layers: int = 4
    heads: int = 4
    context: int = 128
    vocab_size: int = len(CHARS)


def rotate(x: torch.Tensor, start: int = 0) -> torch.Tensor:
    """Rotary position embedding (RoPE) of ``batch x heads x length x head_dim`` queries or keys at positions
    ``start, start + 1, ...``: each pair of numbers is turned by an angle that grows with the position, so that
    attention scores depend on how far apart two positions are, not on where they are."""
    n, d = x.shape[-2], x.shape[-1]
    freq = 10000.0 ** (-torch.arange(0, d, 2, dtype=torch.float32) / d)
    angle = torch.arange(start, start + n, dtype=torch.float32)[:, None] * freq[None, :]
    cos, sin = angle.cos(), angle.sin()
    x1, x2 = x[..., 0::2], x[..., 1::2]
    return torch.stack([x1 * cos - x2 * sin, x1 * sin + x2 * cos], dim=-1).flatten(-2)


class CausalBlock(nn.Module):
    """A pre-norm transformer block whose attention looks only at earlier positions (positions by RoPE)."""

    def __init__(self, cfg: BaseConfig):
        super().__init__()
        self.heads = cfg.heads
        self.norm1, self.norm2 = nn.LayerNorm(cfg.dim), nn.LayerNorm(cfg.dim)
        self.qkv = nn.Linear(cfg.dim, 3 * cfg.dim)
        self.proj = nn.Linear(cfg.dim, cfg.dim)
        self.ff = nn.Sequential(nn.Linear(cfg.dim, 4 * cfg.dim), nn.GELU(), nn.Linear(4 * cfg.dim, cfg.dim))

    def forward(self, h: torch.Tensor, cache: list[torch.Tensor] | None = None) -> torch.Tensor:
        """``cache`` (for generation): the keys and values of the positions before ``h``, extended in place."""
        b, n, d = h.shape
        q, k, v = self.qkv(self.norm1(h)).view(b, n, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
        start = cache[0].shape[2] if cache else 0
        q, k = rotate(q, start), rotate(k, start)
        if cache is not None:
            if cache:
                k, v = torch.cat([cache[0], k], 2), torch.cat([cache[1], v], 2)
            cache[:] = [k, v]
        # one new position attends to all earlier ones; a first pass attends causally
        attn = F.scaled_dot_product_attention(q, k, v, is_causal=start == 0).transpose(1, 2).reshape(b, n, d)
        h = h + self.proj(attn)
        return h + self.ff(self.norm2(h))


class BaseModel(nn.Module):
    """A tiny GPT: ``model(ids)`` maps ``batch x length`` character ids to ``batch x length x vocab``
    scores for the next character at every position (length at most ``cfg.context``)."""

    def __init__(self, cfg: BaseConfig | None = None):
        super().__init__()
        self.cfg = cfg or BaseConfig()
        c = self.cfg
        self.tok = nn.Embedding(c.vocab_size, c.dim)
        self.blocks = nn.ModuleList(CausalBlock(c) for _ in range(c.layers))
        self.norm = nn.LayerNorm(c.dim)
        self.head = nn.Linear(c.dim, c.vocab_size)

    def forward(self, ids: torch.Tensor, cache: list[list[torch.Tensor]] | None = None) -> torch.Tensor:
        """``cache`` (for generation): one list per block, empty at first, that keeps the keys and values seen."""
        seen = cache[0][0].shape[2] if cache and cache[0] else 0
        if ids.dim() != 2 or seen + ids.shape[1] > self.cfg.context:
            raise ValueError(f"ids should be batch x length with length <= {self.cfg.context}, "
                             f"got shape {tuple(ids.shape)}" + (f" after {seen} cached positions" if seen else ""))
        h = self.tok(ids)
        for i, block in enumerate(self.blocks):
            h = block(h, cache[i] if cache is not None else None)
        return self.head(self.norm(h))


def lm_loss(model: BaseModel, ids: torch.Tensor, weight: torch.Tensor | None = None) -> torch.Tensor:
    """Next-character cross-entropy of ``batch x (length + 1)`` ids; ``weight`` (``batch x length``,
    0 or 1) keeps only some target positions, e.g. an assistant's replies."""
    logits = model(ids[:, :-1])
    losses = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), ids[:, 1:].reshape(-1), reduction="none")
    if weight is None:
        return losses.mean()
    w = weight.reshape(-1).float()
    return (losses * w).sum() / w.sum().clamp(min=1.0)


def complete(model: BaseModel, prompt: str, max_chars: int = 40, stop: str = "\n") -> str:
    """Greedy continuation of ``prompt``: the most likely next character, again and again, until ``stop``
    (not included) or ``max_chars``. The prompt's last ``context`` characters are what the model sees."""
    return complete_many(model, [prompt], max_chars, stop)[0]


@torch.no_grad()
def complete_many(model: BaseModel, prompts: Sequence[str], max_chars: int = 40, stop: str = "\n") -> list[str]:
    """:func:`complete` for many prompts at once (prompts of equal length share a batch): the same answers,
    faster."""
    if isinstance(prompts, str):
        raise TypeError("complete_many() takes a list of prompts; for one prompt, use complete()")
    answers = [""] * len(prompts)
    groups: dict[int, list[int]] = {}
    for i, prompt in enumerate(prompts):
        groups.setdefault(len(prompt), []).append(i)
    stop_id = _INDEX[stop]
    for members in groups.values():
        ids = torch.stack([encode(prompts[i]) for i in members])
        # prompt and answer fit the context: keep each block's keys and values, feed one new character per step;
        # longer: run the model on the last `context` characters at every step
        cache: list[list[torch.Tensor]] | None = [[] for _ in model.blocks] if ids.shape[1] + max_chars <= model.cfg.context else None
        done = torch.zeros(len(members), dtype=torch.bool)
        out = []
        step_in = ids
        for _ in range(max_chars):
            logits = model(step_in, cache) if cache is not None else model(ids[:, -model.cfg.context:])
            nxt = logits[:, -1].argmax(-1)
            out.append(nxt)
            done |= nxt == stop_id
            if done.all():
                break
            ids, step_in = torch.cat([ids, nxt[:, None]], 1), nxt[:, None]
        chars = torch.stack(out, 1).tolist()
        for row, i in zip(chars, members):
            answers[i] = decode(row[: row.index(stop_id)] if stop_id in row else row)
    return answers


@torch.no_grad()
def continuation_probability(model: BaseModel, prompt: str, continuation: str) -> float:
    """The probability the model gives to ``continuation`` right after ``prompt`` (a product over its characters)."""
    ids = encode(prompt + continuation)[-model.cfg.context - 1:]
    n = len(continuation)
    logp = model(ids[None, :-1])[0].log_softmax(-1)[-n:]
    return float(logp.gather(1, ids[-n:, None]).sum().exp())


def model_card() -> dict:
    """The JSON next to the weights: config, seed, steps, time, data, losses of the first steps and hashes."""
    path = weights_dir() / CARD
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: run `python -m course.pretrain_base` to make the weights.")
    return json.loads(path.read_text())


def load_pretrained(check: bool = True) -> BaseModel:
    """A fresh copy of the pretrained base model, in eval mode (each call gives an independent model).

    With ``check``, verifies that the weights are the ones recorded in the model card.
    """
    card = model_card()
    path = weights_dir() / WEIGHTS
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: run `python -m course.pretrain_base` to make the weights.")
    model = BaseModel(BaseConfig(**card["config"]))
    model.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
    if check and state_hash(model) != card["state_sha256"]:
        raise RuntimeError(f"{path} does not match the model card: re-run `python -m course.pretrain_base`.")
    return model.eval()


def config_dict(cfg: BaseConfig) -> dict:
    return asdict(cfg)
