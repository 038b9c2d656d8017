"""Mode coverage of the GAN and the diffusion model over several training seeds.

One training run says little about how reliably a recipe covers the eight modes of the ring: a GAN that
covers all eight with one seed may drop some with the next. ``python -m course.coverage`` executes the
instructor notebooks of module 01 (the GAN of notebook 3, the diffusion model of notebook 4), then trains
each notebook's model again with its own training function and settings, once per seed, and measures the
samples with the notebook's own ``modes_covered`` and ``mode_shares``. Seed 0 is the run the notebooks show.
It writes ``course/weights/mode_coverage.json`` with a hash of each notebook's code; it takes about five
minutes on one core. Notebook 4 only loads the file (ten trainings would not fit its time budget); a test
checks the hashes, so an edited notebook is noticed.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

from course.showcase import notebook_hash, repo_root, run_and_extract

FILE = "mode_coverage.json"
SEEDS = (0, 1, 2, 3, 4)

#: notebook (relative to source/) -> code run after it, in its kernel, for every seed in ``_seeds``
RETRAIN: dict[str, str] = {
    "01_generative_ai/3_generative_adversarial_network.ipynb": """
_out = []
for _s in _seeds:
    _, _, _, _, _samples = train_gan(seed=_s, desc=f"GAN, seed {_s}")
    _out.append({"gan_modes_covered": modes_covered(_samples, centres, STD),
                 "gan_share_near_a_mode": float(mode_shares(_samples, centres, STD).sum())})
""",
    "01_generative_ai/4_diffusion.ipynb": """
_out = []
for _s in _seeds:
    _model, _ = train_denoiser(seed=_s, desc=f"diffusion, seed {_s}")
    _samples, _ = sample(_model, 1000, _s + 1, betas, alpha_bars)  # seed 0: the notebook's own run (sampled with seed 1)
    _out.append({"diffusion_modes_covered": modes_covered(_samples, centres, STD),
                 "diffusion_share_near_a_mode": float(mode_shares(_samples, centres, STD).sum())})
""",
}


def build(source: Path | None = None, target: Path | None = None, seeds: tuple[int, ...] = SEEDS) -> Path:
    """Retrain each model of :data:`RETRAIN` once per seed and write the table as JSON."""
    source = source or repo_root() / "source"
    target = target or Path(__file__).resolve().parent / "weights" / FILE
    if not target.exists():  # notebook 4 loads the table itself: give its first build an empty one
        target.write_text(json.dumps({"rows": [], "notebooks": {}}) + "\n")
    rows: list[dict[str, Any]] = [{"seed": s} for s in seeds]
    for rel, code in RETRAIN.items():
        measured = run_and_extract(source / rel, f"_seeds = {list(seeds)!r}\n" + code)
        for row, values in zip(rows, measured, strict=True):
            row.update(values)
    data = {"rows": rows, "notebooks": {rel: notebook_hash(source / rel) for rel in RETRAIN}}
    target.write_text(json.dumps(data, indent=1) + "\n")
    return target


def load() -> list[dict[str, Any]]:
    """The shipped table: one row per seed, with the GAN's and the diffusion model's coverage."""
    text = resources.files("course").joinpath("weights", FILE).read_text(encoding="utf-8")
    return json.loads(text)["rows"]


def as_table(rows: list[dict[str, Any]]) -> str:
    """The rows as a plain-text table: modes covered (of 8) and the share of samples near a mode."""
    if not rows:
        return "(no table yet: run `python -m course.coverage`)"
    lines = ["seed | GAN: modes covered, share near a mode | diffusion: modes covered, share near a mode",
             "-----+-------------------------------------+-------------------------------------------"]
    for r in rows:
        lines.append(f"{r['seed']:>4} | {r['gan_modes_covered']:>10} of 8 {r['gan_share_near_a_mode']:>18.2f} |"
                     f" {r['diffusion_modes_covered']:>16} of 8 {r['diffusion_share_near_a_mode']:>18.2f}")
    return "\n".join(lines)


if __name__ == "__main__":
    print(f"written {build()}")
