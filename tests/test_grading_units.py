"""Fast tests of the grader's parts, on in-memory notebooks and small folders (no kernel, no nbgrader run).

Scoring (partial credit, tolerances, NaN and infinity, lengths, types, guards, held cells), cleaning,
reading code for tampering and for reaching into grading, the sandbox command, the link defences,
the reference's key and the pipeline's configuration. ``make test PYTEST_ARGS="-m 'not slow'"`` runs
them with the other fast tests.
"""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from course.grading import files, pipeline, reference, scoring
from course.grading.sandbox import Limits, Sandbox
from course.grading.tampering import imported_modules, reaches_into_grading, tampering
from course.protocol import OBSERVATION_MIME, is_test_cell, item_key, learner_label, observations

REPO = Path(__file__).resolve().parents[1]


def value(name, v, atol=1e-5, rtol=1e-4, **extra):
    return {"kind": "value", "name": name, "value": v, "atol": atol, "rtol": rtol, **extra}


def answers(d, name="answers"):
    return {"kind": "answers", "name": name, "value": d}


def guard(name, holds):
    return {"kind": "guard", "name": name, "value": holds}


# --- scoring ---------------------------------------------------------------------------------------
def test_answers_earn_their_share_each_and_values_are_all_or_nothing():
    ref = [answers({"a": '"x"', "b": "true", "c": '"z"', "d": "1.0"})]
    assert scoring.score_cell(4, ref, [answers({"a": '"x"', "b": "true", "c": '"y"', "d": None})])[0] == 2.0
    ref = [value("v1", 2.0), value("v2", [1.0, 2.0])]
    assert scoring.score_cell(3, ref, [value("v1", 2.0), value("v2", [1.0, 2.0])])[0] == 3.0
    earned, missed = scoring.score_cell(3, ref, [value("v1", 2.0), value("v2", [1.0, 2.5])])
    assert earned == 0.0 and missed == ["wrong or missing: value v2"]


def test_tolerances_are_the_references_never_the_learners():
    ref = [value("x", 1.0, atol=1e-3, rtol=0)]
    assert scoring.score_cell(1, ref, [value("x", 1.0009)])[0] == 1
    assert scoring.score_cell(1, ref, [value("x", 1.002)])[0] == 0
    assert scoring.score_cell(1, ref, [value("x", 1.5, atol=10, rtol=10)])[0] == 0  # a forged loose tolerance


@pytest.mark.parametrize("want, got, ok", [
    (float("nan"), float("nan"), True), (float("nan"), 1.0, False), (1.0, float("nan"), False),
    (float("inf"), float("inf"), True), (float("-inf"), float("inf"), False), (float("-inf"), -1e308, False),
    (1.0, float("inf"), False), ("-inf", "-inf", True),  # non-finite numbers that came through JSON as text
    ([1.0, 2.0], [1.0], False), ([1.0], [1.0, 2.0], False), ([[1.0, 2.0]], [[1.0, 2.0]], True),
    (1.0, True, False), (1.0, "1.0", False), ("abc", "abc", True), ("abc", "ABC", False), (2.0, 2, True),
    (1.0, None, False), ([1.0], "[1.0]", False),
])
def test_values_compare_by_type_length_and_non_finite_numbers(want, got, ok):
    assert scoring.matches(value("x", got), value("x", want)) is ok


def test_an_observation_that_raised_or_is_missing_counts_as_wrong():
    ref = [value("x", 1.0)]
    assert scoring.score_cell(1, ref, [value("x", None, error="ValueError: no")])[0] == 0
    assert scoring.score_cell(1, ref, [])[0] == 0


def test_a_guard_zeroes_the_cell_and_cannot_be_forged_by_a_second_payload():
    ref = [value("x", 1.0), guard("p", True)]
    assert scoring.score_cell(2, ref, [value("x", 1.0), guard("p", True)])[0] == 2
    assert scoring.score_cell(2, ref, [value("x", 1.0), guard("p", False), guard("p", True)])[0] == 0
    assert scoring.score_cell(2, ref, [value("x", 1.0)])[0] == 0
    with pytest.raises(ValueError, match="only guards"):
        scoring.score_cell(1, [guard("p", True)], [guard("p", True)])


def _test_cell(gid, outputs, points=2):
    meta = {"nbgrader": {"grade_id": gid, "grade": True, "solution": False, "locked": True, "points": points}}
    cell = new_code_cell("checks.observe(...)", metadata=meta)
    cell.outputs = outputs
    return cell


def _obs(payload):
    return new_output("display_data", data={"text/plain": "recorded", OBSERVATION_MIME: payload})


def test_scoring_writes_the_score_names_the_failed_checks_and_keeps_items():
    ref = {"t": [value("retrieve splits words at any non-letter", [1.0]), answers({"clip": '"b"'})]}
    nb = new_notebook(cells=[_test_cell("t", [_obs(value("retrieve splits words at any non-letter", [2.0])),
                                              _obs(answers({"clip": '"c"'}))])])
    outcome = scoring.Outcome()
    scoring.score_notebook(nb, ref, outcome)
    texts = [o.get("text", "") for o in nb.cells[0].outputs]
    assert any(t.startswith(scoring.FAILED_PREFIX) and "retrieve splits words at any non-letter" in t
               and "your answer for 'clip'" in t for t in texts), texts
    assert "[1.0]" not in "".join(texts) and '"b"' not in "".join(texts)  # never the right values
    assert nb.cells[0].outputs[-1]["data"]["text/plain"] == "0.0"
    assert {(r["item"], r["correct"], r["chosen"]) for r in outcome.items} == {
        ("value retrieve splits words at any non-letter", 0, ""), ("answers[clip]", 0, '"c"')}


def test_a_held_notebook_scores_guarded_cells_zero_for_review_and_says_why():
    ref = {"g": [value("x", 1.0), guard("p", True)], "v": [value("y", 2.0)]}
    nb = new_notebook(cells=[_test_cell("g", [_obs(value("x", 1.0)), _obs(guard("p", True))]),
                             _test_cell("v", [_obs(value("y", 2.0))])])
    outcome = scoring.Outcome()
    scoring.score_notebook(nb, ref, outcome, hold="reaches into grading (uses .__dict__)")
    assert outcome.cells == {"g": 0.0, "v": 2.0}
    assert "tampering" in outcome.flags and any("held for review" in d for d in outcome.details)
    assert any("Held for review" in o.get("text", "") for o in nb.cells[0].outputs)


def test_forged_outputs_of_a_cell_are_replaced_by_the_graders_score():
    ref = {"t": [value("x", 1.0)]}
    forged = new_output("execute_result", data={"text/plain": "2.0"}, execution_count=1)
    nb = new_notebook(cells=[_test_cell("t", [forged, _obs(value("x", 5.0))])])
    scoring.score_notebook(nb, ref, scoring.Outcome())
    results = [o for o in nb.cells[0].outputs if o["output_type"] == "execute_result"]
    assert len(results) == 1 and results[0]["data"]["text/plain"] == "0.0"


def test_malformed_payloads_are_ignored():
    cell = _test_cell("t", [_obs({"kind": "value"}), _obs({"kind": "nonsense", "name": "x"}), _obs("text"),
                            _obs(answers("not a dict")), _obs(value("ok", 1.0))])
    assert [p["name"] for p in observations(cell)] == ["ok"]


# --- cleaning --------------------------------------------------------------------------------------
def test_output_past_nbgraders_line_limit_is_flagged_whether_or_not_it_was_cut_yet():
    from course.grading.integrity import TRUNCATED, inspect_executed

    def printed(lines: int, text: str = "") -> object:
        out = new_output("stream", name="stdout", text=text or "\n".join("x" * lines))
        return new_notebook(cells=[new_code_cell("print()", outputs=[out])])

    assert inspect_executed(printed(1000), max_lines=1000) == set()
    assert inspect_executed(printed(1001), max_lines=1000) == {"output_truncated"}
    assert inspect_executed(printed(1001), max_lines=-1) == set()
    assert inspect_executed(printed(0, f"0\n{TRUNCATED}"), max_lines=1000) == {"output_truncated"}


def test_cleaning_removes_quoted_hidden_tests_and_inert_active_content():
    hidden = "### BEGIN HIDDEN TESTS\nchecks.observe('secret input 123', lambda: f(123))\n### END HIDDEN TESTS"
    source = new_notebook(cells=[_test_cell("t", [])])
    source.cells[0].source = hidden
    out = new_notebook(cells=[_test_cell("t", [new_output("stream", name="stdout", text="checks.observe('secret input 123', lambda: f(123))"),
                                               new_output("display_data", data={"text/html": "<script>x</script>", "text/plain": "x"})]),
                              new_markdown_cell("<img src=x onerror=alert(1)> [a](javascript:alert(1))")])
    outcome = scoring.Outcome()
    scoring.clean_outputs(out, source, outcome)
    text = str(out.cells[0].outputs)
    assert "secret input" not in text and "text/html" not in text
    assert "<img" not in out.cells[1].source and "javascript (link removed)" in out.cells[1].source
    assert {"hidden_test_text", "active_content"} <= outcome.flags


# --- reading the learner's code --------------------------------------------------------------------
ISSUE_ATTACK = ("import sys\n"
                "sys.modules['course.checks'].__dict__.update(require=lambda name, condition: None)\n")


@pytest.mark.parametrize("code", [
    ISSUE_ATTACK,
    "import course.checks as c\nvars(c)['require'] = print",
    "get_ipython().events.register('pre_run_cell', print)",
    "ip = get_ipython()\nip.input_transformers_post.append(lambda lines: lines)",
    "get_ipython().set_custom_exc((Exception,), lambda *a: None)",
    "get_ipython().display_pub.publish({'text/plain': '1'})",
    "import gc\n[o for o in gc.get_objects()]",
    "import ctypes", "import importlib\nimportlib.reload(x)", "import threading\nthreading.settrace(f)",
    "f = lambda: 0\nf.__globals__['x'] = 1", "exec('import sys')", "eval('1')", "__import__('sys')",
    "getattr(obj, 'requ' + 'ire')", "x = getattr(mod, '__dict__')", "import evil_module_the_notebook_wrote",
    "from course.checks import _emit", "import course.checks as checks\nchecks._emit('guard', 'x', True, '')",
    "%run helper.py", "!python -c 'print(1)'", "%%time\nimport sys", "open('/proc/self/mem', 'rb')",
    "display({'application/vnd.course.observation+json': {}}, raw=True)", "torch.load(f, weights_only=False)",
    "import pickle", "import subprocess", "(1).__class__.__base__.__subclasses__()",
    "from IPython.display import publish_display_data", "import IPython.display as d\nd.publish_display_data({})",
    "import IPython\nIPython.get_ipython()",
])
def test_code_that_reaches_into_what_the_kernel_reports_is_seen(code):
    assert reaches_into_grading(code), code


def test_the_courses_own_code_reaches_into_nothing():
    for path in sorted((REPO / "source").glob("*/*.ipynb")):
        nb = nbformat.read(path, 4)
        allowed = imported_modules(nb)
        for cell in nb.cells:
            if cell.cell_type == "code" and not is_test_cell(cell):
                assert reaches_into_grading(cell.source, allowed) == [], (path.name, cell.source[:80])


def test_ordinary_learner_code_is_not_flagged():
    for code in ["import torch\nimport torch.nn as nn\nclass M(nn.Module):\n    def __init__(self):\n        super().__init__()",
                 "%time x = sum(range(10))", "%matplotlib inline", "model.eval()", "getattr(model, 'weight')",
                 "from collections import Counter\nimport math, re, random", "import numpy as np\nnp.mean([1])",
                 "from IPython.display import HTML, Markdown, display\ndisplay(HTML('<b>hi</b>'))"]:
        assert reaches_into_grading(code) == [], code


def test_tampering_with_what_the_tests_compare_is_seen():
    assert tampering("str = lambda x: 'b'", {"str"}) == ["reassigns str"]
    assert tampering("import numpy as np\nnp.testing.assert_equal = None", set())


# --- files a kernel could have made ----------------------------------------------------------------
def test_read_regular_refuses_links_fifos_folders_hard_links_and_big_files(tmp_path):
    (tmp_path / "ok.ipynb").write_text("{}")
    assert files.read_regular(tmp_path / "ok.ipynb") == b"{}"
    (tmp_path / "target").write_text("secret")
    os.symlink(tmp_path / "target", tmp_path / "link.ipynb")
    os.mkfifo(tmp_path / "fifo.ipynb")
    (tmp_path / "dir.ipynb").mkdir()
    os.link(tmp_path / "target", tmp_path / "hard.ipynb")
    (tmp_path / "big.ipynb").write_bytes(b"x" * 100)
    for name, why in [("link.ipynb", "symbolic link"), ("fifo.ipynb", "FIFO"), ("dir.ipynb", "folder"),
                      ("hard.ipynb", "hard links"), ("missing.ipynb", "missing")]:
        with pytest.raises(files.UnsafeFile, match=why):
            files.read_regular(tmp_path / name)
    with pytest.raises(files.UnsafeFile, match="over the limit"):
        files.read_regular(tmp_path / "big.ipynb", limit=10)


def test_copies_leave_links_out_and_planted_files_are_listed(tmp_path):
    src, dest = tmp_path / "src", tmp_path / "dest"
    (src / "sub").mkdir(parents=True)
    (src / "a.ipynb").write_text("{}")
    (src / "sub" / "data.txt").write_text("1")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret").write_text("s")
    os.symlink(outside / "secret", src / "b.ipynb")
    os.symlink(outside, src / "linked_dir")
    os.mkfifo(src / "pipe")
    dropped = files.copy_regular_files(src, dest, blank=(".ipynb",))
    assert sorted(dropped) == ["b.ipynb", "linked_dir", "pipe"]
    assert (dest / "a.ipynb").read_bytes() == b"" and (dest / "sub" / "data.txt").read_text() == "1"
    assert not (dest / "linked_dir").exists()
    os.link(src / "a.ipynb", src / "hard")
    (src / "c.ipynb").mkdir()
    found = "\n".join(files.planted(src))
    assert "sub" not in found  # an ordinary folder is not planted
    for what in ("b.ipynb (a symbolic link", "linked_dir (a symbolic link", "pipe (a FIFO)", "hard (a hard link)",
                 "c.ipynb (a folder named like a notebook)"):
        assert what in found
    assert files.planted(dest) == []


# --- the sandbox command ---------------------------------------------------------------------------
def test_the_sandbox_command_shows_only_the_box_and_the_readonly_paths(tmp_path):
    box = Sandbox("bwrap", str(tmp_path / "box"), 61001, ("/opt/py",), Limits())
    cmd = box.wrap(["python", "-m", "ipykernel_launcher"], box.work_dir)
    joined = " ".join(cmd)
    for flag in ("--unshare-net", "--unshare-pid", "--die-with-parent", "--clearenv", "--no-new-privs",
                 "--reuid=61001", f"--as={Limits().memory_bytes}"):
        assert flag in joined, flag
    binds = [(cmd[i], cmd[i + 1], cmd[i + 2]) for i, c in enumerate(cmd) if c in ("--bind", "--ro-bind")]
    writable = {dest for flag, _, dest in binds if flag == "--bind"}
    assert writable == {"/tmp", "/home/student", str(box.run_dir), box.work_dir}
    assert ("--ro-bind", "/opt/py", "/opt/py") in binds
    assert cmd[cmd.index("--chdir") + 1] == box.work_dir
    assert not [src for _, src, _ in binds if src.startswith(str(REPO))], "nothing of the course folder is mounted"
    assert Sandbox("none", str(tmp_path), None).wrap(["k"], None)[-1] == "k"


def test_a_box_is_made_new_and_handed_to_the_kernel_only(tmp_path):
    box = Sandbox("bwrap", str(tmp_path / "b"), None)
    box.prepare()
    assert sorted(p.name for p in (tmp_path / "b").iterdir()) == ["empty", "home", "run", "tmp", "work"]


# --- the reference ---------------------------------------------------------------------------------
def test_the_reference_key_covers_the_package_its_weights_and_the_config(tmp_path):
    root = tmp_path / "course"
    (root / "source" / "a").mkdir(parents=True)
    (root / "source" / "a" / "n.ipynb").write_text("{}")
    (root / "nbgrader_config.py").write_text("c = get_config()\n")
    package = tmp_path / "course_pkg"
    (package / "weights").mkdir(parents=True)
    (package / "helpers.py").write_text("def f(): return 1\n")
    (package / "weights" / "m.pt").write_bytes(b"\0\1")
    first = reference.key(root, "a", ["n"], package)
    assert reference.key(root, "a", ["n"], package) == first
    keys = {first}
    for change in (lambda: (package / "helpers.py").write_text("def f(): return 2\n"),
                   lambda: (package / "weights" / "m.pt").write_bytes(b"\0\2"),
                   lambda: (root / "nbgrader_config.py").write_text("c = get_config()\nc.Execute.timeout = 5\n"),
                   lambda: (root / "source" / "a" / "n.ipynb").write_text('{"cells": []}')):
        change()
        keys.add(reference.key(root, "a", ["n"], package))
    assert len(keys) == 5, "every change must give a new key (the reference is then recorded again)"


def test_a_cached_reference_is_used_and_a_new_key_records_again(tmp_path):
    calls = []

    def record():
        calls.append(1)
        return {"n": {"t": [value("x", 1.0)]}}

    assert reference.load_or_record(tmp_path / "a-1.json", record) == record()
    assert reference.load_or_record(tmp_path / "a-1.json", record)["n"]["t"][0]["value"] == 1.0
    reference.load_or_record(tmp_path / "a-2.json", record)
    assert len(calls) == 3  # record() above, the first load, the new key; the second load used the cache


# --- the pipeline --------------------------------------------------------------------------------
def test_the_pipelines_are_nbgraders_own_with_the_courses_steps_in_place():
    from nbgrader.converters import Autograde

    default = [f"{c.__module__}.{c.__qualname__}" for c in Autograde.class_traits()["autograde_preprocessors"].default()]
    execute = pipeline.execute_preprocessors()["autograde_preprocessors"]
    i = execute.index(pipeline.SANDBOXED_EXECUTE)
    assert execute[i:i + 3] == [pipeline.SANDBOXED_EXECUTE, pipeline.SCORE, pipeline.CLEAN]
    assert [p for p in execute if p not in (pipeline.SANDBOXED_EXECUTE, pipeline.SCORE, pipeline.CLEAN)] == \
           [p for p in default if not p.endswith(".Execute")]
    record = pipeline.record_preprocessors()
    assert not any(p.endswith((".Execute", ".ClearOutput")) for ps in record.values() for p in ps)


def test_settings_reach_nbgrader_as_its_command_line():
    from traitlets import Dict, Int, List, Unicode
    from traitlets.config import Application, Configurable

    class K(Configurable):
        d = Dict().tag(config=True)
        names = List(Unicode()).tag(config=True)
        n = Int(0).tag(config=True)
        path = Unicode().tag(config=True)

    settings = {"K": {"d": {"why": "uses .__dict__; 'quoted' = x", "n": "3"}, "names": ["a", "b c"], "n": 7,
                      "path": "/tmp/with space"}}
    app = Application()
    app.parse_command_line(pipeline.arguments(settings))
    k = K(parent=app)
    assert (k.d, k.names, k.n, k.path) == (settings["K"]["d"], ["a", "b c"], 7, "/tmp/with space")


def test_item_keys_and_what_a_learner_is_shown():
    assert item_key("answers", "answers", "clip") == "answers[clip]"
    assert learner_label(item_key("value", "retrieve on ties")) == "retrieve on ties"
    assert learner_label("answers[clip]") == "your answer for 'clip'"


def test_class_feedback_is_the_learners_page_and_the_formgraders_views_are_untouched():
    from nbgrader.converters import GenerateFeedback
    from traitlets.config import PyFileConfigLoader

    from course.grading import selfpaced

    config = PyFileConfigLoader("nbgrader_config.py", path=str(Path(__file__).resolve().parents[1])).load_config()
    assert list(config.GenerateFeedback.preprocessors) == selfpaced.PREPROCESSORS  # make check's page, the same
    assert "ClearHiddenTests" in " ".join(selfpaced.PREPROCESSORS)
    assert "template_name" not in config.HTMLExporter  # the formgrader's own views keep their templates
    exporter = GenerateFeedback(config=config).exporter_class(config=config)
    assert isinstance(exporter, selfpaced.LearnerFeedbackExporter)
    assert (exporter.template_name, exporter.template_file) == ("learner_feedback", "learner.html.j2")
