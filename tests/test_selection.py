"""03a's training settings come from the validation table it prints (course/weights/selection.json), and that
table was made from the notebook as it is."""

from __future__ import annotations

import ast
import json

from course import selection

import harness


def notebook_settings() -> dict[str, float]:
    """The values 03a assigns to C, NGRAM_C and LR, read from its code (the cell that defines ``adapt``)."""
    nb = harness.source_notebook("03_foundation_models", "03a_pretrain_then_finetune")
    cell = next(c for c in nb.cells if c.cell_type == "code" and "def adapt(" in c.source)
    found: dict[str, float] = {}
    for node in ast.parse(cell.source).body:
        if isinstance(node, ast.Assign):
            targets = node.targets[0]
            names = [t.id for t in (targets.elts if isinstance(targets, ast.Tuple) else [targets])
                     if isinstance(t, ast.Name)]
            if not {"C", "NGRAM_C", "LR"} & set(names):
                continue
            values = ast.literal_eval(node.value)
            values = values if isinstance(targets, ast.Tuple) else [values]
            for name, value in zip(names, values):
                if name in ("C", "NGRAM_C"):
                    found[{"C": "probe C", "NGRAM_C": "n-gram C"}[name]] = float(value)
                elif name == "LR":
                    found.update({f"{mode} lr": float(v) for mode, v in value.items() if mode != "probe"})
    return found


def test_selection_was_built_from_the_current_notebook():
    data = json.loads((harness.REPO / "course" / "weights" / selection.FILE).read_text())
    assert data["notebook"] == selection.notebook_hash(harness.REPO / "source" / selection.NOTEBOOK), \
        f"source/{selection.NOTEBOOK} changed since {selection.FILE} was built: run `python -m course.selection`"


def test_the_notebook_uses_the_values_chosen_on_validation_words():
    settings = selection.load()
    assert set(settings) == set(selection.GRID)
    for name, row in settings.items():
        assert [float(v) for v in row["tried"]] == selection.GRID[name]
        assert row["chosen"] == max((float(v) for v in row["tried"]), key=lambda v: row["tried"][repr(v)])
    assert notebook_settings() == {name: row["chosen"] for name, row in settings.items()}


def test_the_table_reads_as_a_table():
    text = selection.as_table(selection.load())
    assert len(text.splitlines()) == 1 + len(selection.GRID) and text.count("*") == len(selection.GRID) + 1
    assert "python -m course.selection" in selection.as_table({})
