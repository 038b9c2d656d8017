"""Interactive pieces: a self-check quiz that never shows its answer, and a slider explorer.

Both run headless too: executed without a browser, a widget shows as text and
never blocks the notebook.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import os

import ipywidgets as w
from IPython.display import display
from ipywidgets.widgets.interaction import _get_min_max_value

from course.checks import answer_hash


class Quiz:
    """A multiple-choice question with instant right/wrong feedback.

    The answer is stored as a salted hash (see :func:`course.checks.answer_hash`),
    so the released notebook does not contain it. With ``multiple=True`` the learner
    ticks a set of options and the hash is of that set.
    """

    def __init__(self, question: str, options: Sequence[str], answer_hash: str, salt: str,
                 multiple: bool = False, explanation_right: str = "", explanation_wrong: str = ""):
        if len(options) < 2:
            raise ValueError("a quiz needs at least two options")
        self.question, self.options, self.salt = question, list(options), salt
        self.expected, self.multiple = answer_hash, multiple
        self.right_text = explanation_right or "Right."
        self.wrong_text = explanation_wrong or "Not yet: think again, then try another answer."
        if multiple:
            self.boxes = [w.Checkbox(description=o, indent=False) for o in self.options]
            self.choice: w.Widget = w.VBox(self.boxes)
        else:
            self.choice = w.RadioButtons(options=self.options, value=None, layout={"width": "max-content"})
        self.button = w.Button(description="Check", button_style="primary")
        self.feedback = w.HTML()
        self.button.on_click(lambda _: self.check())
        self.widget = w.VBox([w.HTML(f"<b>{question}</b>"), self.choice, self.button, self.feedback])

    def selected(self) -> Any:
        """The current choice: an option (or a set of options when ``multiple``)."""
        if self.multiple:
            return {o for o, b in zip(self.options, self.boxes) if b.value}
        return self.choice.value

    def check(self) -> bool:
        """Compare the current choice with the stored hash and show the feedback."""
        choice = self.selected()
        if choice is None or choice == set():
            self.feedback.value = "Pick an answer first."
            return False
        right = answer_hash(choice, self.salt) == self.expected
        colour = "#009E73" if right else "#D55E00"
        text = self.right_text if right else self.wrong_text
        self.feedback.value = f"<span style='color:{colour}'>{'✔' if right else '✘'} {text}</span>"
        return right

    def _ipython_display_(self) -> None:
        display(self.widget)


def static_widgets() -> bool:
    """True while nbgrader executes the notebook (autograde, validate) or when
    ``COURSE_STATIC_WIDGETS=1``: then :func:`explore` draws once instead of making controls.

    Why: headless executors can miss the reply to a cell that creates interactive
    output widgets and then wait for the whole cell timeout (jupyter/nbclient#312);
    without a browser nobody could move the controls anyway.
    """
    return bool(os.environ.get("NBGRADER_EXECUTION")) or os.environ.get("COURSE_STATIC_WIDGETS") == "1"


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


def explore(function: Callable[..., Any], **controls: Any) -> w.Widget | None:
    """Sliders (or other controls) that re-run ``function`` whenever they move.

    ``controls`` are passed to ``ipywidgets.interactive``: a ``(min, max, step)``
    tuple makes a slider, a list makes a drop-down, a string a text box, a widget
    is used as it is. ``function`` runs once at once with the starting values.
    Executed headless for grading (see :func:`static_widgets`), it only makes that
    first call, so the output is a plain picture and no control is created.
    """
    if static_widgets():
        function(**{name: starting_value(c) for name, c in controls.items()})
        return None
    panel = w.interactive(function, **controls)
    panel.children[-1].layout.min_height = "300px"
    return panel
