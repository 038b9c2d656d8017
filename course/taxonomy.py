"""The course map: an Euler diagram of AI, machine learning, deep learning, generative AI,
foundation models and language models, with example systems placed on it.

The examples are the ones the course teaches with; graded questions ask about others.
"""

from __future__ import annotations

from dataclasses import dataclass

import matplotlib.pyplot as plt
from matplotlib.figure import Figure
from matplotlib.patches import Circle, FancyBboxPatch

from course.runtime import PALETTE

#: The four categories the course distinguishes inside deep learning (an LLM is also a language model).
CATEGORIES: tuple[str, ...] = ("generative", "language_model", "llm", "foundation")


@dataclass(frozen=True)
class Example:
    name: str
    categories: frozenset[str]
    why: str
    xy: tuple[float, float]


EXAMPLES: dict[str, Example] = {e.name: e for e in [
    Example("GAN", frozenset({"generative"}),
            "learns to produce new images that a discriminator cannot tell from real ones; trained on one kind "
            "of data for one job, so not a foundation model", (40, 53)),
    Example("VAE", frozenset({"generative"}),
            "learns a latent space and a decoder; sampling the latent space gives new items", (40, 46)),
    Example("char RNN", frozenset({"generative", "language_model"}),
            "predicts the next character of a name and samples new names; a language model, but tiny", (46, 30)),
    Example("GPT-2", frozenset({"generative", "language_model", "llm", "foundation"}),
            "1.5 billion parameters trained to predict the next token of web text; samples text and can be "
            "adapted to many tasks", (56, 38.5)),
    Example("GPT-3", frozenset({"generative", "language_model", "llm", "foundation"}),
            "175 billion parameters; adapted by prompting with a few examples", (62.5, 39.5)),
    Example("GPT-4", frozenset({"generative", "language_model", "llm", "foundation"}),
            "a large generative model of text (it also reads images), adapted by prompting and fine-tuning",
            (55, 35)),
    Example("T5", frozenset({"generative", "language_model", "llm", "foundation"}),
            "an encoder-decoder pretrained on web text that casts every task as text in, text out", (62.5, 35.5)),
    Example("BERT", frozenset({"language_model", "llm", "foundation"}),
            "pretrained by filling in masked words; fine-tuned to classify and extract, not to write",
            (68, 32)),
    Example("DALL-E", frozenset({"generative", "foundation"}),
            "draws images from a text prompt; pretrained on hundreds of millions of image-text pairs", (59, 53)),
    Example("spam filter", frozenset(),
            "a classifier (say, naive Bayes on word counts) trained on labelled e-mail: "
            "machine learning, but none of the three", (15, 36)),
]}

_REGIONS = {  # name: (centre, radius, colour)
    "generative": ((50, 44), 17, PALETTE[1]),
    "foundation": ((68, 44), 17, PALETTE[0]),
    "language_model": ((59, 24), 18, PALETTE[2]),
    "llm": ((61, 31), 10, PALETTE[3]),
}
_LABELS = {
    "generative": ("Generative AI", (44, 64)),
    "foundation": ("Foundation models", (76, 64)),
    "language_model": ("Language models", (84, 11)),
    "llm": ("LLMs", (61, 24)),
}


def draw_map(highlight: str | None = None, show_examples: bool = True) -> Figure:
    """Draw the course map; ``highlight`` names an example (see :data:`EXAMPLES`) to mark and explain."""
    if highlight is not None and highlight not in EXAMPLES:
        raise ValueError(f"unknown example {highlight!r}; choose one of: {', '.join(EXAMPLES)}")
    fig, ax = plt.subplots(figsize=(10, 8))
    boxes = [("Artificial intelligence", (1, 1, 98, 76), "#f4f4f4", "top"),
             ("Machine learning", (4, 3, 92, 68), "#e9e9e9", "top"),
             ("Deep learning", (26, 4.5, 68, 63), "#dcdcdc", "bottom")]
    for label, (x, y, w, h), colour, where in boxes:
        ax.add_patch(FancyBboxPatch((x, y), w, h, boxstyle="round,pad=0,rounding_size=3", fc=colour,
                                    ec="#555555", lw=1))
        ty, va = (y + h - 2.5, "top") if where == "top" else (y + 1.5, "bottom")
        ax.text(x + 1.5, ty, label, fontsize=12, fontweight="bold", color="#333333", va=va)
    for name, (centre, radius, colour) in _REGIONS.items():
        ax.add_patch(Circle(centre, radius, fc=colour, ec=colour, alpha=0.22, lw=2))
        ax.add_patch(Circle(centre, radius, fc="none", ec=colour, lw=2))
        text, pos = _LABELS[name]
        ax.text(*pos, text, fontsize=12, fontweight="bold", color=colour, ha="center", va="center")
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
        cats = ", ".join(sorted(ex.categories)) or "none of the three"
        title += f"\n{highlight}: {cats}"
        fig.text(0.5, 0.02, ex.why, ha="center", fontsize=10, wrap=True)
    ax.set_title(title)
    ax.set_xlim(0, 100)
    ax.set_ylim(0, 78)
    ax.set_aspect("equal")
    ax.axis("off")
    fig.tight_layout(rect=(0, 0.05 if highlight else 0, 1, 1))
    return fig
