"""The grading pipeline as nbgrader runs it: the preprocessor lists, the course's own preprocessors, and
the one channel every setting of a grading run goes through.

Two nbgrader runs, both derived from nbgrader's own ``Autograde`` lists (never copied by hand):

- **execute** (one per submission, in its own scratch course, several at a time): nbgrader's sanitize and
  autograde preprocessors, with ``Execute`` replaced by :class:`~course.grading.sandbox.SandboxedExecute`
  and followed by :class:`ScoreObservations` and :class:`CleanOutputs`;
- **record** (one per grading run, in the real course): the same lists without ``ClearOutput`` and
  ``Execute``, which puts the scored notebooks into ``gradebook.db``. It is separate because the gradebook
  is one SQLite file that nbgrader writes in place: submissions executed in parallel are recorded one
  after another by a single writer, and a submission whose worker died leaves the gradebook untouched.

Settings reach nbgrader one way only: a dict ``{"Class": {"trait": value}}`` built in
:mod:`course.grading.runner`, turned into nbgrader's command line by :func:`arguments`, on top of the
course's own ``nbgrader_config.py``. The kernel manager, the scorer and the cleaner read their settings
as traits from it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import nbformat
from nbconvert.preprocessors import Preprocessor
from traitlets import Bool, Dict, Unicode

from course.grading import scoring
from course.grading.integrity import inspect_executed
from course.protocol import is_test_cell

SANDBOXED_EXECUTE = "course.grading.sandbox.SandboxedExecute"
SCORE = "course.grading.pipeline.ScoreObservations"
CLEAN = "course.grading.pipeline.CleanOutputs"


def _name(cls: Any) -> str:
    return cls if isinstance(cls, str) else f"{cls.__module__}.{cls.__qualname__}"


def _defaults() -> tuple[list[str], list[str]]:
    """nbgrader's own sanitize and autograde preprocessor lists, as importable names."""
    from nbgrader.converters import Autograde

    traits = Autograde.class_traits()
    return ([_name(c) for c in traits["sanitize_preprocessors"].default()],
            [_name(c) for c in traits["autograde_preprocessors"].default()])


def execute_preprocessors() -> dict[str, list[str]]:
    """Sanitize as nbgrader does; execute in the sandbox, then score and clean, then nbgrader's own steps."""
    sanitize, autograde = _defaults()
    out: list[str] = []
    for name in autograde:
        out += [SANDBOXED_EXECUTE, SCORE, CLEAN] if name.endswith(".Execute") else [name]
    if SANDBOXED_EXECUTE not in out:
        raise RuntimeError(f"nbgrader's autograde preprocessors have no Execute step to replace: {autograde}")
    return {"sanitize_preprocessors": sanitize, "autograde_preprocessors": out}


def record_preprocessors() -> dict[str, list[str]]:
    """nbgrader's lists without clearing outputs or executing: the scored notebooks go in as they are."""
    sanitize, autograde = _defaults()
    return {"sanitize_preprocessors": [p for p in sanitize if not p.endswith(".ClearOutput")],
            "autograde_preprocessors": [p for p in autograde if not p.endswith(".Execute")]}


def arguments(settings: dict[str, dict[str, Any]]) -> list[str]:
    """``--Class.trait=value`` options for nbgrader from ``{"Class": {"trait": value}}``.

    The command line is the one channel: traitlets applies it after every configuration file (nbgrader
    also reads the course folder's ``nbgrader_config.py`` last), so these settings always win. Lists and
    dicts become repeated options (``--C.t=a --C.t=b``, ``--C.t=key=value``; dict values arrive as text).
    """
    args: list[str] = []
    for cls, traits in sorted(settings.items()):
        for trait, value in sorted(traits.items()):
            if isinstance(value, (list, tuple)):
                args += [f"--{cls}.{trait}={v}" for v in value]
            elif isinstance(value, dict):
                args += [f"--{cls}.{trait}={k}={v}" for k, v in value.items()]
            else:
                args.append(f"--{cls}.{trait}={value}")
    return args


def _notebook(resources: dict) -> str:
    return str(resources.get("nbgrader", {}).get("notebook") or "notebook")


def _write(outcome_dir: str, name: str, data: dict) -> None:
    path = Path(outcome_dir) / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))


class ScoreObservations(Preprocessor):
    """Decide every test cell's score from what it recorded, against the reference, outside the kernel.

    With no ``reference`` it records one instead (the instructor's notebooks): ``<outcome_dir>/<notebook>.json``
    then holds the observations of every test cell and the errors of any that failed.
    """

    enabled = Bool(True).tag(config=True)
    reference = Unicode(help="JSON file: notebook -> grade_id -> observation payloads ('' to record)").tag(config=True)
    outcome_dir = Unicode(help="grader-owned folder for what scoring found").tag(config=True)
    hold = Dict(help="notebook -> why its guarded cells are held for review").tag(config=True)

    def preprocess(self, nb: Any, resources: dict) -> tuple[Any, dict]:
        name = _notebook(resources)
        if not self.reference:
            broken = [f"{scoring.grade_id(c)}: {o.get('ename')}: {str(o.get('evalue', ''))[:200]}" for c in nb.cells
                      if is_test_cell(c) for o in c.get("outputs", []) if o.get("output_type") == "error"]
            _write(self.outcome_dir, name, {"reference": scoring.reference_of(nb), "broken": broken})
            return nb, resources
        reference = json.loads(Path(self.reference).read_text()).get(name, {})
        from nbgrader.preprocessors import LimitOutput

        outcome = scoring.Outcome(flags=inspect_executed(nb, LimitOutput(config=self.config).max_lines))
        scoring.score_notebook(nb, reference, outcome, hold=self.hold.get(name))
        _write(self.outcome_dir, name, {"flags": sorted(outcome.flags), "details": outcome.details,
                                        "items": outcome.items})
        return nb, resources


class CleanOutputs(Preprocessor):
    """Remove outputs that quote a hidden test and make the learner's active content inert."""

    enabled = Bool(True).tag(config=True)
    source = Unicode(help="folder of the instructor's notebooks of this assignment").tag(config=True)
    outcome_dir = Unicode(help="grader-owned folder for what cleaning found").tag(config=True)

    def preprocess(self, nb: Any, resources: dict) -> tuple[Any, dict]:
        name = _notebook(resources)
        outcome = scoring.Outcome()
        scoring.clean_outputs(nb, nbformat.read(Path(self.source) / f"{name}.ipynb", 4), outcome)
        _write(self.outcome_dir, f"{name}.clean", {"flags": sorted(outcome.flags), "details": outcome.details})
        return nb, resources
