"""How notebook 03a's training settings were chosen: on validation words that its test never uses.

03a measures four classifiers on 1,000 test words (every third word of the language task's test split). Their
settings (the L2 strength ``C`` of the two logistic regressions, the learning rates of fine-tuning and of
training from scratch) must not be chosen on those same words, or the test flatters them. ``python -m
course.selection`` executes the instructor notebook, then, for each setting in turn, tries a few values with
everything else as the notebook has it, on the notebook's own runs (k = 5, 20, 100 labelled words per language,
seeds 0 to 2), and scores each value by its mean accuracy on 1,000 *validation* words: the next third of the
test split, disjoint from the words the notebook reports. It writes ``course/weights/selection.json`` (every
value tried, its validation accuracy, the value chosen) with a hash of the notebook's code; 03a loads and prints
the table, and a test checks that the notebook uses the chosen values. About five minutes on one core.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

from course.showcase import notebook_hash, repo_root, run_and_extract

FILE = "selection.json"
NOTEBOOK = "03_foundation_models/03a_pretrain_then_finetune.ipynb"
#: setting -> the values tried (the notebook's variable is named in ``_SET``)
GRID: dict[str, list[float]] = {
    "probe C": [0.03, 0.1, 0.3, 1.0, 3.0],
    "n-gram C": [1.0, 3.0, 10.0, 30.0, 100.0],
    "fine-tune lr": [1e-4, 3e-4, 1e-3, 3e-3],
    "scratch lr": [1e-3, 3e-3, 1e-2],
}

_TRY = """
_val_words, _val_y = LANG.test_words[1::3], torch.tensor(LANG.test_labels[1::3])
assert not set(_val_words) & set(test_words), "validation and test words overlap"
_val_tokens = encode_batch(_val_words)
_runs = [(k, s, *LANG.few_shot(k, s)) for k in K_VALUES for s in SEEDS]
_keep = {"C": C, "NGRAM_C": NGRAM_C, "LR": dict(LR)}


def _score(setting):
    if setting == "n-gram C":
        return float(np.mean([ngram_accuracy(w, y, _val_words, _val_y) for _, _, w, y in _runs]))
    mode = {"probe C": "probe", "fine-tune lr": "fine-tune", "scratch lr": "scratch"}[setting]
    return float(np.mean([accuracy(adapt(mode, w, y, len(CLASSES), s), _val_tokens, _val_y) for _, s, w, y in _runs]))


def _set(setting, value):
    global C, NGRAM_C
    C, NGRAM_C = _keep["C"], _keep["NGRAM_C"]
    LR.update(_keep["LR"])
    if setting == "probe C":
        C = value
    elif setting == "n-gram C":
        NGRAM_C = value
    elif setting:
        LR[setting.split()[0]] = value


_out = {}
for _setting, _values in _grid.items():
    _out[_setting] = {}
    for _v in _values:
        _set(_setting, _v)
        _out[_setting][repr(_v)] = _score(_setting)
_set("", None)
"""


def build(source: Path | None = None, target: Path | None = None) -> Path:
    """Try every value of :data:`GRID` on the validation words and write the table as JSON."""
    source = source or repo_root() / "source"
    target = target or Path(__file__).resolve().parent / "weights" / FILE
    if not target.exists():  # 03a loads the table itself: give its first build an empty one
        target.write_text(json.dumps({"settings": {}, "notebook": ""}) + "\n")
    tried = run_and_extract(source / NOTEBOOK, f"_grid = {GRID!r}\n" + _TRY)
    settings = {}
    for name, scores in tried.items():
        best = max(scores, key=lambda v: scores[v])
        settings[name] = {"tried": {v: round(a, 4) for v, a in scores.items()}, "chosen": float(best)}
    target.write_text(json.dumps({"settings": settings, "notebook": notebook_hash(source / NOTEBOOK)}, indent=1) + "\n")
    return target


def load() -> dict[str, Any]:
    """The shipped table: for each setting, the validation accuracy of every value tried, and the one chosen."""
    text = resources.files("course").joinpath("weights", FILE).read_text(encoding="utf-8")
    return json.loads(text)["settings"]


def as_table(settings: dict[str, Any]) -> str:
    """The table as plain text: one line per setting, the chosen value marked with *."""
    if not settings:
        return "(no table yet: run `python -m course.selection`)"
    lines = ["validation accuracy (%, mean of k = 5, 20, 100 and 3 seeds) for each value tried; * = chosen"]
    for name, row in settings.items():
        cells = [f"{v}{'*' if float(v) == row['chosen'] else ''}: {100 * a:.1f}" for v, a in row["tried"].items()]
        lines.append(f"  {name:<13} " + "   ".join(cells))
    return "\n".join(lines)


if __name__ == "__main__":
    print(f"written {build()}")
