"""The reference a grading run scores against: the observations of the instructor's own notebooks.

They are recorded by executing ``source/<assignment>/`` (solutions in place) in the sandbox, exactly like a
submission, and kept in ``.scratch/grading-reference/`` for the next run while the notebooks and
``course/checks.py`` are unchanged. The reference never enters a learner's kernel.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING

import nbformat

from course.grading import scoring
from course.grading.sandbox import copy_regular_files

if TYPE_CHECKING:
    from course.grading.runner import Grader

STUDENT = "_reference"  # the instructor's notebooks, graded like a submission to record the reference


def key(grader: Grader) -> str:
    """What the reference depends on: the instructor's notebooks and the observation helpers."""
    import course.checks

    h = hashlib.sha256()
    for name in grader.names:
        h.update((grader.root / "source" / grader.a / f"{name}.ipynb").read_bytes())
    h.update(Path(course.checks.__file__).read_bytes())
    return h.hexdigest()[:16]


def load_or_record(grader: Grader) -> dict[str, dict[str, list[dict]]]:
    """``notebook -> grade_id -> observation payloads`` of the instructor's notebooks."""
    from course.grading.runner import GradingError

    cache = grader.root / ".scratch" / "grading-reference" / f"{grader.a}-{key(grader)}.json"
    if cache.is_file():
        return json.loads(cache.read_text())
    folder = grader.scratch / "reference-submission"
    copy_regular_files(grader.root / "source" / grader.a, folder)
    done = grader._execute(STUDENT, folder, index=0)
    recorded: dict[str, dict[str, list[dict]]] = {}
    for name in grader.names:
        nb = nbformat.read(done / f"{name}.ipynb", 4)
        broken = [f"{scoring.grade_id(c)}: {o.get('ename')}: {o.get('evalue', '')[:200]}" for c in nb.cells
                  if scoring.is_test_cell(c) for o in c.get("outputs", []) if o.get("output_type") == "error"]
        if broken:
            raise GradingError(f"the instructor's notebook {name} fails its own tests, so no reference can be "
                               f"recorded: {'; '.join(broken[:3])}")
        recorded[name] = scoring.reference_of(nb)
        for gid, payloads in recorded[name].items():
            try:
                scoring.score_cell(1.0, payloads, payloads)
            except ValueError as exc:
                raise GradingError(f"{name}: test cell {gid}: {exc}") from None
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_text(json.dumps(recorded))
    return recorded
