"""The course map: an Euler diagram of AI, machine learning, deep learning, generative AI,
foundation models and language models, with example systems placed on it.

Generative AI and language models reach outside deep learning (a Gaussian mixture, n-gram counts);
LLMs and foundation models lie inside it. The examples are the ones the course teaches with;
graded questions ask about others.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import matplotlib.pyplot as plt
from matplotlib.figure import Figure
from matplotlib.patches import Circle, FancyBboxPatch

from course.runtime import PALETTE

#: The four categories the course distinguishes (an LLM is also a language model).
CATEGORIES: tuple[str, ...] = ("generative", "language_model", "llm", "foundation")

#: How the categories read in the map's explanations.
CATEGORY_NAMES: dict[str, str] = {"generative": "generative AI", "language_model": "language model",
                                  "llm": "LLM", "foundation": "foundation model"}


@dataclass(frozen=True)
class Example:
    name: str
    categories: frozenset[str]
    deep: bool  # a deep neural network (inside the deep-learning box), or classical machine learning
    why: str
    xy: tuple[float, float]


EXAMPLES: dict[str, Example] = {e.name: e for e in [
    Example("Gaussian mixture", frozenset({"generative"}), False,
            "a few Gaussian bumps fitted to data points (module 01); it learns a distribution and samples new "
            "points from it, with no neural network at all", (36.5, 23.5)),
    Example("bigram model", frozenset({"generative", "language_model"}), False,
            "counts which letter follows which (module 02): it gives every name a probability and samples new "
            "ones, with no neural network. Counting models of text go back to Shannon (1948)", (50.5, 22.5)),
    Example("GAN", frozenset({"generative"}), True,
            "learns to produce new images that a discriminator cannot tell from real ones; trained on one kind "
            "of data for one job, so not a foundation model", (31, 47)),
    Example("VAE", frozenset({"generative"}), True,
            "learns a latent space and a decoder; sampling the latent space gives new items", (31, 40)),
    Example("tiny diffusion model", frozenset({"generative"}), True,
            "the course's own denoising model of points on a ring (module 01): it learns to undo noise step "
            "by step and so samples new points. The same method as DALL-E 2, but trained on one small "
            "dataset for one job, so not a foundation model", (36, 34.5)),
    Example("char RNN", frozenset({"generative", "language_model"}), True,
            "a small recurrent network that predicts the next letter of a name and samples new names (module "
            "02): a neural language model, but far too small and narrow to be an LLM or a foundation model",
            (46, 31)),
    Example("GPT-2", frozenset({"generative", "language_model", "llm", "foundation"}), True,
            "1.5 billion parameters, pretrained to predict the next token of web text; samples text and can "
            "be adapted to many tasks", (58.5, 45.5)),
    Example("GPT-3", frozenset({"generative", "language_model", "llm", "foundation"}), True,
            "175 billion parameters, pretrained to predict the next token: a base model, which continues text; "
            "adapted to new tasks by prompting with a few examples (module 03c)", (56.3, 41.5)),
    Example("ChatGPT", frozenset({"generative", "language_model", "llm", "foundation"}), True,
            "an assistant: a GPT base model adapted in its weights by instruction tuning and preference tuning "
            "(RLHF) so that it answers requests; the same foundation model underneath (module 03c)", (60.6, 34.6)),
    Example("GPT-4", frozenset({"generative", "language_model", "llm", "foundation"}), True,
            "a large generative model of text that also reads images; adapted by prompting and fine-tuning",
            (58.3, 37.8)),
    Example("T5", frozenset({"generative", "language_model", "llm", "foundation"}), True,
            "an encoder-decoder pretrained by span corruption (writing out stretches of web text that were "
            "cut out); casts every task as text in, text out; in its paper it was fine-tuned for each task "
            "separately", (62.2, 41.5)),
    Example("BERT", frozenset({"language_model", "llm", "foundation"}), True,
            "110 to 340 million parameters, pretrained by filling in masked words; fine-tuned to classify "
            "and extract, not used to write", (69, 38)),
    Example("DALL-E 2", frozenset({"generative", "foundation"}), True,
            "a diffusion model that draws images from a text prompt, guided by a pretrained text-image "
            "encoder (CLIP); trained on hundreds of millions of image-caption pairs", (54.5, 51.5)),
    Example("spam filter", frozenset(), False,
            "logistic regression on word counts, trained on labelled e-mail: a discriminative model, it "
            "learns p(spam | words) and can label an e-mail but not write one. Machine learning, but none "
            "of the three", (14, 45)),
]}

#: The deep-learning box (x, y, width, height): LLMs and foundation models lie inside it.
DEEP_LEARNING: tuple[float, float, float, float] = (22, 27, 71, 40)

_REGIONS = {  # name: (centre, radius, colour)
    "generative": ((45, 38), 21, PALETTE[1]),
    "foundation": ((67, 48), 16, PALETTE[0]),
    "language_model": ((60, 32), 18, PALETTE[2]),
    "llm": ((62, 40.5), 9.5, PALETTE[3]),
}
_LABELS = {
    "generative": ("Generative AI", (33, 53.5)),
    "foundation": ("Foundation models", (78, 61.5)),
    "language_model": ("Language models", (66, 18)),
    "llm": ("LLMs", (68.6, 33.5)),
}


def in_deep_learning(xy: tuple[float, float]) -> bool:
    """Whether a point of the map lies inside the deep-learning box."""
    x, y, w, h = DEEP_LEARNING
    return x < xy[0] < x + w and y < xy[1] < y + h


def circle_in_deep_learning(name: str) -> bool:
    """Whether the whole circle of a category lies inside the deep-learning box."""
    (cx, cy), r, _ = _REGIONS[name]
    x, y, w, h = DEEP_LEARNING
    return x <= cx - r and cx + r <= x + w and y <= cy - r and cy + r <= y + h


def regions_at(xy: tuple[float, float]) -> set[str]:
    """The categories whose circle contains a point of the map."""
    return {name for name, (centre, radius, _) in _REGIONS.items() if math.dist(xy, centre) < radius}


def draw_map(highlight: str | None = None, show_examples: bool = True) -> Figure:
    """Draw the course map; ``highlight`` names an example (see :data:`EXAMPLES`) to mark and explain."""
    if highlight is not None and highlight not in EXAMPLES:
        raise ValueError(f"unknown example {highlight!r}; choose one of: {', '.join(EXAMPLES)}")
    fig, ax = plt.subplots(figsize=(10, 7.4))
    boxes = [("Artificial intelligence", (1, 9, 98, 70), "#f4f4f4", "top"),
             ("Machine learning", (4, 11, 92, 62), "#e9e9e9", "top"),
             ("Deep learning", DEEP_LEARNING, "#dcdcdc", "top")]
    for label, (x, y, w, h), colour, where in boxes:
        ax.add_patch(FancyBboxPatch((x, y), w, h, boxstyle="round,pad=0,rounding_size=3", fc=colour,
                                    ec="#555555", lw=1))
        ty, va = (y + h - 2.5, "top") if where == "top" else (y + 1.5, "bottom")
        ax.text(x + 1.5, ty, label, fontsize=12, fontweight="bold", color="#333333", va=va)
    for name, (centre, radius, colour) in _REGIONS.items():
        ax.add_patch(Circle(centre, radius, fc=colour, ec=colour, alpha=0.22, lw=2))
        ax.add_patch(Circle(centre, radius, fc="none", ec=colour, lw=2))
        text, pos = _LABELS[name]
        ax.text(*pos, text, fontsize=12, fontweight="bold", color=colour, ha="center", va="center",
                bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.75})
    if show_examples:
        for ex in EXAMPLES.values():
            strong = ex.name == highlight
            ax.text(*ex.xy, ex.name, ha="center", va="center", fontsize=11 if strong else 10,
                    fontweight="bold" if strong else "normal",
                    bbox={"boxstyle": "round,pad=0.25", "fc": "white", "ec": "black" if strong else "#888888",
                          "lw": 2 if strong else 0.6})
    title = "The course map: where the three terms overlap"
    if highlight is not None:
        ex = EXAMPLES[highlight]
        cats = ", ".join(CATEGORY_NAMES[c] for c in CATEGORIES if c in ex.categories) or "none of the three"
        kind = "deep learning" if ex.deep else "machine learning without deep networks"
        title += f"\n{highlight}: {cats} ({kind})"
        fig.text(0.5, 0.02, ex.why, ha="center", fontsize=10, wrap=True)
    ax.set_title(title)
    ax.set_xlim(0, 100)
    ax.set_ylim(8, 80)
    ax.set_aspect("equal")
    ax.axis("off")
    fig.tight_layout(rect=(0, 0.05 if highlight else 0, 1, 1))
    return fig
