"""The one definition of what a test cell hands the grader, shared by :mod:`course.checks` (the kernel's
side) and :mod:`course.grading` (the grader's side). Plain Python: no torch, no Jupyter.

A test cell *records*; the grader *decides*. What a cell records are display outputs of type
:data:`OBSERVATION_MIME` whose payload is a dict:

``{"kind": "answers", "name": str, "value": {key: canonical text or None}}``
    structured answers (:func:`course.checks.record_answers`); each key is one scoring item;
``{"kind": "value", "name": str, "value": JSON, "atol": float, "rtol": float[, "error": str]}``
    what a learner's code returned on a hidden input (:func:`course.checks.observe`); one item;
``{"kind": "guard", "name": str, "value": bool}``
    a property that must hold (:func:`course.checks.require`); never an item, it can only zero a cell.

The item keys below (:func:`item_key`) are the names the report, the feedback and the item analysis use.
"""

from __future__ import annotations

from typing import Any

OBSERVATION_MIME = "application/vnd.course.observation+json"
METRICS_MIME = "application/vnd.course.metrics+json"
KINDS = ("answers", "value", "guard")


def nbgrader_meta(cell: Any) -> dict:
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return meta if isinstance(meta, dict) else {}


def grade_id(cell: Any) -> str | None:
    """The cell's nbgrader ``grade_id`` (None for cells nbgrader does not track)."""
    return nbgrader_meta(cell).get("grade_id")


def is_test_cell(cell: Any) -> bool:
    """An autograded test cell: graded code that is not a solution."""
    meta = nbgrader_meta(cell)
    return cell.get("cell_type") == "code" and bool(meta.get("grade")) and not meta.get("solution")


def is_solution_cell(cell: Any) -> bool:
    return bool(nbgrader_meta(cell).get("solution"))


def is_manual_cell(cell: Any) -> bool:
    """A free-text answer graded by hand (a graded markdown solution cell)."""
    meta = nbgrader_meta(cell)
    return cell.get("cell_type") == "markdown" and bool(meta.get("grade")) and bool(meta.get("solution"))


def valid_payload(payload: Any) -> bool:
    """Whether an output's payload has the shape above (anything else is ignored by the grader)."""
    return (isinstance(payload, dict) and payload.get("kind") in KINDS and isinstance(payload.get("name"), str)
            and (payload["kind"] != "answers" or isinstance(payload.get("value"), dict)))


def observations(cell: Any) -> list[dict]:
    """The well-formed observation payloads among a cell's display outputs, in order."""
    found = []
    for out in cell.get("outputs", []):
        if out.get("output_type") != "display_data":
            continue
        payload = out.get("data", {}).get(OBSERVATION_MIME)
        if valid_payload(payload):
            found.append(payload)
    return found


def item_key(kind: str, name: str, key: str | None = None) -> str:
    """``answers[clip]`` for one recorded answer, ``value <name>`` for an observed value, ``guard <name>``."""
    if kind == "answers":
        return f"{name}[{key}]"
    return f"{kind} {name}"


def learner_label(item: str) -> str:
    """How an item is named to a learner: the check's own words, or which answer (never the right one)."""
    if item.startswith(("value ", "guard ")):
        return item.split(" ", 1)[1]
    if item.endswith("]") and "[" in item:
        return f"your answer for {item[item.index('[') + 1:-1]!r}"
    return item
