"""``python -m course.grading.similarity ASSIGNMENT`` (``make similarity``): submissions whose solution code
is near-identical beyond what the released notebooks give everyone.

Each student's solution cells (code cells nbgrader marks as solutions, in every notebook of the
assignment in ``submitted/<student>/<assignment>/``) are joined into one document and fingerprinted by
`copydetect <https://github.com/blingenf/copydetect>`_ (winnowing over tokens, with names, strings and
comments normalised, so renaming variables or reordering functions does not hide shared code). The released
notebooks' solution cells are the boilerplate: code everyone was given matches nothing.

Every pair is ranked by the smaller of its two shares (the share of each student's fingerprinted code
found in the other's), and written to ``reports/<assignment>/similarity.csv`` and ``similarity.html``
(the top pairs with the shared code marked, side by side). A flag is a reason to look, not a verdict:
short exercises leave few ways to write an answer.
"""

from __future__ import annotations

import argparse
import csv
import io
import itertools
import sys
from dataclasses import dataclass
from pathlib import Path

import nbformat

from course.grading.htmlpage import esc, number, page, table

#: copydetect's defaults: k-grams of 25 characters of normalised code, winnowing window 6 (30 - 25 + 1).
NOISE, GUARANTEE = 25, 30
THRESHOLD = 0.5


class SimilarityError(Exception):
    """Something the instructor must fix first (the message says what)."""


@dataclass
class Pair:
    a: str
    b: str
    share_a: float  # share of a's fingerprinted code also in b's
    share_b: float
    tokens: int  # shared characters of normalised code
    marked_a: str = ""  # HTML with the shared code marked
    marked_b: str = ""

    @property
    def score(self) -> float:
        return min(self.share_a, self.share_b)


def solution_code(notebook: Path) -> str:
    """The solution code cells of a notebook, each headed by a comment naming it."""
    nb = nbformat.read(notebook, as_version=4)
    parts = []
    for i, cell in enumerate(nb.cells):
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if cell.cell_type == "code" and meta.get("solution"):
            parts.append(f"# --- {notebook.stem}: {meta.get('grade_id', f'cell {i}')}\n{cell.source.rstrip()}\n")
    return "\n".join(parts)


def documents(root: Path, assignment: str) -> tuple[str, dict[str, str], list[str]]:
    """The released solution cells (boilerplate), each student's solution cells, and what was skipped."""
    released = root / "release" / assignment
    names = sorted(p.name for p in released.glob("*.ipynb")) if released.is_dir() else []
    if not names:
        raise SimilarityError(f"{released} holds no notebook: the released version is the boilerplate "
                              "(make release writes it)")
    boilerplate = "\n".join(solution_code(released / n) for n in names)
    students: dict[str, str] = {}
    skipped = []
    for folder in sorted((root / "submitted").glob(f"*/{assignment}")):
        texts = []
        for n in (n for n in names if (folder / n).is_file()):
            try:
                texts.append(solution_code(folder / n))
            except Exception as exc:  # an unreadable notebook is reported, not fatal
                skipped.append(f"{folder.parent.name}/{n}: not a readable notebook ({type(exc).__name__})")
        students[folder.parent.name] = "\n".join(texts)
    if len(students) < 2:
        raise SimilarityError(f"{root / 'submitted'} holds {len(students)} submission(s) of {assignment}: "
                              "nothing to compare (nbgrader collect puts them there)")
    return boilerplate, students, skipped


def compare(boilerplate: str, students: dict[str, str], use_boilerplate: bool = True) -> list[Pair]:
    """Every pair of students, most similar first."""
    try:
        from copydetect.detector import CodeFingerprint, compare_files
        from copydetect.utils import highlight_overlap
    except ImportError:
        raise SimilarityError("copydetect is not installed: `make similarity` installs it "
                              "(pip install -c constraints.txt -e '.[instructor]')") from None

    win = GUARANTEE - NOISE + 1

    def fingerprint(text: str, bp=None):
        return CodeFingerprint("solutions.py", NOISE, win, boilerplate=bp, fp=io.StringIO(text))

    bp = list(fingerprint(boilerplate).hashes) if use_boilerplate else []
    prints = {s: fingerprint(text, bp) for s, text in students.items()}
    pairs = []
    for a, b in itertools.combinations(sorted(prints), 2):
        tokens, (share_a, share_b), (slices_a, slices_b) = compare_files(prints[a], prints[b])
        pair = Pair(a, b, float(share_a), float(share_b), int(tokens))
        if tokens:
            pair.marked_a = highlight_overlap(prints[a].raw_code, slices_a, "<mark>", "</mark>", truncate=8,
                                              escape_html=True)[0]
            pair.marked_b = highlight_overlap(prints[b].raw_code, slices_b, "<mark>", "</mark>", truncate=8,
                                              escape_html=True)[0]
        pairs.append(pair)
    return sorted(pairs, key=lambda p: (-p.score, -p.tokens, p.a, p.b))


def render(assignment: str, pairs: list[Pair], skipped: list[str], threshold: float, top: int) -> str:
    flagged = [p for p in pairs if p.score >= threshold]
    rows = [[n, p.a, p.b, number(p.score), number(p.share_a), number(p.share_b), p.tokens,
             "look" if p.score >= threshold else ""] for n, p in enumerate(pairs[:top], start=1)]
    shown = [p for p in pairs[:top] if p.score >= threshold]
    sides = "".join(
        f"<h3>{esc(p.a)} and {esc(p.b)}: {number(p.score)}</h3><table class=pair><tr><th>{esc(p.a)} "
        f"({number(p.share_a)} shared)</th><th>{esc(p.b)} ({number(p.share_b)} shared)</th></tr><tr><td><pre>"
        f"{p.marked_a}</pre></td><td><pre>{p.marked_b}</pre></td></tr></table>" for p in shown)
    body = "\n".join([
        f"<h1>Similar submissions: {esc(assignment)}</h1>",
        '<p class="note"><b>A flag is a reason to look, not a verdict.</b> Short exercises leave few ways to write '
        "an answer, students may have worked together as allowed, and a shared source (the course's text, a "
        "hint) makes code alike. Read the code side by side and talk with the students before deciding "
        "anything. For the instructor only: this page names students.</p>",
        f"<p>{len(pairs)} pairs of submissions compared on their solution cells; code the released notebooks give "
        f"everyone is left out. <b>Score</b>: the smaller of the two shares (the share of each student's code found "
        f"in the other's, after names, strings and comments are normalised, so renaming and reordering do not hide "
        f"it). {len(flagged)} pair(s) at or above {threshold:.2f} are marked <i>look</i>.</p>",
        table(["#", "student", "student", "score", "share of first", "share of second", "shared characters", ""],
              rows),
        "<h2>Shared code, side by side</h2>",
        sides or f"<p>No pair reaches {threshold:.2f}.</p>",
        ("<h2>Not compared</h2><ul>" + "".join(f"<li>{esc(s)}</li>" for s in skipped) + "</ul>") if skipped else "",
        "<p>Detector: copydetect (winnowing fingerprints, as MOSS); all pairs are in <code>similarity.csv</code>.</p>",
    ])
    return page(f"Similar submissions: {assignment}", body)


def run(root: Path, assignment: str, threshold: float = THRESHOLD, top: int = 20) -> tuple[Path, list[Pair]]:
    boilerplate, students, skipped = documents(root, assignment)
    pairs = compare(boilerplate, students)
    folder = root / "reports" / assignment
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "similarity.csv").open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["student_a", "student_b", "score", "share_a", "share_b", "shared_characters"])
        w.writerows([p.a, p.b, f"{p.score:.4f}", f"{p.share_a:.4f}", f"{p.share_b:.4f}", p.tokens] for p in pairs)
    out = folder / "similarity.html"
    out.write_text(render(assignment, pairs, skipped, threshold, top))
    return out, pairs


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m course.grading.similarity",
                                description="Rank pairs of submissions by shared solution code.")
    p.add_argument("assignment")
    p.add_argument("--root", type=Path, default=Path("."), help="course folder (default: here)")
    p.add_argument("--threshold", type=float, default=THRESHOLD, help=f"score marked 'look' (default {THRESHOLD})")
    p.add_argument("--top", type=int, default=20, help="pairs shown on the page (default 20; all are in the CSV)")
    a = p.parse_args(argv)
    if not 0 <= a.threshold <= 1 or a.top < 1:
        p.error("--threshold must be within 0..1 and --top positive")
    try:
        out, pairs = run(a.root, a.assignment, a.threshold, a.top)
    except SimilarityError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    flagged = sum(pair.score >= a.threshold for pair in pairs)
    print(f"{len(pairs)} pairs compared, {flagged} at or above {a.threshold:.2f}. Report: {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
