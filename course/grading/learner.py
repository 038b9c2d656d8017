"""What a learner is told about a graded notebook: per question, points, and the checks that failed.

Used by ``make check`` (the terminal) and by the feedback page (:mod:`course.grading.selfpaced`), so
both say the same. Failed checks are named by their descriptive names from the grader's
``reports/<assignment>/items.csv`` (one row per scored item: student, notebook, cell, item, kind,
correct, chosen, points, earned); a right answer or an expected value is never shown.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from course.progress import plural

TEXT_STUB = "YOUR ANSWER HERE"  # c.ClearSolutions.text_stub: a free-text answer not written yet
Mode = Literal["selfpaced", "class"]
ITEM_COLUMNS = ("student", "notebook", "cell", "item", "kind", "correct", "chosen", "points", "earned")


@dataclass
class Question:
    """One graded question of a notebook, as the learner sees it."""

    notebook: str
    name: str  # the answer's grade id (a test cell's id without "_tests")
    points: float
    score: float | None  # None: not graded (free text)
    free_text: bool = False
    answered: bool = True  # free text only: the learner wrote something
    failed: list[str] = field(default_factory=list)  # plain names of the checks that failed


def question_name(grade_id: str) -> str:
    return grade_id.removesuffix("_tests")


def plain_check(item: str, kind: str) -> str:
    """A failed item in words: ``answers[clip]`` -> "your answer for 'clip'"; ``value x`` -> "x"."""
    if kind == "answer" and item.endswith("]") and "[" in item:
        return f"your answer for '{item[item.index('[') + 1:-1]}'"
    for prefix in ("value ", "guard "):
        if item.startswith(prefix):
            return item[len(prefix):]
    return item


def read_items(path: Path, student: str) -> dict[tuple[str, str], list[str]]:
    """``(notebook, test cell id) -> failed checks in words`` for one student (empty if no file)."""
    if not path.is_file():
        return {}
    failed: dict[tuple[str, str], list[str]] = {}
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        missing = set(ITEM_COLUMNS) - set(reader.fieldnames or [])
        if missing:
            raise ValueError(f"{path} lacks the columns {', '.join(sorted(missing))}")
        for row in reader:
            if row["student"] != student:
                continue
            names = failed.setdefault((row["notebook"], row["cell"]), [])
            if row["correct"].strip() != "1":
                names.append(plain_check(row["item"], row["kind"]))
    return failed


def is_answered(text: str) -> bool:
    """True when a free-text answer holds more than the released stub."""
    return bool(text.strip()) and text.strip() != TEXT_STUB


def status(q: Question, mode: Mode, on_page: bool = False) -> str:
    """The points of a question and, below full marks, what failed (one line, no right answers).

    ``on_page``: the line is shown on the feedback page itself (which holds the mark schemes).
    """
    if q.free_text:
        head = f"free text, {plural(q.points, 'point')}"
        if mode == "class":
            if q.score is None:
                return f"{head}: to be graded by your instructor"
            return f"{q.score:g} of {plural(q.points, 'point')} (free text, graded by your instructor)"
        if not q.answered:
            return f"{head}: not answered yet"
        where = "below, beside your answer" if on_page else "on the feedback page, beside your answer"
        return f"{head}: to assess yourself with the mark scheme {where}"
    score = q.score or 0.0
    line = f"{score:g} of {plural(q.points, 'point')}"
    if score >= q.points:
        return line
    if q.failed:
        return f"{line}; failed: {', '.join(q.failed)}"
    return f"{line}; some of its checks failed"


def totals(questions: list[Question], mode: Mode) -> str:
    """``autograded: x of y; free text: z points to assess`` (or graded, in a class)."""
    auto = [q for q in questions if not q.free_text]
    free = [q for q in questions if q.free_text]
    text = f"autograded: {sum(q.score or 0 for q in auto):g} of {plural(sum(q.points for q in auto), 'point')}"
    if not free:
        return text
    open_ = sum(q.points for q in free if q.score is None or mode == "selfpaced")
    graded = [q for q in free if q.score is not None and mode == "class"]
    parts = []
    if graded:
        parts.append(f"{sum(q.score or 0 for q in graded):g} of {plural(sum(q.points for q in graded), 'point')} graded")
    if open_:
        who = "to assess" if mode == "selfpaced" else "to be graded by your instructor"
        parts.append(f"{plural(open_, 'point')} {who}")
    return f"{text}; free text: {', '.join(parts)}"


def lines(notebook: str, questions: list[Question], mode: Mode) -> list[str]:
    """A notebook's summary: a title line with the totals, then one line per question."""
    width = max((len(q.name) for q in questions), default=0)
    return [f"{notebook}: {totals(questions, mode)}"] + [f"  {q.name:<{width}}  {status(q, mode)}" for q in questions]


def left(questions: list[Question], mode: Mode) -> list[str]:
    """What is left to do, in short (for the progress table)."""
    out = []
    for q in questions:
        if q.free_text and (mode == "selfpaced" or q.score is None):
            out.append(f"{q.name}: free text {'to assess' if q.answered else 'to write'}")
        elif not q.free_text and (q.score or 0) < q.points:
            out.append(f"{q.name}: {q.score or 0:g} of {q.points:g}")
    return out
