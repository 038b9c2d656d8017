"""Unit tests of the package ``course/`` (the plumbing the notebooks share)."""

from __future__ import annotations

import math
import os
import subprocess
import sys

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
import torch

import course
from course import checks, data, plots, taxonomy, train, widgets


# --- runtime -----------------------------------------------------------------------------------

def test_setup_makes_random_numbers_repeatable():
    rng = course.setup(seed=3)
    a = (rng.random(3), torch.rand(3), np.random.rand(2))
    rng = course.setup(seed=3)
    b = (rng.random(3), torch.rand(3), np.random.rand(2))
    assert np.allclose(a[0], b[0]) and torch.equal(a[1], b[1]) and np.allclose(a[2], b[2])


def test_setup_uses_one_thread_and_a_colour_blind_safe_palette():
    import matplotlib as mpl

    course.setup(seed=0)
    assert torch.get_num_threads() == 1
    assert mpl.rcParams["axes.prop_cycle"].by_key()["color"][:3] == course.runtime.PALETTE[:3]


def test_setup_gives_the_linear_algebra_libraries_one_thread_too():
    # a fresh interpreter that starts with two BLAS/OpenMP threads; SciPy's OpenBLAS loads after setup
    script = (
        "import numpy, course; course.setup(seed=0); import scipy.linalg, sklearn.linear_model; "
        "from threadpoolctl import threadpool_info; print(sorted({p['num_threads'] for p in threadpool_info()}))"
    )
    env = {**os.environ, "OMP_NUM_THREADS": "2", "OPENBLAS_NUM_THREADS": "2"}
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[1]", out.stdout + out.stderr


@pytest.mark.parametrize("kwargs", [{"seed": -1}, {"seed": 1.5}, {"threads": 0}])
def test_setup_rejects_bad_arguments(kwargs):
    with pytest.raises(ValueError):
        course.setup(**kwargs)


def test_check_environment_reports_plainly(capsys, monkeypatch):
    course.setup()
    assert course.check_environment() == []
    assert "All good" in capsys.readouterr().out
    monkeypatch.setitem(course.runtime.EXPECTED_VERSIONS, "numpy", "0.0.1")
    torch.set_num_threads(2)
    problems = course.check_environment(verbose=False)
    torch.set_num_threads(1)
    assert any("numpy" in p and "0.0.1" in p for p in problems)
    assert any("threads" in p for p in problems)


# --- data ----------------------------------------------------------------------------------------

def test_digits_are_scaled_split_and_stratified():
    d = data.digits(test_fraction=0.25, seed=0)
    assert d.x_train.shape[1] == 64 and d.x_train.dtype == torch.float32
    assert len(d.x_train) + len(d.x_test) == 1797
    assert 0.0 <= d.x_train.min() and d.x_train.max() <= 1.0
    share = lambda y: torch.bincount(y, minlength=10).float() / len(y)  # noqa: E731
    assert torch.allclose(share(d.y_train), share(d.y_test), atol=0.02)
    again = data.digits(test_fraction=0.25, seed=0)
    assert torch.equal(d.x_test, again.x_test)
    assert not torch.equal(d.x_test, data.digits(test_fraction=0.25, seed=1).x_test)


@pytest.mark.parametrize("bad", [0, 1, -0.2, 1.5, "a"])
def test_digits_rejects_bad_fractions(bad):
    with pytest.raises(ValueError, match="fraction"):
        data.digits(test_fraction=bad)


def test_ring_of_gaussians_is_centred_on_the_modes():
    pts = data.ring_of_gaussians(4000, modes=8, radius=2.0, std=0.05, seed=1)
    centres = data.ring_centres(8, 2.0)
    nearest = torch.cdist(pts, centres).argmin(dim=1)
    counts = torch.bincount(nearest, minlength=8)
    assert counts.min() > 400  # every mode gets its share (500 expected)
    assert torch.cdist(pts, centres).min(dim=1).values.max() < 0.05 * 6
    assert torch.equal(pts, data.ring_of_gaussians(4000, seed=1))
    with pytest.raises(ValueError):
        data.ring_of_gaussians(10, std=0)


def test_first_names_are_disjoint_lowercase_and_seeded():
    split = data.first_names(seed=0)
    everything = split.train + split.val + split.test
    assert 5000 <= len(everything) <= 5300
    assert len(set(everything)) == len(everything)
    assert all(n.isalpha() and n == n.lower() for n in everything)
    assert abs(len(split.test) - 0.1 * len(everything)) <= 1
    assert data.first_names(seed=0) == split
    assert data.first_names(seed=1).test != split.test


# --- training loop ---------------------------------------------------------------------------

def _line_problem():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(256, 1, generator=g)
    y = 3 * x + 1 + 0.01 * torch.randn(256, 1, generator=g)
    return x, y


def _mse(model, batch):
    x, y = batch
    return torch.nn.functional.mse_loss(model(x), y)


def test_fit_learns_a_line_and_is_repeatable():
    x, y = _line_problem()
    runs = []
    for _ in range(2):
        torch.manual_seed(0)
        model = torch.nn.Linear(1, 1)
        hist = train.fit(model, _mse, (x, y), epochs=60, lr=0.05, batch_size=32, progress=False)
        runs.append((hist.train_loss, model.weight.item()))
    assert runs[0] == runs[1]
    assert runs[0][0][-1] < 0.01 < runs[0][0][0]
    assert abs(runs[0][1] - 3) < 0.05


def test_fit_stops_early_and_keeps_the_best_weights():
    x, y = _line_problem()
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(1, 64), torch.nn.Tanh(), torch.nn.Linear(64, 1))
    hist = train.fit(model, _mse, (x[:32], y[:32]), val=(x[32:64], y[32:64] + 5), epochs=200, patience=3,
                     lr=0.01, progress=False)
    assert hist.stopped_early and hist.epochs < 200
    best = min(hist.val_loss)
    assert train.evaluate(model, _mse, (x[32:64], y[32:64] + 5)) == pytest.approx(best, rel=1e-5)


def test_fit_explains_bad_input_and_divergence():
    x, y = _line_problem()
    model = torch.nn.Linear(1, 1)
    with pytest.raises(ValueError, match="epochs"):
        train.fit(model, _mse, (x, y), epochs=0)
    with pytest.raises(ValueError, match="validation"):
        train.fit(model, _mse, (x, y), epochs=1, patience=2)
    with pytest.raises(ValueError, match="same length"):
        train.fit(model, _mse, (x, y[:10]), epochs=1, progress=False)
    with pytest.raises(FloatingPointError, match="learning rate"):
        train.fit(model, lambda m, b: m(b[0]).sum() * float("nan"), (x,), epochs=1, progress=False)


def test_fit_respects_the_time_budget(capsys):
    x, y = _line_problem()
    hist = train.fit(torch.nn.Linear(1, 1), _mse, (x, y), epochs=10_000, time_budget=0.0, progress=False)
    assert hist.out_of_time and hist.epochs == 1
    assert "time budget" in capsys.readouterr().out


def test_batches_cover_every_item_once():
    t = torch.arange(10)
    seen = torch.cat([b[0] for b in train.batches((t,), 3, torch.Generator().manual_seed(0))])
    assert sorted(seen.tolist()) == list(range(10))


# --- checks ----------------------------------------------------------------------------------

def test_canonical_forms_compare_as_a_grader_would():
    assert checks.canonical({"B", "a"}) == checks.canonical({"a", "b"})
    assert checks.canonical(" True ") == checks.canonical("true")
    assert checks.canonical(["a", "b"]) != checks.canonical(["b", "a"])
    assert checks.canonical({"x": {"b", "a"}}) == checks.canonical({"x": {"a", "b"}})
    with pytest.raises(TypeError):
        checks.canonical(object())


def test_self_check_never_prints_the_answer(capsys):
    salt = "t:"
    hashes = {"q1": checks.answer_hash({"generative"}, salt + "q1"), "q2": checks.answer_hash("b", salt + "q2")}
    assert checks.self_check({"q1": {"generative"}, "q2": "c"}, hashes, salt) == 1
    out = capsys.readouterr().out
    assert "1 of 2" in out and "'q2'" in out and "generative" not in out and '"b"' not in out


def test_expect_answered_explains_what_is_missing():
    with pytest.raises(AssertionError, match="replace the `...`"):
        checks.expect_answered({"a": ...}, ["a"])
    with pytest.raises(AssertionError, match="no entry"):
        checks.expect_answered({}, ["a"])
    with pytest.raises(AssertionError, match="not one of the allowed"):
        checks.expect_answered({"a": {"generativ"}}, ["a"], allowed=["generative"])
    with pytest.raises(AssertionError, match="should be a dict"):
        checks.expect_answered([1], ["a"])
    checks.expect_answered({"a": {"Generative"}}, ["a"], allowed=["generative"])


def test_expect_answered_takes_options_per_key():
    per_key = {"q1": ["a", "b"], "q2": [True, False], "n": None}
    checks.expect_answered({"q1": "B", "q2": False, "n": 1040}, ["q1", "q2", "n"], allowed=per_key)
    with pytest.raises(AssertionError, match=r"`answers\['q2'\]` contains 'a'.*True, False"):
        checks.expect_answered({"q1": "a", "q2": "a", "n": 3}, ["q1", "q2", "n"], allowed=per_key)



def test_expect_close_and_shape_messages():
    checks.expect_close(torch.tensor([1.0, 2.0]), [1.0, 2.0 + 1e-7])
    with pytest.raises(AssertionError, match="0.5 instead of 1"):
        checks.expect_close(0.5, 1.0, name="the loss")
    with pytest.raises(AssertionError, match=r"shape \(2, 3\)"):
        checks.expect_shape(torch.zeros(3, 2), (2, 3))
    with pytest.raises(AssertionError, match="torch.Tensor"):
        checks.expect_shape([1, 2], (2,))


def test_show_metrics_tags_numbers_for_the_tests(capsys):
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    captured = []
    shell.display_pub.publish = lambda data, metadata=None, **kw: captured.append(data)
    checks.show_metrics("quality", ratio=0.8)
    assert captured[0][checks.METRICS_MIME] == {"title": "quality", "ratio": 0.8}
    assert "ratio" in captured[0]["text/plain"]


# --- plots, widgets, taxonomy --------------------------------------------------------------------

def test_plots_are_titled_and_reject_bad_input():
    fig = plots.image_grid(torch.rand(12, 64), ncols=6, title="digits")
    assert fig._suptitle.get_text() == "digits"
    ax = plots.loss_curves({"train": [3, 2, 1], "val": [3, 2.5, 2]}, title="loss")
    assert ax.get_title() == "loss" and ax.get_xlabel() == "epoch"
    ax = plots.scatter_2d(torch.randn(20, 2), labels=torch.arange(20) % 3, title="latent")
    assert ax.get_title() == "latent"
    with pytest.raises(ValueError):
        plots.scatter_2d(torch.randn(5, 3))
    with pytest.raises(ValueError):
        plots.image_grid(torch.zeros(0, 64))


def test_quiz_gives_feedback_without_the_answer():
    options = ["red", "green", "blue"]
    q = widgets.Quiz("Colour?", options, answer_hash=checks.answer_hash("green", "s"), salt="s")
    assert "green" not in repr(vars(q).get("expected"))
    q._build()
    q.choice.value = "red"
    assert q.check() is False and "✘" in q.feedback.value
    q.choice.value = "green"
    assert q.check() is True and "✔" in q.feedback.value
    multi = widgets.Quiz("Which?", options, answer_hash=checks.answer_hash({"red", "blue"}, "m"), salt="m",
                         multiple=True)
    multi._build()
    multi.boxes[0].value = multi.boxes[2].value = True
    assert multi.check() is True
    with pytest.raises(ValueError):
        widgets.Quiz("?", ["only"], answer_hash="x", salt="s")


def test_quiz_answered_in_code_without_a_browser(capsys):
    """The text fallback: lettered options, answered with quiz.answer("b"), feedback without the answer."""
    q = widgets.Quiz("Colour?", ["red", "green", "blue"], answer_hash=checks.answer_hash("green", "s"), salt="s",
                     name="colour_quiz")
    text = q.text()
    assert "a) red" in text and "c) blue" in text and 'colour_quiz.answer("...")' in text
    assert q.answer("a") is False and q.answer(" B ") is True
    printed = capsys.readouterr().out
    assert "✘" in printed and "✔" in printed and "green" not in printed
    for bad in ("d", "", "ab", "red"):
        with pytest.raises(ValueError):
            q.answer(bad)
    multi = widgets.Quiz("Which?", ["red", "green", "blue"], answer_hash=checks.answer_hash({"red", "blue"}, "m"),
                         salt="m", multiple=True)
    assert multi.answer("ac") is True and multi.answer(["a", "c"]) is True and multi.answer("a") is False


@pytest.mark.parametrize("env, static", [({}, True), ({"JPY_SESSION_NAME": "x.ipynb"}, False),
                                         ({"JPY_SESSION_NAME": "x.ipynb", "NBGRADER_EXECUTION": "autograde"}, True),
                                         ({"JPY_SESSION_NAME": "x.ipynb", "COURSE_STATIC_WIDGETS": "1"}, True),
                                         ({"COURSE_STATIC_WIDGETS": "0"}, False)])
def test_widgets_are_text_where_no_jupyter_server_started_the_kernel(monkeypatch, env, static):
    for key in ("JPY_SESSION_NAME", "NBGRADER_EXECUTION", "COURSE_STATIC_WIDGETS"):
        monkeypatch.delenv(key, raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    assert widgets.static_widgets() is static


def test_explore_runs_the_function_once_with_its_controls(monkeypatch):
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    monkeypatch.delenv("COURSE_STATIC_WIDGETS", raising=False)
    monkeypatch.setenv("JPY_SESSION_NAME", "notebook.ipynb")  # a kernel that JupyterLab started
    calls = []
    panel = widgets.explore(lambda t, name: calls.append((t, name)), t=(0.0, 2.0, 0.5), name=["a", "b"])
    assert calls == [(1.0, "a")] and panel.children[0].description == "t"


@pytest.mark.parametrize("env", [{"NBGRADER_EXECUTION": "autograde"}, {"COURSE_STATIC_WIDGETS": "1"}, {}])
def test_explore_draws_once_without_controls_when_headless(monkeypatch, capsys, env):
    for key in ("JPY_SESSION_NAME", "NBGRADER_EXECUTION", "COURSE_STATIC_WIDGETS"):
        monkeypatch.delenv(key, raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    calls = []
    controls = {"t": (0.1, 3.0, 0.1), "n": (1, 10), "word": "nine", "pick": ["x", "y"],
                "s": widgets.w.FloatSlider(value=0.3)}

    def show(**kw):
        calls.append(kw)

    assert widgets.explore(show, **controls) is None
    interactive_start = {k: v.value for k, v in zip(controls, widgets.w.interactive(lambda **kw: None, **controls).children)}
    assert calls == [interactive_start]
    said = capsys.readouterr().out
    assert "no controls" in said and "show(t=1.5" in said and "pick: one of 'x', 'y'" in said and "t: from 0.1 to 3.0" in said


def test_every_example_sits_in_exactly_its_regions_of_the_map():
    for ex in taxonomy.EXAMPLES.values():
        inside = {name for name, (centre, radius, _) in taxonomy._REGIONS.items()
                  if math.dist(ex.xy, centre) < radius}
        assert inside == set(ex.categories), f"{ex.name} is drawn in {inside}, but belongs to {set(ex.categories)}"
        assert "llm" not in ex.categories or "language_model" in ex.categories
        assert taxonomy.in_deep_learning(ex.xy) == ex.deep, f"{ex.name} is drawn on the wrong side of deep learning"
        assert ex.deep or not ex.categories & {"llm", "foundation"}, f"{ex.name}: LLMs and foundation models are deep"


def test_map_puts_llms_and_foundation_models_inside_deep_learning_and_the_rest_across_it():
    assert taxonomy.circle_in_deep_learning("llm") and taxonomy.circle_in_deep_learning("foundation")
    assert not taxonomy.circle_in_deep_learning("generative")
    assert not taxonomy.circle_in_deep_learning("language_model")
    classical = {frozenset(ex.categories) for ex in taxonomy.EXAMPLES.values() if not ex.deep}
    # a classical generative model, an n-gram language model, and a discriminative classifier that is none of the three
    assert {frozenset({"generative"}), frozenset({"generative", "language_model"}), frozenset()} <= classical


def test_draw_map_highlights_and_rejects_unknown_systems():
    fig = taxonomy.draw_map(highlight="BERT")
    assert "BERT" in fig.axes[0].get_title()
    with pytest.raises(ValueError, match="unknown example"):
        taxonomy.draw_map(highlight="Claude")
