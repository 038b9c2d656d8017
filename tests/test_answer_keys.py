"""Structured answers cannot be gamed: guessing and answer patterns earn little (CONTRIBUTING.md,
"Grading conventions").

For every notebook in source/, each test cell that records structured answers is read with its key:
the instructor's solution cell above it and the test cell itself run here against stand-ins for
``course.checks``, so the allowed options come from the same ``expect_answered`` call learners meet.
Two strategies that need no understanding are then scored as the grader would score them (each
answer earns an equal share of its cell's points):

- **uniform guessing**: every answer drawn at random from its allowed options (a set answer from
  all subsets of them); its expected score;
- **one constant per question**: one answer repeated for every key of a question (for a table scored
  row by row, one row repeated down the table, i.e. one answer per column), the best such constant
  chosen with hindsight. A question with a single key has no pattern to repeat: it counts as guessed.

Both are compared with the notebook's autograded points (every test cell, answers and code alike).
"""

from __future__ import annotations

import ast
import builtins
import contextlib
import io
import itertools
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import nbformat
import pytest

from courses import REPO

GUESS_CAP = 0.25  # the floor of a four-option test
CONSTANT_CAP = 0.30
NOTEBOOKS = sorted(REPO.glob("source/*/*.ipynb"))


@dataclass
class Question:
    """One test cell of structured answers: its points, each key's right answer and options."""

    cell: str
    points: float
    key: dict[str, Any] = field(default_factory=dict)
    options: dict[str, list[Any] | None] = field(default_factory=dict)  # None: not a closed choice
    groups: dict[str, list[str]] = field(default_factory=dict)  # keys answered by one constant

    def guess_share(self) -> float:
        return sum(_guess_chance(self.key[k], self.options[k]) for k in self.key) / len(self.key)

    def constant_share(self) -> float:
        best = 0.0
        for keys in self.groups.values():
            if len(keys) == 1:
                best += _guess_chance(self.key[keys[0]], self.options[keys[0]])
            else:
                best += max(Counter(_canon(self.key[k]) for k in keys).values())
        return best / len(self.key)


def _canon(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return tuple(_canon(v) for v in value)
    if isinstance(value, str):
        return value.strip().lower()
    if isinstance(value, (set, frozenset)):
        return frozenset(_canon(v) for v in value)
    return value


def _guess_chance(answer: Any, options: list[Any] | None) -> float:
    if options is None:
        return 0.0
    if isinstance(answer, (set, frozenset)):
        return 1 / 2 ** len({_canon(o) for o in options})
    return (1 / len(options)) if _canon(answer) in {_canon(o) for o in options} else 0.0


def _is_test_cell(cell: Any) -> bool:
    meta = cell.metadata.get("nbgrader", {})
    return cell.cell_type == "code" and meta.get("grade") and not meta.get("solution")


def _run(source: str, namespace: dict[str, Any], checks: Any) -> None:
    """Run a notebook cell with ``course.checks`` replaced by ``checks`` (nothing else is importable)."""

    def fake_import(name: str, globals_: Any = None, locals_: Any = None, fromlist: Any = (), level: int = 0) -> Any:
        if name in ("course", "course.checks"):
            return SimpleNamespace(checks=checks) if name == "course" and not fromlist else checks
        return builtins.__import__(name, globals_, locals_, fromlist, level)

    namespace["__builtins__"] = {**vars(builtins), "__import__": fake_import}
    namespace.setdefault("course", SimpleNamespace(checks=checks))
    exec(compile(source, "<cell>", "exec"), namespace)


def questions(path: Any) -> tuple[list[Question], float]:
    """The structured-answer questions of a notebook, and its autograded points."""
    nb = nbformat.read(path, as_version=4)
    found, total, solution = [], 0.0, None
    for cell in nb.cells:
        if cell.cell_type == "code" and "### BEGIN SOLUTION" in cell.source:
            solution = cell
        if not _is_test_cell(cell):
            continue
        meta = cell.metadata["nbgrader"]
        total += float(meta["points"])
        if "record_answers" not in cell.source:
            continue
        q = Question(meta["grade_id"], float(meta["points"]))
        declared: dict[Any, Any] = {}  # key, (id of its dict, key) or row of a table -> allowed options

        def expect_answered(answers: Any, keys: Any, allowed: Any = None, name: str = "answers") -> None:
            keys = list(keys)
            options = {k: allowed.get(k) if isinstance(allowed, Mapping) else allowed for k in keys}
            for k in keys:
                declared[k] = declared[(id(answers), k)] = options[k]
            row = re.fullmatch(r"\w+\[(.+)\]", name)  # one row of a table, e.g. toy_models['VAE']
            if row:
                fields = [options[k] for k in keys]
                declared[ast.literal_eval(row.group(1))] = (None if None in fields
                                                            else [list(p) for p in itertools.product(*fields)])

        def record_answers(answers: Mapping[str, Any], name: str = "answers") -> None:
            for k, v in answers.items():
                options = declared.get((id(answers), k), declared.get(k, KeyError))
                if options is KeyError:
                    raise AssertionError(f"{q.cell}: no allowed options are declared for {k!r}")
                item = f"{name}: {k}"
                q.key[item], q.options[item] = v, options
                q.groups.setdefault(name, []).append(item)

        checks = SimpleNamespace(expect_answered=expect_answered, record_answers=record_answers,
                                 show_metrics=lambda *a, **k: None)
        namespace: dict[str, Any] = {"expect_answered": expect_answered, "record_answers": record_answers}
        assert solution is not None, f"{path.name}:{q.cell} has no solution cell above it"
        region = re.search(r"### BEGIN SOLUTION\n(.*?)### END SOLUTION", solution.source, re.S)
        with contextlib.redirect_stdout(io.StringIO()):
            _run(region.group(1), namespace, checks)
            _run(cell.source, namespace, checks)
        assert q.key, f"{path.name}:{q.cell} records no answers"
        found.append(q)
    return found, total


def test_the_reader_sees_every_structured_question():
    """The reader itself: it finds answers, options and table rows where they are (so the caps below bite)."""
    qs, total = questions(REPO / "source/04_capstone/04_capstone.ipynb")
    table = next(q for q in qs if q.cell.startswith("comparison_table"))
    assert len(table.key) >= 10 and all(len(options) == 2 * 6 * 3 * 2 for options in table.options.values())
    judge = next(q for q in qs if q.cell.startswith("judge_claims"))
    assert set(judge.groups) == {"verdicts", "evidence"}
    assert 0 < table.guess_share() < 0.05 and total > sum(q.points for q in qs) - 1e-9
    assert _guess_chance({"a"}, ["a", "b"]) == 0.25 and _guess_chance("a", ["a", "b", "c", "d"]) == 0.25
    assert _guess_chance(1040, None) == 0.0 and _guess_chance([True, "x"], [[True, "x"], [False, "x"]]) == 0.5
    constant = Question("q", 1.0, {"a": "x", "b": "x", "c": "y"}, {k: ["x", "y"] for k in "abc"}, {"q": ["a", "b", "c"]})
    assert constant.constant_share() == 2 / 3 and constant.guess_share() == 0.5


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_guessing_and_patterns_earn_little(path):
    qs, total = questions(path)
    if not qs:
        pytest.skip("no structured answers")
    guess = sum(q.points * q.guess_share() for q in qs) / total
    constant = sum(q.points * q.constant_share() for q in qs) / total
    detail = ", ".join(f"{q.cell}: guess {q.guess_share():.0%} constant {q.constant_share():.0%} of {q.points:g}"
                       for q in qs)
    assert guess <= GUESS_CAP, f"uniform guessing earns {guess:.0%} of {total:g} autograded points ({detail})"
    assert constant <= CONSTANT_CAP, f"one constant per question earns {constant:.0%} of {total:g} points ({detail})"


def test_guessing_across_each_assignment():
    """The same two strategies over each module's autograded points (what nbgrader totals)."""
    modules: dict[str, list[float]] = {}
    for path in NOTEBOOKS:
        qs, total = questions(path)
        sums = modules.setdefault(path.parent.name, [0.0, 0.0, 0.0])
        sums[0] += sum(q.points * q.guess_share() for q in qs)
        sums[1] += sum(q.points * q.constant_share() for q in qs)
        sums[2] += total
    for module, (guess, constant, total) in modules.items():
        assert guess / total <= GUESS_CAP, f"{module}: guessing earns {guess / total:.0%}"
        assert constant / total <= CONSTANT_CAP, f"{module}: one constant per question earns {constant / total:.0%}"

