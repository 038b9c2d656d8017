"""Interactive pieces: a self-check quiz that never shows its answer, and a slider explorer.

Both work without a browser too. In JupyterLab they are widgets; where no Jupyter server started the
kernel (``jupyter nbconvert --execute``, the grader, a plain script), :func:`explore` draws its
starting value once and prints how to call the function with another value, and a :class:`Quiz`
prints its question with lettered options and is answered in code (``quiz.answer("b")``).
"""

from __future__ import annotations

import os
import string
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import ipywidgets as w
from IPython.display import display
from ipywidgets.widgets.interaction import _get_min_max_value

from course.checks import answer_hash


def static_widgets() -> bool:
    """True when no front end can show controls: then widgets are replaced by text.

    That is: while nbgrader executes the notebook (``NBGRADER_EXECUTION``), when
    ``COURSE_STATIC_WIDGETS=1``, or when no Jupyter server started the kernel (a Jupyter server sets
    ``JPY_SESSION_NAME``; ``jupyter nbconvert --execute`` and the grader do not).
    ``COURSE_STATIC_WIDGETS=0`` forces controls. Why not try controls anyway: headless executors can
    miss the reply to a cell that creates interactive output widgets and then wait for the whole cell
    timeout (jupyter/nbclient#312), and without a browser nobody could move them.
    """
    forced = os.environ.get("COURSE_STATIC_WIDGETS")
    if os.environ.get("NBGRADER_EXECUTION") or forced == "1":
        return True
    return forced != "0" and not os.environ.get("JPY_SESSION_NAME")


class Quiz:
    """A multiple-choice practice question with instant right/wrong feedback (no points).

    The answer is stored as a salted hash (see :func:`course.checks.answer_hash`), so the released
    notebook does not contain it. With ``multiple=True`` the learner picks a set of options and the
    hash is of that set. ``name`` is the variable the notebook keeps the quiz in, for the text
    fallback (``name.answer("b")``).
    """

    def __init__(self, question: str, options: Sequence[str], answer_hash: str, salt: str,
                 multiple: bool = False, explanation_right: str = "", explanation_wrong: str = "",
                 name: str = "quiz"):
        if len(options) < 2:
            raise ValueError("a quiz needs at least two options")
        if len(options) > len(string.ascii_lowercase):
            raise ValueError(f"a quiz has at most {len(string.ascii_lowercase)} options")
        self.question, self.options, self.salt, self.name = question, list(options), salt, name
        self.expected, self.multiple = answer_hash, multiple
        self.right_text = explanation_right or "Right."
        self.wrong_text = explanation_wrong or "Not yet: think again, then try another answer."
        self.widget: w.Widget | None = None

    def _build(self) -> w.Widget:
        if self.multiple:
            self.boxes = [w.Checkbox(description=o, indent=False) for o in self.options]
            self.choice: w.Widget = w.VBox(self.boxes)
        else:
            self.choice = w.RadioButtons(options=self.options, value=None, layout={"width": "max-content"})
        self.button = w.Button(description="Check", button_style="primary")
        self.feedback = w.HTML()
        self.button.on_click(lambda _: self.check())
        self.widget = w.VBox([w.HTML(f"<b>{self.question}</b>"), self.choice, self.button, self.feedback])
        return self.widget

    def text(self) -> str:
        """The quiz as text: the question, lettered options, and how to answer in code."""
        letters = string.ascii_lowercase
        lines = [self.question] + [f"  {letters[i]}) {o}" for i, o in enumerate(self.options)]
        pick = "the letters of every option you pick" if self.multiple else "the letter of your choice"
        lines.append(f'Answer in a new cell with {self.name}.answer("...") (between the quotes, {pick}); it '
                     "says at once whether you are right, never what the answer is.")
        return "\n".join(lines)

    def selected(self) -> Any:
        """The current choice in the widget: an option (or a set of options when ``multiple``)."""
        if self.widget is None:
            return None
        if self.multiple:
            return {o for o, b in zip(self.options, self.boxes) if b.value}
        return self.choice.value

    def _judge(self, choice: Any) -> tuple[bool, str]:
        right = answer_hash(choice, self.salt) == self.expected
        return right, f"{'✔' if right else '✘'} {self.right_text if right else self.wrong_text}"

    def check(self) -> bool:
        """Compare the widget's current choice with the stored hash and show the feedback."""
        choice = self.selected()
        if choice is None or choice == set():
            self.feedback.value = "Pick an answer first."
            return False
        right, text = self._judge(choice)
        self.feedback.value = f"<span style='color:{'#009E73' if right else '#D55E00'}'>{text}</span>"
        return right

    def answer(self, letters: str | Iterable[str]) -> bool:
        """Answer in code, by letter (``"b"``; ``"ac"`` or ``["a", "c"]`` when ``multiple``); prints the feedback."""
        picked = [c for c in letters.lower() if not c.isspace() and c != ","] if isinstance(letters, str) \
            else [str(c).strip().lower() for c in letters]
        valid = string.ascii_lowercase[:len(self.options)]
        bad = [c for c in picked if len(c) != 1 or c not in valid]
        if not picked or bad:
            raise ValueError(f"answer with {'letters' if self.multiple else 'one letter'} from "
                             f"{', '.join(valid)} (got {letters!r})")
        if not self.multiple and len(picked) != 1:
            raise ValueError(f"this question takes one letter, not {len(picked)}")
        chosen = [self.options[valid.index(c)] for c in picked]
        right, text = self._judge(set(chosen) if self.multiple else chosen[0])
        print(text)
        return right

    def _ipython_display_(self) -> None:
        if static_widgets():
            print(self.text())
            return
        bundle = (self.widget or self._build())._repr_mimebundle_()
        bundle["text/plain"] = self.text()  # what a front end without widgets shows
        display(bundle, raw=True)


def starting_value(control: Any) -> Any:
    """The value a control given to :func:`explore` starts at, as ipywidgets would choose it."""
    if isinstance(control, (w.ValueWidget, w.fixed)):
        return control.value
    if isinstance(control, tuple) and 2 <= len(control) <= 3 and all(isinstance(v, (int, float)) for v in control):
        low, high = control[0], control[1]
        step = control[2] if len(control) == 3 else None
        return _get_min_max_value(low, high, step=step)[2]
    if isinstance(control, (list, tuple)) and control:
        first = control[0]
        return first[1] if isinstance(first, tuple) and len(first) == 2 else first
    return control


def _describe(control: Any) -> str:
    """What values a control offers, in words (for the text fallback)."""
    if isinstance(control, tuple) and 2 <= len(control) <= 3 and all(isinstance(v, (int, float)) for v in control):
        return f"from {control[0]} to {control[1]}"
    if isinstance(control, (list, tuple)) and control:
        shown = [repr(c[1] if isinstance(c, tuple) and len(c) == 2 else c) for c in control]
        return "one of " + ", ".join(shown) if len(shown) <= 20 else f"one of {len(shown)} values"
    if isinstance(control, str):
        return "any text"
    return "another value"


def explore(function: Callable[..., Any], **controls: Any) -> w.Widget | None:
    """Sliders (or other controls) that re-run ``function`` whenever they move.

    ``controls`` are passed to ``ipywidgets.interactive``: a ``(min, max, step)``
    tuple makes a slider, a list makes a drop-down, a string a text box, a widget
    is used as it is. ``function`` runs once at once with the starting values.
    Where no front end can show controls (see :func:`static_widgets`), it only makes
    that first call and prints how to call ``function`` with other values.
    """
    if static_widgets():
        start = {name: starting_value(c) for name, c in controls.items()}
        function(**start)
        fname = getattr(function, "__name__", "the function")
        call = ", ".join(f"{k}={v!r}" for k, v in start.items())
        ranges = "; ".join(f"{k}: {_describe(c)}" for k, c in controls.items())
        print(f"Without JupyterLab there are no controls: this was {fname}({call}). For other values, call "
              f"{fname}(...) in a new cell ({ranges}).")
        return None
    panel = w.interactive(function, **controls)
    panel.children[-1].layout.min_height = "300px"
    return panel
