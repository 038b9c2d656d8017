"""The course's own small foundation model: a character-level transformer encoder for words.

It was pretrained once (``python -m course.pretrain``) on about 147,000 unlabelled words
from ten languages, by masked-character prediction: hide some letters of a word, guess
them back. It never saw a language label. Module 03 adapts it to new tasks with a few
labels; the task heads, the freezing and the fine-tuning are the learner's to write.

The tokenizer is fixed: one token per character of :data:`ALPHABET`, plus padding,
mask and unknown tokens, so the same word always gives the same numbers.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from importlib import resources
from pathlib import Path

import torch
from torch import nn
from torch.nn import functional as F

#: Lower-case letters of the pretraining languages. Anything else becomes :data:`UNK`.
ALPHABET = "abcdefghijklmnopqrstuvwxyzàáâãäåçèéêëìíîïñòóôõöùúûüßąćęğıłńœśşźż"
PAD, MASK, UNK = 0, 1, 2
SPECIALS = ("_", "?", "#")  # how PAD, MASK and UNK are shown by :func:`decode`
VOCAB_SIZE = len(SPECIALS) + len(ALPHABET)
MAX_LEN = 12  # words are cut to this many characters
_INDEX = {ch: i + len(SPECIALS) for i, ch in enumerate(ALPHABET)}

WEIGHTS = "char_encoder.pt"
CARD = "char_encoder.json"


def encode_batch(words: Sequence[str], max_len: int = MAX_LEN) -> torch.Tensor:
    """Words as a ``len(words) x max_len`` LongTensor of character ids, padded with :data:`PAD`.

    Words are lower-cased and cut to ``max_len`` characters; unknown characters become :data:`UNK`.
    """
    if isinstance(words, str):
        raise TypeError("encode_batch() takes a list of words; for one word, use encode_batch([word])")
    out = torch.full((len(words), max_len), PAD, dtype=torch.long)
    for row, word in enumerate(words):
        ids = [_INDEX.get(ch, UNK) for ch in word.lower()[:max_len]]
        out[row, : len(ids)] = torch.tensor(ids, dtype=torch.long)
    return out


def decode(tokens: torch.Tensor) -> list[str]:
    """The inverse of :func:`encode_batch` (padding dropped, masks shown as ``?``, unknowns as ``#``)."""
    rows = tokens.tolist() if tokens.dim() == 2 else [tokens.tolist()]
    symbols = SPECIALS + tuple(ALPHABET)
    return ["".join(symbols[i] for i in row if i != PAD) for row in rows]


@dataclass(frozen=True)
class EncoderConfig:
    """The encoder's size. The shipped weights use the defaults."""

    dim: int = 128
    layers: int = 2
    heads: int = 4
    ff_dim: int = 256
    max_len: int = MAX_LEN
    vocab_size: int = VOCAB_SIZE


class Block(nn.Module):
    """One pre-norm transformer block: self-attention over the characters, then a feed-forward layer."""

    def __init__(self, cfg: EncoderConfig):
        super().__init__()
        self.heads = cfg.heads
        self.norm1, self.norm2 = nn.LayerNorm(cfg.dim), nn.LayerNorm(cfg.dim)
        self.qkv = nn.Linear(cfg.dim, 3 * cfg.dim)
        self.proj = nn.Linear(cfg.dim, cfg.dim)
        self.ff = nn.Sequential(nn.Linear(cfg.dim, cfg.ff_dim), nn.GELU(), nn.Linear(cfg.ff_dim, cfg.dim))

    def forward(self, h: torch.Tensor, keep: torch.Tensor) -> torch.Tensor:
        b, n, d = h.shape
        q, k, v = self.qkv(self.norm1(h)).view(b, n, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
        scores = q @ k.transpose(-1, -2) / math.sqrt(d // self.heads)
        scores = scores.masked_fill(~keep[:, None, None, :], float("-inf"))
        attn = (scores.softmax(-1) @ v).transpose(1, 2).reshape(b, n, d)
        h = h + self.proj(attn)
        return h + self.ff(self.norm2(h))


class CharEncoder(nn.Module):
    """A small BERT for words: character ids in, one vector per character (and per word) out.

    - ``model(tokens)``: ``batch x length x dim`` contextual character vectors;
    - ``model.embed(tokens)``: ``batch x dim``, the mean over the word's characters (padding ignored);
    - ``model.masked_logits(tokens)``: ``batch x length x vocab``, the pretraining head's guesses
      for every position (what letter is hidden here?).
    """

    def __init__(self, cfg: EncoderConfig | None = None):
        super().__init__()
        self.cfg = cfg or EncoderConfig()
        c = self.cfg
        self.tok = nn.Embedding(c.vocab_size, c.dim)
        self.pos = nn.Embedding(c.max_len, c.dim)
        self.blocks = nn.ModuleList(Block(c) for _ in range(c.layers))
        self.norm = nn.LayerNorm(c.dim)
        self.lm_head = nn.Linear(c.dim, c.vocab_size)

    @property
    def dim(self) -> int:
        return self.cfg.dim

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        if tokens.dim() != 2 or tokens.shape[1] > self.cfg.max_len:
            raise ValueError(f"tokens should be batch x length (length <= {self.cfg.max_len}), "
                             f"got shape {tuple(tokens.shape)}: use course.foundation.encode_batch(words)")
        keep = tokens != PAD
        keep = keep | ~keep.any(dim=1, keepdim=True)  # an empty word attends to its padding
        h = self.tok(tokens) + self.pos(torch.arange(tokens.shape[1]))
        for block in self.blocks:
            h = block(h, keep)
        return self.norm(h)

    def embed(self, tokens: torch.Tensor) -> torch.Tensor:
        """One vector per word: the mean of its characters' vectors."""
        h = self(tokens)
        keep = (tokens != PAD).unsqueeze(-1).float()
        return (h * keep).sum(1) / keep.sum(1).clamp(min=1.0)

    def masked_logits(self, tokens: torch.Tensor) -> torch.Tensor:
        """The pretraining head: scores over the vocabulary at every position."""
        return self.lm_head(self(tokens))


def masked_lm_loss(model: CharEncoder, tokens: torch.Tensor, generator: torch.Generator,
                   rate: float = 0.25) -> torch.Tensor:
    """The pretraining loss: hide a share ``rate`` of each word's letters (at least one), predict them.

    Cross-entropy over the hidden positions only. Random choices come from ``generator``.
    """
    real = tokens != PAD
    hide = (torch.rand(tokens.shape, generator=generator) < rate) & real
    # every word hides at least one letter: one position drawn uniformly among its real ones
    pick = torch.multinomial(real.float() + 1e-9, 1, generator=generator).squeeze(1)
    hide[torch.arange(len(tokens)), pick] = True
    hide &= real
    corrupted = tokens.masked_fill(hide, MASK)
    logits = model.masked_logits(corrupted)
    return F.cross_entropy(logits[hide], tokens[hide])


def state_hash(model: nn.Module) -> str:
    """SHA-256 of a model's parameters (names, shapes and raw bytes, in order): equal iff bit-for-bit equal."""
    h = hashlib.sha256()
    for name, t in model.state_dict().items():
        h.update(name.encode())
        h.update(str(tuple(t.shape)).encode())
        h.update(t.detach().contiguous().numpy().tobytes())
    return h.hexdigest()


def weights_dir() -> Path:
    """The folder inside the package that holds the shipped weights and their card."""
    return Path(str(resources.files("course").joinpath("weights")))


def model_card() -> dict:
    """The JSON next to the weights: config, seed, steps, time, losses of the first steps and the hash."""
    path = weights_dir() / CARD
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: run `python -m course.pretrain` to make the weights.")
    return json.loads(path.read_text())


def load_pretrained(path: str | Path | None = None, check: bool = True) -> CharEncoder:
    """A fresh copy of the pretrained encoder, in eval mode (every call gives a new, independent model).

    With ``check``, verifies that the weights are the ones recorded in the model card.
    """
    card = model_card()
    path = Path(path) if path else weights_dir() / WEIGHTS
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: run `python -m course.pretrain` to make the weights.")
    model = CharEncoder(EncoderConfig(**card["config"]))
    model.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
    if check and state_hash(model) != card["state_sha256"]:
        raise RuntimeError(f"{path} does not match the model card: re-run `python -m course.pretrain`.")
    return model.eval()


def config_dict(cfg: EncoderConfig) -> dict:
    return asdict(cfg)
