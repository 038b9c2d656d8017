"""Answer checks for test cells: readable failure messages, format checks, and what the grader observes.

Scores are decided outside the learner's kernel (``course.grading.scoring``). A test cell hands the
grader *observations*: :func:`record_answers` for structured answers, :func:`observe` for what a
learner's function returns on inputs the learner never sees (in hidden tests), :func:`require` for a
property that must hold but is too easy to guess to earn points. The grader compares them with the
same observations from the instructor's notebook. The ``expect_*`` helpers give learners readable
messages in visible tests; ``self_check`` is for ungraded practice questions only.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from typing import Any

import torch

from course.protocol import METRICS_MIME, OBSERVATION_MIME


def canonical(value: Any) -> str:
    """A stable text form of an answer: strings trimmed and lower-cased, sets and dict keys sorted.

    ``{"B", "a"}``, ``["a", "b"]`` as a set, and ``" A "`` all compare the way a
    grader would expect; a list keeps its order.
    """
    if isinstance(value, str):
        return json.dumps(value.strip().lower())
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, (int, float)):
        return json.dumps(round(float(value), 6))
    if isinstance(value, (set, frozenset)):
        return "{" + ",".join(sorted(canonical(v) for v in value)) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(canonical(v) for v in value) + "]"
    if isinstance(value, Mapping):
        items = sorted((canonical(k), canonical(v)) for k, v in value.items())
        return "{" + ",".join(f"{k}:{v}" for k, v in items) + "}"
    raise TypeError(f"answers must be strings, numbers, booleans, sets, lists or dicts, not {type(value).__name__}")


def answer_hash(value: Any, salt: str) -> str:
    """The salted SHA-256 (first 16 hex digits) of an answer's canonical form."""
    return hashlib.sha256((salt + canonical(value)).encode("utf-8")).hexdigest()[:16]


def self_check(answers: Mapping[str, Any], hashes: Mapping[str, str], salt: str) -> int:
    """Print which answers are right, by hash, and return how many are.

    Never says what the right answer is. Unanswered items (``...``) count as not yet right.
    """
    right = [k for k in hashes if k in answers and answers[k] is not Ellipsis
             and answer_hash(answers[k], salt + k) == hashes[k]]
    wrong = [k for k in hashes if k not in right]
    print(f"Self-check: {len(right)} of {len(hashes)} right.")
    if wrong:
        print("Not yet right: " + ", ".join(repr(k) for k in wrong))
    else:
        print("All right. Well done!")
    return len(right)


def expect_answered(answers: Any, keys: Iterable[str],
                    allowed: Iterable[Any] | Mapping[str, Iterable[Any] | None] | None = None,
                    name: str = "answers") -> None:
    """Raise a readable AssertionError unless ``answers`` is a dict with every key answered.

    With ``allowed``, each answer (or each member of a set answer) must be one of them; a dict gives
    each key its own options (``None``: any value of the right kind, such as a number).
    """
    assert isinstance(answers, dict), f"`{name}` should be a dict, but it is a {type(answers).__name__}."
    keys = list(keys)
    missing = [k for k in keys if k not in answers]
    assert not missing, f"`{name}` has no entry for: {', '.join(map(repr, missing))}. Please do not remove keys."
    open_ = [k for k in keys if answers[k] is Ellipsis]
    assert not open_, f"Still to answer in `{name}` (replace the `...`): {', '.join(map(repr, open_))}."
    if allowed is None:
        return
    for k in keys:
        options = allowed.get(k) if isinstance(allowed, Mapping) else allowed
        if options is None:
            continue
        options = list(options)
        ok = {canonical(a) for a in options}
        members = answers[k] if isinstance(answers[k], (set, frozenset, list, tuple)) else [answers[k]]
        bad = [m for m in members if _safe_canonical(m) not in ok]
        assert not bad, (
            f"`{name}[{k!r}]` contains {', '.join(map(repr, bad))}, which is not one of the allowed "
            f"answers: {', '.join(map(repr, options))}."
        )


def _safe_canonical(value: Any) -> str | None:
    try:
        return canonical(value)
    except TypeError:
        return None


def expect_shape(tensor: Any, shape: tuple[int, ...], name: str = "the result") -> None:
    """Raise a readable AssertionError unless ``tensor`` is a tensor of exactly ``shape``."""
    assert isinstance(tensor, torch.Tensor), f"{name} should be a torch.Tensor, but it is a {type(tensor).__name__}."
    assert tuple(tensor.shape) == tuple(shape), f"{name} should have shape {tuple(shape)}, but it has {tuple(tensor.shape)}."


def expect_close(actual: Any, expected: Any, name: str = "the result", atol: float = 1e-5, rtol: float = 1e-4) -> None:
    """Raise a readable AssertionError unless ``actual`` is numerically close to ``expected``."""
    a = torch.as_tensor(actual, dtype=torch.float64)
    e = torch.as_tensor(expected, dtype=torch.float64)
    assert a.shape == e.shape, f"{name} should have shape {tuple(e.shape)}, but it has {tuple(a.shape)}."
    if not torch.allclose(a, e, atol=atol, rtol=rtol):
        worst = (a - e).abs().max().item()
        shown = f"{a.item():.6g} instead of {e.item():.6g}" if a.numel() == 1 else f"off by up to {worst:.3g}"
        raise AssertionError(f"{name} is not right: {shown}.")


def _emit(kind: str, name: str, value: Any, note: str, **extra: Any) -> None:
    from IPython.display import display

    payload = {"kind": kind, "name": name, "value": value, **extra}
    display({"text/plain": note, OBSERVATION_MIME: payload}, raw=True)


def record_answers(answers: Mapping[str, Any], name: str = "answers") -> None:
    """Hand structured answers (a dict) to the grader, which scores each entry outside this kernel.

    Unanswered entries (``...``) and answers of an unknown type are recorded as unanswered.
    """
    if not isinstance(answers, Mapping):
        raise TypeError(f"answers must be a dict, not {type(answers).__name__}")
    items = {str(k): (None if v is Ellipsis else _safe_canonical(v)) for k, v in answers.items()}
    n = len(items)
    _emit("answers", name, items, f"{n} answer{'' if n == 1 else 's'} recorded; they are scored when the notebook is graded.")


def _plain(value: Any) -> Any:
    """Numbers, strings, tensors and arrays as JSON: tensors and arrays become nested lists of floats."""
    import numpy as np

    if isinstance(value, torch.Tensor):
        return value.detach().to(torch.float64).cpu().tolist()
    if isinstance(value, np.ndarray):
        return value.astype(np.float64).tolist()
    if isinstance(value, (bool, np.bool_)):
        raise TypeError("use require(name, condition) for a True/False property")
    if isinstance(value, (int, float, np.integer, np.floating)):
        return float(value)
    if isinstance(value, str):
        return value
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (set, frozenset, Mapping)):
        return canonical(value)
    raise TypeError(f"cannot observe a {type(value).__name__}")


def observe(name: str, value: Any, atol: float = 1e-5, rtol: float = 1e-4) -> None:
    """Record a value for the grader (hidden tests): what a learner's code returned on a hidden input.

    ``value`` may be a zero-argument function: it is called here, and an exception it raises is
    recorded (the observation then counts as wrong) instead of stopping the test cell. The grader
    compares the value with the instructor's within ``atol`` and ``rtol`` (numbers) or exactly.
    """
    try:
        plain = _plain(value() if callable(value) else value)
        _emit("value", name, plain, f"recorded: {name}", atol=float(atol), rtol=float(rtol))
    except Exception as exc:  # noqa: BLE001 - the learner's code may raise anything
        _emit("value", name, None, f"recorded: {name} (raised {type(exc).__name__})",
              error=f"{type(exc).__name__}: {exc}"[:300])


def require(name: str, condition: Any) -> None:
    """Record a property that must hold (the cell scores 0 if it does not). It never earns points alone."""
    try:
        holds = bool(condition() if callable(condition) else condition)
    except Exception:  # noqa: BLE001
        holds = False
    _emit("guard", name, holds, f"checked: {name}")


def show_metrics(title: str, **metrics: float) -> None:
    """Show named results as a readable table, and tag them so the course's tests can read them back."""
    from IPython.display import display

    width = max(len(k) for k in metrics) if metrics else 0
    text = title + "\n" + "\n".join(f"  {k:<{width}}  {v:.4g}" for k, v in metrics.items())
    display({"text/plain": text, METRICS_MIME: {"title": title, **{k: float(v) for k, v in metrics.items()}}},
            raw=True)
