"""The similarity check (``make similarity``): a renamed and reordered copy ranks above independently written
solutions; code the released notebook gives everyone matches nothing; the page says a flag is not a verdict."""

from __future__ import annotations

import subprocess

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

import harness

from course.grading import similarity

A = "quiz"
# Given to everyone inside the solution cells: long enough that, were it not boilerplate, it alone would
# make every pair look alike.
GIVEN = '''def count_pairs(words):
    """Count each pair of neighbouring letters in the words, with '.' marking the start and the end.

    Returns a dict mapping (first, second) to how many times the pair occurs.
    """
'''
STUB = "    # YOUR CODE HERE\n    raise NotImplementedError()\n"
GIVEN2 = '''def normalise(counts, smoothing=1.0):
    """Turn pair counts into probabilities of the next letter given the previous one."""
'''

ALICE = (GIVEN + '''    counts = {}
    for word in words:
        letters = ["."] + list(word) + ["."]
        for first, second in zip(letters, letters[1:]):
            counts[(first, second)] = counts.get((first, second), 0) + 1
    return counts
''', GIVEN2 + '''    firsts = sorted({a for a, _ in counts})
    alphabet = sorted({b for _, b in counts} | set(firsts))
    table = {}
    for a in firsts:
        row = {b: counts.get((a, b), 0) + smoothing for b in alphabet}
        total = sum(row.values())
        table[a] = {b: value / total for b, value in row.items()}
    return table


def most_likely_next(table, letter):
    options = table.get(letter, {})
    return max(options, key=options.get) if options else None
''')

# alice's code with every name changed and the helper function moved first
BOB = (GIVEN + '''    tally = {}
    for w in words:
        chars = ["."] + list(w) + ["."]
        for x, y in zip(chars, chars[1:]):
            tally[(x, y)] = tally.get((x, y), 0) + 1
    return tally
''', '''def best_follower(probs, ch):
    choices = probs.get(ch, {})
    return max(choices, key=choices.get) if choices else None


''' + GIVEN2 + '''    starts = sorted({p for p, _ in counts})
    letters = sorted({q for _, q in counts} | set(starts))
    result = {}
    for p in starts:
        line = {q: counts.get((p, q), 0) + smoothing for q in letters}
        s = sum(line.values())
        result[p] = {q: v / s for q, v in line.items()}
    return result
''')

CAROL = (GIVEN + '''    from collections import Counter
    c = Counter()
    for word in words:
        padded = "." + word + "."
        c.update(padded[i:i + 2] for i in range(len(padded) - 1))
    return {(pair[0], pair[1]): n for pair, n in c.items()}
''', GIVEN2 + '''    import collections
    grouped = collections.defaultdict(dict)
    for (prev, nxt), n in counts.items():
        grouped[prev][nxt] = n
    vocab = {nxt for row in grouped.values() for nxt in row} | set(grouped)
    out = {}
    for prev, row in grouped.items():
        denom = sum(row.values()) + smoothing * len(vocab)
        out[prev] = {ch: (row.get(ch, 0) + smoothing) / denom for ch in vocab}
    return out
''')

DAN = (GIVEN + '''    result = dict()
    i = 0
    while i < len(words):
        w = "." + words[i] + "."
        j = 0
        while j + 1 < len(w):
            key = (w[j], w[j + 1])
            if key in result:
                result[key] += 1
            else:
                result[key] = 1
            j += 1
        i += 1
    return result
''', GIVEN2 + '''    import numpy as np
    rows = sorted(set(k[0] for k in counts))
    cols = sorted(set(k[1] for k in counts).union(rows))
    m = np.full((len(rows), len(cols)), smoothing)
    for (r, c), n in counts.items():
        m[rows.index(r), cols.index(c)] += n
    m = m / m.sum(axis=1, keepdims=True)
    return {r: dict(zip(cols, m[i].tolist())) for i, r in enumerate(rows)}
''')

ERIN = (GIVEN + '''    pairs = [(a, b) for word in words for a, b in zip("." + word, word + ".")]
    return {pair: pairs.count(pair) for pair in set(pairs)}
''', GIVEN2 + '''    letters = set()
    for a, b in counts:
        letters |= {a, b}
    probabilities = {}
    for a in {first for first, _ in counts}:
        weights = [(b, counts.get((a, b), 0) + smoothing) for b in sorted(letters)]
        norm = float(sum(w for _, w in weights))
        probabilities[a] = dict((b, w / norm) for b, w in weights)
    return probabilities
''')

BLANK = (GIVEN + STUB, GIVEN2 + STUB)


def _notebook(cells: tuple[str, str]) -> nbformat.NotebookNode:
    def sol(gid, src):
        return new_code_cell(src, metadata={"nbgrader": {"grade_id": gid, "solution": True, "grade": False,
                                                         "locked": False, "schema_version": 3}})
    test = new_code_cell("assert count_pairs(['ab'])[('a', 'b')] == 1",
                         metadata={"nbgrader": {"grade_id": "pairs_tests", "solution": False, "grade": True,
                                                "points": 2, "locked": True, "schema_version": 3}})
    return new_notebook(cells=[new_markdown_cell("# Bigrams"), new_code_cell("import math"),
                               sol("count_pairs", cells[0]), test, sol("normalise", cells[1])])


def _course(root, students: dict[str, tuple[str, str]]):
    (root / "release" / A).mkdir(parents=True)
    nbformat.write(_notebook(BLANK), root / "release" / A / "bigrams.ipynb")
    for name, cells in students.items():
        folder = root / "submitted" / name / A
        folder.mkdir(parents=True)
        nbformat.write(_notebook(cells), folder / "bigrams.ipynb")
    return root


CLASS = {"alice": ALICE, "bob": BOB, "carol": CAROL, "dan": DAN, "erin": ERIN, "frank": BLANK, "gina": BLANK}


@pytest.fixture(scope="module")
def ranked(tmp_path_factory):
    root = _course(tmp_path_factory.mktemp("similarity"), CLASS)
    page, pairs = similarity.run(root, A)
    return root, page, pairs


def test_a_renamed_and_reordered_copy_ranks_first(ranked):
    _, _, pairs = ranked
    first, *rest = pairs
    assert (first.a, first.b) == ("alice", "bob"), [(p.a, p.b, round(p.score, 2)) for p in pairs[:5]]
    assert first.score >= 0.8 and first.score >= similarity.THRESHOLD
    independent = [p for p in rest if {p.a, p.b} <= {"alice", "carol", "dan", "erin"}]
    assert len(independent) == 6 and max(p.score for p in independent) < similarity.THRESHOLD
    assert first.score > 2 * max(p.score for p in independent)


def test_what_the_release_gives_everyone_matches_nothing(ranked):
    root, _, pairs = ranked
    blank = next(p for p in pairs if (p.a, p.b) == ("frank", "gina"))
    assert blank.score == 0 and blank.tokens == 0, "two untouched notebooks share only the boilerplate"
    boilerplate, students, _ = similarity.documents(root, A)
    without = {(p.a, p.b): p for p in similarity.compare(boilerplate, students, use_boilerplate=False)}
    assert without[("frank", "gina")].score == 1.0, "without the boilerplate the given code would match"


def test_the_page_shows_shared_code_and_says_it_is_no_verdict(ranked):
    root, page, _ = ranked
    text = page.read_text()
    assert "A flag is a reason to look, not a verdict." in text
    assert "<mark>" in text and "tally" in text and "counts" in text, "alice's and bob's code side by side"
    assert text.count("<h3>") == 1, "only the pair above the threshold is shown side by side"
    assert "<script" not in text and 'src="http' not in text, "self-contained"
    rows = (root / "reports" / A / "similarity.csv").read_text().splitlines()
    assert rows[0] == "student_a,student_b,score,share_a,share_b,shared_characters"
    assert len(rows) == 1 + 21 and rows[1].startswith("alice,bob,")


def test_bad_input_is_a_clear_error(tmp_path, capsys):
    assert similarity.main([A, "--root", str(tmp_path)]) == 2
    assert "holds no notebook: the released version is the boilerplate" in capsys.readouterr().err
    _course(tmp_path, {"alice": ALICE})
    assert similarity.main([A, "--root", str(tmp_path)]) == 2
    assert "holds 1 submission(s) of quiz: nothing to compare" in capsys.readouterr().err
    folder = tmp_path / "submitted" / "bob" / A
    folder.mkdir(parents=True)
    (folder / "bigrams.ipynb").write_text("not json")
    assert similarity.main([A, "--root", str(tmp_path)]) == 0
    assert "bob/bigrams.ipynb: not a readable notebook" in (tmp_path / "reports" / A / "similarity.html").read_text()


def test_make_similarity(tmp_path):
    _course(tmp_path, CLASS)
    proc = subprocess.run(["make", "--no-print-directory", "similarity", f"ASSIGNMENT={A}",
                           f"REPORT_ARGS=--root {tmp_path}"], cwd=harness.REPO, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "21 pairs compared, 1 at or above 0.50" in proc.stdout
