"""What went wrong with a submission: the integrity flags, the report, and short failure messages.

Flags (one word each, in the report's ``flags`` column):

- ``notebook_unreadable``: a notebook is not JSON or not a valid notebook (the submission is not graded);
- ``notebook_missing``: a notebook of the assignment was not submitted (nbgrader scores it 0);
- ``test_cell_changed`` / ``test_cell_deleted``: a test cell differs from the released one or is gone
  (nbgrader grades with the original test cell anyway; the flag says someone tried);
- ``tampering``: student code reassigns what the tests rely on: attributes of modules (``numpy.testing``,
  ``torch.allclose``, ``builtins``...) or builtin / test helper names (``str = ...``, ``def isinstance``),
  or submitted files that would replace a module (``numpy.py``, ``course/``);
- ``cell_timeout``, ``kernel_died``, ``memory_cap``, ``output_truncated``: what happened while it ran.
"""

from __future__ import annotations

import ast
import importlib.util
import csv
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat
from nbconvert.preprocessors import Preprocessor
from traitlets import Bool

FLAGS: dict[str, str] = {
    "notebook_unreadable": "a notebook is not a readable notebook file",
    "notebook_missing": "a notebook of the assignment was not submitted",
    "test_cell_changed": "a test cell differs from the released version",
    "test_cell_deleted": "a test cell was deleted",
    "tampering": "code reassigns testing, comparison or builtin functions",
    "cell_timeout": "a cell ran longer than the time limit and was stopped",
    "kernel_died": "the kernel died (memory or CPU cap, or the code killed it)",
    "memory_cap": "a cell ran out of memory (the kernel's memory cap)",
    "output_truncated": "a cell printed more than the output limit",
}
TRUNCATED = "... Output truncated ..."
#: Modules whose attributes student code has no business reassigning (imports of them are followed).
_MODULES = {"builtins", "numpy", "torch", "math", "cmath", "operator", "unittest", "pytest", "nbgrader", "course"}
_ALLOWED = ("torch.backends.",)
#: Builtins the tests compare with, protected even where a test cell does not call them by name.
_COMPARISON = {"isinstance", "issubclass", "len", "abs", "all", "any", "round", "sorted", "set", "frozenset", "str",
               "float", "int", "bool", "type", "hasattr", "getattr", "AssertionError", "Exception", "__import__",
               "__builtins__", "eval", "exec", "compile", "globals", "vars", "setattr"}


def _grade_id(cell: Any) -> str | None:
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")


def _is_test(cell: Any) -> bool:
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return cell.get("cell_type") == "code" and bool(meta.get("grade")) and not meta.get("solution")


def _parse(source: str) -> ast.Module | None:
    """Python source of a cell with IPython magics and shell lines blanked; ``None`` if it does not parse."""
    lines = ["" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines()]
    try:
        return ast.parse("\n".join(lines))
    except (SyntaxError, ValueError):
        return None


def _root_name(node: ast.AST) -> str | None:
    while isinstance(node, (ast.Attribute, ast.Subscript)):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def _module_aliases(tree: ast.Module) -> set[str]:
    """Names that refer to a protected module (or something inside one) in this cell."""
    names = {"np", "__builtins__"} | _MODULES
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.asname or a.name.split(".")[0] for a in node.names if a.name.split(".")[0] in _MODULES}
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in _MODULES:
            names |= {a.asname or a.name for a in node.names}
    return names


def _namespace_key(target: ast.AST) -> str | None:
    """``'str'`` for ``globals()['str']`` / ``vars(builtins)['str']``, else ``None``."""
    if isinstance(target, ast.Subscript) and isinstance(target.value, ast.Call):
        func = target.value.func
        if isinstance(func, ast.Name) and func.id in {"globals", "vars"} and isinstance(target.slice, ast.Constant):
            return str(target.slice.value)
    return None


def called_names(cells: list[Any]) -> set[str]:
    """The plain names that the test cells call (``isinstance``, ``str``, ``self_check``...)."""
    names: set[str] = set()
    for cell in cells:
        tree = _parse(cell.source)
        for node in ast.walk(tree) if tree else []:
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                names.add(node.func.id)
    return names


def tampering(source: str, protected: set[str]) -> list[str]:
    """What a student cell reassigns that it should not (empty if nothing, or if it does not parse)."""
    tree = _parse(source)
    if tree is None:
        return []
    found: list[str] = []
    modules = _module_aliases(tree)
    for node in ast.walk(tree):
        targets: list[ast.AST] = []
        if isinstance(node, (ast.Assign, ast.Delete)):
            targets = list(node.targets)
        elif isinstance(node, (ast.AugAssign, ast.AnnAssign)):
            targets = [node.target]
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.name in protected:
            found.append(f"redefines {node.name}()")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in {"setattr", "delattr"}:
            if node.args and _root_name(node.args[0]) in modules:
                found.append(f"{node.func.id}() on {_root_name(node.args[0])}")
        for target in targets:
            for leaf in ast.walk(target):
                if isinstance(leaf, ast.Name) and isinstance(leaf.ctx, (ast.Store, ast.Del)) and leaf.id in protected:
                    found.append(f"reassigns {leaf.id}")
            text = ast.unparse(target)
            if (isinstance(target, (ast.Attribute, ast.Subscript)) and _root_name(target) in modules
                    and not text.startswith(_ALLOWED)) or _namespace_key(target) in protected:
                found.append(f"reassigns {text}")
    return sorted(set(found))


def protected_names(source_nb: Any) -> set[str]:
    """Names a student must not rebind: builtins and helpers the tests call, minus what the solutions define."""
    tests = [c for c in source_nb.cells if _is_test(c)]
    defined: set[str] = set()
    for cell in source_nb.cells:
        if cell.get("metadata", {}).get("nbgrader", {}).get("solution") and cell.cell_type == "code":
            tree = _parse(cell.source)
            for node in ast.walk(tree) if tree else []:
                if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                    defined.add(node.id)
                elif isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                    defined.add(node.name)
    return (called_names(tests) | _COMPARISON) - defined


@dataclass
class Inspection:
    """What reading a submission (before it runs) found."""

    flags: set[str] = field(default_factory=set)
    details: list[str] = field(default_factory=list)

    @property
    def gradable(self) -> bool:
        return "notebook_unreadable" not in self.flags


def shadowing(folder: Path) -> list[str]:
    """Submitted files that would replace a module the notebook imports (the kernel's folder is on sys.path)."""
    found = []
    for entry in sorted(folder.iterdir()):
        name = entry.stem if entry.suffix in (".py", ".pyc", ".so") else entry.name if entry.is_dir() else ""
        if name.isidentifier() and (name in sys.stdlib_module_names or importlib.util.find_spec(name)):
            found.append(f"submits {entry.name}, which would replace the module {name}")
    return found


def inspect_submission(folder: Path, released: dict[str, Any], source: dict[str, Any]) -> Inspection:
    """Compare a submitted folder with the released notebooks (``name -> notebook``)."""
    found = Inspection(details=shadowing(folder))
    found.flags |= {"tampering"} if found.details else set()
    for name, rel in sorted(released.items()):
        path = folder / f"{name}.ipynb"
        if not path.is_file():
            found.flags.add("notebook_missing")
            found.details.append(f"{name}.ipynb: not submitted")
            continue
        try:
            nb = nbformat.read(path, as_version=4)
        except Exception as exc:  # not JSON, not a notebook, bad encoding: all the same to the instructor
            found.flags.add("notebook_unreadable")
            found.details.append(f"{name}.ipynb: unreadable ({type(exc).__name__}: {str(exc)[:120]})")
            continue
        submitted = {_grade_id(c): c for c in nb.cells if _grade_id(c)}
        originals = {_grade_id(c): c.source.strip() for c in source[name].cells if _is_test(c)}
        for cell in filter(_is_test, rel.cells):
            gid = _grade_id(cell)
            if gid not in submitted:
                found.flags.add("test_cell_deleted")
                found.details.append(f"{name}: test cell {gid} deleted")
            elif submitted[gid].source.strip() not in {cell.source.strip(), originals.get(gid, "")}:
                found.flags.add("test_cell_changed")
                found.details.append(f"{name}: test cell {gid} changed")
        protected = protected_names(source[name])
        # a cell as the course provides it is not the student's code (e.g. a helper the tests also call)
        provided = {c.source.strip() for c in source[name].cells if c.cell_type == "code" and not _is_test(c)}
        for cell in nb.cells:
            if cell.get("cell_type") == "code" and not _is_test(cell) and cell.source.strip() not in provided:
                for what in tampering(cell.source, protected):
                    found.flags.add("tampering")
                    found.details.append(f"{name}: {_grade_id(cell) or 'a cell'} {what}")
    return found


def inspect_executed(nb: Any) -> set[str]:
    """Flags read from an autograded notebook's outputs."""
    flags: set[str] = set()
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error" and "Timeout" in str(out.get("ename", "")):
                flags.add("cell_timeout")
            if out.get("output_type") == "error" and "DeadKernel" in str(out.get("ename", "")):
                flags.add("kernel_died")
            if out.get("output_type") == "error" and out.get("ename") == "MemoryError":
                flags.add("memory_cap")
            if out.get("output_type") == "stream" and TRUNCATED in out.get("text", ""):
                flags.add("output_truncated")
    return flags


@dataclass
class Row:
    """One line of the integrity report."""

    student: str
    status: str  # "graded", "skipped" (already graded) or "NOT GRADED"
    score: float | None = None
    max_score: float | None = None
    flags: set[str] = field(default_factory=set)
    details: list[str] = field(default_factory=list)
    seconds: float = 0.0


def write_report(rows: list[Row], csv_path: Path) -> str:
    """Write the CSV and return the readable summary (also written next to it as ``.txt``)."""
    csv_path.parent.mkdir(parents=True, exist_ok=True)
    with csv_path.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["student", "status", "score", "max_score", "flags", "details", "seconds"])
        for r in rows:
            writer.writerow([r.student, r.status, "" if r.score is None else round(r.score, 3),
                             "" if r.max_score is None else r.max_score, ";".join(sorted(r.flags)),
                             " | ".join(r.details), round(r.seconds, 1)])
    lines = [f"{'student':<24} {'status':<11} {'score':>13}  flags"]
    for r in rows:
        score = "-" if r.score is None else f"{r.score:g} / {r.max_score:g}"
        lines.append(f"{r.student:<24} {r.status:<11} {score:>13}  {', '.join(sorted(r.flags)) or 'ok'}")
        lines += [f"{'':<24}   - {d}" for d in r.details]
    counts = {f: sum(f in r.flags for r in rows) for f in FLAGS}
    lines.append("")
    lines += [f"{n:>4} x {f}: {FLAGS[f]}" for f, n in counts.items() if n]
    not_graded = [r.student for r in rows if r.status == "NOT GRADED"]
    lines.append(f"{len(rows)} submissions, {len(not_graded)} not graded" +
                 (f" ({', '.join(not_graded)}): see details" if not_graded else ""))
    summary = "\n".join(lines)
    csv_path.with_suffix(".txt").write_text(summary + "\n")
    return summary


def short_message(ename: str, evalue: str) -> str:
    """One readable line for a failed test."""
    evalue = re.sub(r"\x1b\[[0-9;]*m", "", evalue).strip()
    if "Timeout" in ename:
        return "Stopped: this cell ran longer than the time limit."
    if "DeadKernel" in ename:
        return "The notebook stopped: the kernel died (it may have used too much memory)."
    if ename == "MemoryError":
        return "Stopped: your code used more memory than allowed."
    if ename == "AssertionError":
        return f"Test failed: {evalue}" if evalue else "Test failed: a check on your answer did not hold."
    if ename == "NameError":
        return f"Test failed: {evalue}. Did the cell that defines it run without errors?"
    return f"Test failed with {ename}: {evalue[:300]}"


class ShortFailureMessages(Preprocessor):
    """Feedback: a test cell's error becomes one readable line (its traceback would show hidden tests)."""

    enabled = Bool(True).tag(config=True)

    def preprocess_cell(self, cell: Any, resources: Any, index: int) -> tuple[Any, Any]:
        if _is_test(cell):
            for out in cell.get("outputs", []):
                if out.get("output_type") == "error":
                    out["traceback"] = [short_message(out.get("ename", ""), out.get("evalue", ""))]
        return cell, resources
