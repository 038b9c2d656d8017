"""Item statistics of one graded assignment: which questions worked.

The input is what the grader recorded per submission (``reports/<assignment>/items.csv``: one row per
scored item, see :class:`Row`). An *item* for the statistics is

- each recorded answer (``answers[<key>]``, kind ``answer``): right or wrong, worth its share of the
  cell's points (recorded answers earn their share each);
- each function cell as a whole (kind ``function``): right when every observed value and guard of the
  cell is right (observed values are all or nothing), worth the cell's points.

Guards are not items; a failed guard makes its function cell wrong and is listed with the failed checks.
Every graded student who has no row for an item counts as wrong on it (nbgrader scores it 0).

Classical test theory, computed on the item scores as graded (points), so that a student's total is the
autograded score:

- difficulty: the share of students who got the item right (higher is easier);
- discrimination: the correlation between the item and the total of the *other* items (corrected
  item-total correlation; undefined when everyone, or no one, got the item right);
- Cronbach's alpha of the item scores (KR-20 when every item weighs the same), its 95% interval
  (Feldt's), and the standard error of measurement in points.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

#: An item answered right by more than this share of the class tells the instructor little.
TOO_EASY = 0.90
#: An item answered right by fewer than this share of the class: an unclear question, or not yet taught.
TOO_HARD = 0.30
#: A corrected item-total correlation below this: the stronger students did worse on the item.
NEGATIVE = 0.0
NO_ANSWER = "(no answer)"


@dataclass(frozen=True)
class Row:
    """One row of ``items.csv``: one item of one test cell of one student's submission."""

    student: str
    notebook: str
    cell: str
    item: str
    kind: str  # answer, value or guard
    correct: bool
    chosen: str  # the answer in canonical JSON text (kind answer), else empty
    points: float
    earned: float


@dataclass
class Item:
    """One item's statistics."""

    key: str  # notebook/cell/item, or notebook/cell for a function cell
    notebook: str
    cell: str
    label: str  # the answer key (answers[clip]) or "function cell"
    kind: str  # answer or function
    weight: float  # points the item is worth
    right: int = 0
    n: int = 0
    difficulty: float = math.nan
    discrimination: float | None = None
    flags: list[str] = field(default_factory=list)
    options: Counter = field(default_factory=Counter)  # answer -> students (answer items)
    right_options: set[str] = field(default_factory=set)
    failed_checks: Counter = field(default_factory=Counter)  # check -> students it failed for (function cells)

    @property
    def top_wrong(self) -> tuple[str, int] | None:
        """The wrong answer most students chose, with how many chose it (unanswered not counted)."""
        wrong = [(o, c) for o, c in self.options.most_common() if o not in self.right_options and o != NO_ANSWER]
        return wrong[0] if wrong else None


@dataclass
class Reliability:
    alpha: float | None
    low: float | None  # Feldt's 95% interval
    high: float | None
    sem: float | None  # points
    n_students: int
    n_items: int


def build_items(rows: list[Row]) -> tuple[list[str], list[Item], np.ndarray]:
    """Students (sorted), items (in notebook and cell order of first appearance) and the 0/1 matrix."""
    students = sorted({r.student for r in rows})
    where = {s: i for i, s in enumerate(students)}
    items: dict[str, Item] = {}
    answer_keys: dict[tuple[str, str], set[str]] = {}
    for r in rows:
        if r.kind == "answer":
            answer_keys.setdefault((r.notebook, r.cell), set()).add(r.item)
    for r in rows:
        if r.kind == "answer":
            key = f"{r.notebook}/{r.cell}/{r.item}"
            weight = r.points / len(answer_keys[(r.notebook, r.cell)])
            items.setdefault(key, Item(key, r.notebook, r.cell, r.item, "answer", weight))
        elif r.kind in ("value", "guard"):
            key = f"{r.notebook}/{r.cell}"
            items.setdefault(key, Item(key, r.notebook, r.cell, "function cell", "function", r.points))
    keys = list(items)
    column = {k: j for j, k in enumerate(keys)}
    matrix = np.zeros((len(students), len(keys)))
    function_ok: dict[tuple[int, int], bool] = {}
    for r in rows:
        i = where[r.student]
        if r.kind == "answer":
            item = items[f"{r.notebook}/{r.cell}/{r.item}"]
            matrix[i, column[item.key]] = float(r.correct)
            item.options[r.chosen or NO_ANSWER] += 1
            if r.correct:
                item.right_options.add(r.chosen)
        elif r.kind in ("value", "guard"):
            item = items[f"{r.notebook}/{r.cell}"]
            cell = (i, column[item.key])
            function_ok[cell] = function_ok.get(cell, True) and r.correct
            if not r.correct:
                item.failed_checks[r.item] += 1
    for (i, j), ok in function_ok.items():
        matrix[i, j] = float(ok)
    return students, list(items.values()), matrix


def analyse(rows: list[Row]) -> tuple[list[str], list[Item], np.ndarray, Reliability]:
    """Every item's difficulty, discrimination and flags, and the reliability of the whole."""
    students, items, matrix = build_items(rows)
    weights = np.array([it.weight for it in items])
    scores = matrix * weights
    total = scores.sum(axis=1)
    for j, item in enumerate(items):
        item.n = len(students)
        item.right = int(matrix[:, j].sum())
        item.difficulty = item.right / item.n if item.n else math.nan
        item.discrimination = correlation(matrix[:, j], total - scores[:, j])
        item.flags = flags(item)
    return students, items, matrix, reliability(scores)


def correlation(x: np.ndarray, y: np.ndarray) -> float | None:
    """Pearson's r, or None when either side does not vary."""
    if len(x) < 2 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return None
    return float(np.corrcoef(x, y)[0, 1])


def flags(item: Item) -> list[str]:
    """What the instructor should look at for this item (thresholds at the top of this module)."""
    out = []
    if item.difficulty > TOO_EASY:
        out.append("too_easy")
    if item.difficulty < TOO_HARD:
        out.append("too_hard")
    if item.discrimination is not None and item.discrimination < NEGATIVE:
        out.append("negative_discrimination")
    top = item.top_wrong
    if top and top[1] > item.right:
        out.append("popular_wrong_answer")
    return out


def cronbach_alpha(scores: np.ndarray) -> float | None:
    """Cronbach's alpha of a students x items score matrix (KR-20 for equally weighted 0/1 items)."""
    n, k = scores.shape
    if n < 2 or k < 2:
        return None
    total_var = scores.sum(axis=1).var()
    if total_var == 0:
        return None
    return float(k / (k - 1) * (1 - scores.var(axis=0).sum() / total_var))


def reliability(scores: np.ndarray) -> Reliability:
    """Alpha, Feldt's 95% interval for it, and the standard error of measurement (points)."""
    from scipy.stats import f as f_dist

    n, k = scores.shape
    alpha = cronbach_alpha(scores)
    if alpha is None:
        return Reliability(None, None, None, None, n, k)
    df1, df2 = n - 1, (n - 1) * (k - 1)
    low = 1 - (1 - alpha) * float(f_dist.ppf(0.975, df1, df2))
    high = 1 - (1 - alpha) * float(f_dist.ppf(0.025, df1, df2))
    sd = float(scores.sum(axis=1).std(ddof=1))
    sem = sd * math.sqrt(1 - alpha) if alpha < 1 else 0.0
    return Reliability(alpha, low, high, sem if alpha >= 0 else None, n, k)


def describe(scores: list[float]) -> dict[str, float]:
    """Mean, median, quartiles, standard deviation, minimum and maximum of the class's scores."""
    if not scores:
        return {}
    a = np.asarray(scores, dtype=float)
    q1, median, q3 = (float(v) for v in np.percentile(a, [25, 50, 75]))
    return {"n": float(len(a)), "mean": float(a.mean()), "median": median, "q1": q1, "q3": q3,
            "sd": float(a.std(ddof=1)) if len(a) > 1 else 0.0, "min": float(a.min()), "max": float(a.max())}


def how_to_read(rel: Reliability) -> str:
    """A few sentences on reading alpha and the SEM for a class of this size."""
    n = rel.n_students
    noise = 2 / math.sqrt(n) if n else math.inf
    text = (f"With {n} graded submissions, a discrimination within ±{noise:.2f} of zero (2/√n) cannot be told "
            "apart from none, so a flag on one item is a reason to reread the question, not proof it is faulty. ")
    if rel.alpha is None:
        return text + ("Alpha cannot be computed here: it needs at least two items, two students and "
                       "scores that differ between students.")
    text += (f"Alpha is {rel.alpha:.2f} (95% interval {rel.low:.2f} to {rel.high:.2f}): how consistently the "
             f"{rel.n_items} items rank the students. 0.7 or more is usually asked of a test whose scores rank "
             "students; an exercise meant to teach often has less, and few items or a class where nearly everyone "
             "scores alike lower it. ")
    if n < 10:
        text += "With fewer than 10 submissions the interval is wide: read the items' answers rather than alpha. "
    if rel.sem is not None:
        text += (f"The standard error of measurement is {rel.sem:.1f} points: a student's score could differ by "
                 f"about that much on a comparable set of questions, and two scores less than "
                 f"{2.77 * rel.sem:.1f} points apart (2.77 SEM) are not reliably different.")
    return text
