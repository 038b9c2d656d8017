"""Samples from the toy models of modules 01 to 03, for the capstone's side-by-side figure.

The models are the ones the instructor notebooks in ``source/`` train. ``python -m course.showcase``
executes those notebooks (about two minutes), reads samples from each trained model, and writes
``course/weights/showcase.json`` together with a hash of every notebook it ran. The capstone only
loads that file, so it needs no training; a test checks the hashes, so an edited notebook is noticed.
"""

from __future__ import annotations

import hashlib
import json
import os
from importlib import resources
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

FILE = "showcase.json"

#: notebook (relative to source/) -> code run after it, in its kernel; it prints one JSON object.
EXTRACT: dict[str, str] = {
    "01_generative_ai/2_variational_autoencoder.ipynb": """
with torch.no_grad():
    _z = torch.randn(24, LATENT, generator=torch.Generator().manual_seed(7))
    _out = {"vae_samples": torch.sigmoid(vae.decode(_z)).numpy().round(3).tolist()}
""",
    "01_generative_ai/3_generative_adversarial_network.ipynb": """
_out = {"gan_samples": gan_samples.numpy().round(3).tolist()}
""",
    "01_generative_ai/4_diffusion.ipynb": """
_out = {"diffusion_samples": diffusion_samples.numpy().round(3).tolist()}
""",
    "02_language_models/01_char_models.ipynb": """
_out = {"names_t05": generate(rnn, 10, temperature=0.5, seed=11), "names_t10": generate(rnn, 10, temperature=1.0, seed=11)}
""",
    "03_foundation_models/03a_pretrain_then_finetune.ipynb": """
with torch.no_grad():
    _pred = showcase(test_tokens).argmax(-1)
_cm = torch.zeros(len(CLASSES), len(CLASSES), dtype=torch.long)
for _t, _p in zip(test_y.tolist(), _pred.tolist()):
    _cm[_t, _p] += 1
_out = {"language_classes": [corpora.LANGUAGE_NAMES[c] for c in CLASSES], "language_confusion": _cm.tolist()}
""",
}


def repo_root() -> Path:
    return Path(__file__).resolve().parents[1]


def notebook_hash(path: Path) -> str:
    """SHA-256 of a notebook's code cells: what decides what it trains (its prose does not)."""
    import nbformat

    nb = nbformat.read(path, as_version=4)
    code = [c.source for c in nb.cells if c.cell_type == "code"]
    return hashlib.sha256("\n".join(code).encode("utf-8")).hexdigest()


def run_and_extract(path: Path, code: str) -> dict[str, Any]:
    """Execute a notebook, then ``code`` in its kernel; ``code`` leaves a JSON-able dict in ``_out``."""
    import nbformat
    from nbclient import NotebookClient
    from nbformat.v4 import new_code_cell

    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: run this from a clone of the course repository")
    os.environ["COURSE_STATIC_WIDGETS"] = "1"  # no interactive controls while executing headless
    nb = nbformat.read(path, as_version=4)
    nb.cells.append(new_code_cell(code + "\nimport json as _json\nprint(_json.dumps(_out))"))
    NotebookClient(nb, timeout=1200, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}).execute()
    printed = "".join(o.get("text", "") for o in nb.cells[-1].outputs
                      if o.get("output_type") == "stream" and o.get("name") == "stdout")
    return json.loads(printed.strip().splitlines()[-1])


def build(source: Path | None = None, target: Path | None = None) -> Path:
    """Execute the instructor notebooks, collect samples from their models, write the JSON."""
    from tqdm.auto import tqdm

    source = source or repo_root() / "source"
    target = target or Path(__file__).resolve().parent / "weights" / FILE
    data: dict[str, Any] = {"notebooks": {}}
    for rel, code in tqdm(EXTRACT.items(), desc="running notebooks"):
        data.update(run_and_extract(source / rel, code))
        data["notebooks"][rel] = notebook_hash(source / rel)
    target.write_text(json.dumps(data, separators=(",", ":")) + "\n")
    return target


def load() -> dict[str, Any]:
    """The shipped samples: ``vae_samples`` (24 x 64), ``gan_samples`` and ``diffusion_samples`` (1000 x 2
    each), ``names_t05`` and
    ``names_t10`` (10 names each), ``language_classes`` and ``language_confusion`` (10 x 10 counts)."""
    text = resources.files("course").joinpath("weights", FILE).read_text(encoding="utf-8")
    data = json.loads(text)
    for key in ("vae_samples", "gan_samples", "diffusion_samples", "language_confusion"):
        if key in data:  # a file from before a key was added still loads (while the next one is built)
            data[key] = np.asarray(data[key])
    return data


def _ring_panel(ax: Any, samples: np.ndarray, colour: str, title: str) -> None:
    """Samples of a model of the ring over the real data, with the eight mode centres."""
    from course.data import ring_centres, ring_of_gaussians

    real = ring_of_gaussians(1000, seed=0).numpy()
    ax.scatter(real[:, 0], real[:, 1], s=4, color="#BBBBBB", label="real data")
    ax.scatter(samples[:, 0], samples[:, 1], s=4, color=colour, alpha=0.6, label="samples")
    c = ring_centres().numpy()
    ax.scatter(c[:, 0], c[:, 1], marker="x", color="black", label="mode centres")
    ax.set(title=title, xlabel="$x_1$", ylabel="$x_2$", xlim=(-3, 3), ylim=(-3, 3))
    ax.set_aspect("equal", adjustable="box")
    ax.legend(loc="center", fontsize=8)


def draw(data: dict[str, Any] | None = None) -> Figure:
    """Five toy models side by side: VAE digits, GAN and diffusion points, sampled names, a confusion matrix."""
    from course.runtime import PALETTE

    d = data or load()
    fig = plt.figure(figsize=(15, 10))
    outer = fig.add_gridspec(2, 1, hspace=0.3)
    top = outer[0].subgridspec(1, 3, wspace=0.3)
    bottom = outer[1].subgridspec(1, 2, wspace=0.25)
    # VAE: a 4 x 6 block of decoded samples
    ax = fig.add_subplot(top[0, 0])
    tiles = np.zeros((4 * 9 - 1, 6 * 9 - 1))  # a one-pixel gap between digits
    for i, image in enumerate(d["vae_samples"].reshape(24, 8, 8)):
        r, c = divmod(i, 6)
        tiles[9 * r : 9 * r + 8, 9 * c : 9 * c + 8] = image
    ax.imshow(tiles, cmap="gray_r", vmin=0, vmax=1, interpolation="nearest")
    ax.set_title("VAE (module 01): new digits from random codes")
    ax.axis("off")
    _ring_panel(fig.add_subplot(top[0, 1]), d["gan_samples"], PALETTE[0], "GAN (module 01): samples over the ring")
    _ring_panel(fig.add_subplot(top[0, 2]), d["diffusion_samples"], PALETTE[2],
                "diffusion model (module 01): samples")
    # character model: names at two temperatures
    ax = fig.add_subplot(bottom[0, 0])
    ax.axis("off")
    ax.set_title("Character RNN (module 02): new first names")
    for col, (key, label) in enumerate((("names_t05", "temperature 0.5"), ("names_t10", "temperature 1.0"))):
        ax.text(0.05 + 0.5 * col, 0.95, label, fontweight="bold", va="top", transform=ax.transAxes)
        ax.text(0.05 + 0.5 * col, 0.85, "\n".join(d[key]), va="top", family="monospace", transform=ax.transAxes)
    # fine-tuned classifier: confusion matrix
    ax = fig.add_subplot(bottom[0, 1])
    cm = d["language_confusion"]
    share = cm / np.maximum(cm.sum(axis=1, keepdims=True), 1)
    image = ax.imshow(share, cmap="Blues", vmin=0, vmax=1)
    names = d["language_classes"]
    ax.set_xticks(range(len(names)), names, rotation=60, ha="right", fontsize=9)
    ax.set_yticks(range(len(names)), names, fontsize=9)
    ax.grid(False)
    accuracy = np.trace(cm) / cm.sum()
    ax.set(title=f"Fine-tuned classifier (module 03): accuracy {100 * accuracy:.0f}%",
           xlabel="predicted language", ylabel="true language")
    fig.colorbar(image, ax=ax, fraction=0.046, label="share of the true language's words")
    fig.suptitle("Five toy models you trained, side by side", fontsize=14)
    return fig


if __name__ == "__main__":
    print(f"written {build()}")
