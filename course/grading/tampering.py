"""Reading a learner's code before it runs: what it reassigns, and whether it reaches into grading.

Two questions, both answered from the cells' text (the kernel is never asked):

- :func:`tampering`: does a cell rebind what the tests compare with (``str = ...``, ``np.testing.x = ...``,
  ``def isinstance``)? Flagged ``tampering``; scores are decided outside the kernel, so it gains nothing.
- :func:`reaches_into_grading`: could a cell change what the kernel *reports* to the grader (module
  dictionaries, ``sys.modules``, display publishers and hooks, IPython events and input transformers,
  custom exception handlers, trace and profile hooks, ``gc``, ``ctypes``, import hooks, code run from
  text)? A guard (``course.checks.require``) is decided inside the kernel, so a notebook that does any of
  this has its guarded cells held for the instructor's review instead of credited.

Reading code cannot see code that is built at run time from text; that is why every way of running
text as code (``exec``, ``eval``, ``compile``, ``__import__``, importing a file the notebook wrote,
``pickle``, magics that run files) counts as reaching into grading.
"""

from __future__ import annotations

import ast
import importlib.util
import sys
from pathlib import Path
from typing import Any

from course.protocol import is_solution_cell, is_test_cell

#: Modules whose attributes student code has no business reassigning (imports of them are followed).
_MODULES = {"builtins", "numpy", "torch", "math", "cmath", "operator", "unittest", "pytest", "nbgrader", "course"}
_ALLOWED = ("torch.backends.",)
#: Builtins the tests compare with, protected even where a test cell does not call them by name.
_COMPARISON = {"isinstance", "issubclass", "len", "abs", "all", "any", "round", "sorted", "set", "frozenset", "str",
               "float", "int", "bool", "type", "hasattr", "getattr", "AssertionError", "Exception", "__import__",
               "__builtins__", "eval", "exec", "compile", "globals", "vars", "setattr"}

#: Modules that reach the interpreter, the kernel or the display path, or run text or files as code.
REPORTING_MODULES = {
    "sys", "gc", "ctypes", "importlib", "inspect", "builtins", "types", "IPython", "ipykernel", "traitlets",
    "jupyter_client", "zmq", "comm", "ipywidgets", "pickle", "cPickle", "dill", "cloudpickle", "marshal", "shelve",
    "copyreg", "code", "codeop", "runpy", "site", "sitecustomize", "atexit", "threading", "_thread", "signal",
    "faulthandler", "trace", "tracemalloc", "pdb", "bdb", "cProfile", "profile", "sysconfig", "subprocess", "pty",
    "multiprocessing", "concurrent", "asyncio", "unittest", "weakref", "dis", "opcode", "zipimport", "pkgutil",
}
#: Submodules of a reporting module that only add outputs: a display from learner code can add payloads to a
#: cell but never remove the kernel's own (guards must all hold, observed values must match the reference).
DISPLAY_ONLY = {"IPython.display"}
#: Third-party packages a learner may import; anything else that is not in the standard library (a file
#: the notebook wrote, say) is code the grader cannot read.
THIRD_PARTY = {"numpy", "torch", "matplotlib", "scipy", "sklearn", "pandas", "course", "tqdm", "names", "wordfreq"}
#: Attributes that lead to a function's globals, a module's dictionary, frames or native code.
REPORTING_ATTRIBUTES = {
    "__dict__", "__globals__", "__code__", "__closure__", "__builtins__", "__subclasses__", "__bases__", "__base__",
    "__mro__", "__import__", "__loader__", "__spec__", "__defaults__", "__kwdefaults__", "__setattr__", "__delattr__",
    "__getattribute__", "__wrapped__", "__func__", "__self__", "__class__", "__reduce__", "__reduce_ex__",
    "__setstate__", "__traceback__", "__init_subclass__", "__set_name__", "tb_frame", "f_globals", "f_locals",
    "f_back", "f_builtins", "f_code", "gi_frame", "cr_frame", "ag_frame", "settrace", "setprofile",
    "display_pub", "display_formatter", "events", "input_transformers_post", "input_transformers_cleanup",
    "set_custom_exc", "ast_transformers", "run_cell", "run_line_magic", "run_cell_magic", "kernel", "shell",
    "ctypeslib", "cpp_extension", "load_inline", "load_library", "system", "popen", "fork", "forkpty",
    "execv", "execve", "execvp", "execvpe", "execl", "execle", "execlp", "execlpe", "spawnv", "spawnve",
    "spawnl", "spawnle", "posix_spawn", "posix_spawnp", "attrgetter", "methodcaller", "modules", "meta_path",
    "path_hooks", "publish_display_data",
}
#: Builtins that run text as code or reach namespaces by name.
REPORTING_CALLS = {"exec", "eval", "compile", "__import__", "globals", "vars", "locals", "setattr", "delattr",
                   "get_ipython", "breakpoint", "publish_display_data"}
#: Magics that only time or configure plotting; every other magic or shell line reaches outside the cell.
SAFE_MAGICS = {"matplotlib", "time", "timeit"}


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
    tests = [c for c in source_nb.cells if is_test_cell(c)]
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



def shadowing(folder: Path) -> list[str]:
    """Submitted files that would replace a module the notebook imports (the kernel's folder is on sys.path)."""
    found = []
    for entry in sorted(folder.iterdir()):
        name = entry.stem if entry.suffix in (".py", ".pyc", ".so") else entry.name if entry.is_dir() else ""
        if name.isidentifier() and (name in sys.stdlib_module_names or importlib.util.find_spec(name)):
            found.append(f"submits {entry.name}, which would replace the module {name}")
    return found




def _ipython_to_python(source: str) -> ast.Module | None:
    """The cell as IPython runs it (magics and shell lines become ``get_ipython()`` calls), parsed."""
    from IPython.core.inputtransformer2 import TransformerManager

    try:
        return ast.parse(TransformerManager().transform_cell(source))
    except (SyntaxError, ValueError):
        return None


def _magic_name(call: ast.Call) -> str | None:
    """``'time'`` for ``get_ipython().run_line_magic('time', ...)``; None for anything else."""
    func = call.func
    if (isinstance(func, ast.Attribute) and func.attr in ("run_line_magic", "run_cell_magic")
            and isinstance(func.value, ast.Call) and isinstance(func.value.func, ast.Name)
            and func.value.func.id == "get_ipython" and call.args and isinstance(call.args[0], ast.Constant)):
        return str(call.args[0].value)
    return None


def _allowed_module(name: str, extra: set[str]) -> bool:
    top = name.split(".")[0]
    if name in DISPLAY_ONLY:
        return True
    if top in REPORTING_MODULES:
        return False
    return top in THIRD_PARTY or top in extra or top in sys.stdlib_module_names


def reaches_into_grading(source: str, allowed_modules: set[str] = frozenset()) -> list[str]:
    """How a cell could change what the kernel reports (empty: it cannot, as far as its text shows).

    ``allowed_modules``: top-level modules the course's own notebook imports (always allowed).
    A cell that does not parse at all cannot run, so it reaches nothing.
    """
    tree = _ipython_to_python(source)
    if tree is None:
        return []
    found: set[str] = set()
    safe = set()  # the get_ipython().run_line_magic(...) plumbing of a safe magic (%time, %matplotlib)
    for n in ast.walk(tree):
        if isinstance(n, ast.Call) and _magic_name(n) in SAFE_MAGICS:
            safe |= {id(n), id(n.func), id(n.func.value)}  # type: ignore[attr-defined]
            for arg in n.args[1:]:  # the code that %time / %%timeit run is read like any other
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str) and arg.value.strip():
                    found |= set(reaches_into_grading(arg.value, allowed_modules))
    for node in ast.walk(tree):
        if id(node) in safe:
            continue
        if isinstance(node, ast.Call):
            magic = _magic_name(node)
            if magic is not None:
                found.add(f"runs the magic %{magic}")
            if isinstance(node.func, ast.Name) and node.func.id in REPORTING_CALLS:
                found.add(f"calls {node.func.id}()")
            if isinstance(node.func, ast.Name) and node.func.id in ("getattr", "hasattr"):
                name = node.args[1] if len(node.args) > 1 else None
                if not (isinstance(name, ast.Constant) and isinstance(name.value, str)
                        and name.value not in REPORTING_ATTRIBUTES and not name.value.startswith("_")):
                    found.add(f"calls {node.func.id}() with a computed or private name")
            for kw in node.keywords:
                if (kw.arg, getattr(kw.value, "value", None)) in (("weights_only", False), ("allow_pickle", True)):
                    found.add(f"loads pickled code ({kw.arg}={kw.value.value})")
        elif isinstance(node, ast.Import):
            found |= {f"imports {a.name}" for a in node.names if not _allowed_module(a.name, allowed_modules)}
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level or not _allowed_module(module, allowed_modules):
                found.add(f"imports from {'.' * node.level}{module}")
            elif module.split(".")[0] in ("course", "torch", "numpy"):
                found |= {f"imports {module}.{a.name}" for a in node.names if a.name.startswith("_")}
            found |= {f"imports {module}.{a.name}" for a in node.names
                      if a.name in REPORTING_CALLS or a.name in REPORTING_ATTRIBUTES or a.name == "*"}
        elif isinstance(node, ast.Attribute):
            if node.attr in REPORTING_ATTRIBUTES:
                found.add(f"uses .{node.attr}")
            elif node.attr.startswith("_") and not node.attr.startswith("__") and _root_name(node) in {"torch", "np", "numpy", "course", "checks"}:
                found.add(f"uses the private {ast.unparse(node)}")
        elif isinstance(node, ast.Name) and node.id in ("__builtins__", "__import__", "__loader__", "__spec__"):
            found.add(f"uses {node.id}")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            if "/proc/" in node.value or "vnd.course" in node.value:
                found.add(f"names {node.value[:40]!r}")
    return sorted(found)


def imported_modules(nb: Any) -> set[str]:
    """Top-level modules a notebook's own code imports (the course's notebook: allowed to learners too)."""
    names: set[str] = set()
    for cell in nb.cells:
        tree = _parse(cell.source) if cell.get("cell_type") == "code" else None
        for node in ast.walk(tree) if tree else []:
            if isinstance(node, ast.Import):
                names |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names.add(node.module.split(".")[0])
    return names - REPORTING_MODULES


def learner_cells(nb: Any, source_nb: Any) -> list[Any]:
    """The code cells that hold the learner's code: not test cells, not cells left as the course gives them."""
    provided = {c.source.strip() for c in source_nb.cells if c.cell_type == "code" and not is_test_cell(c)}
    return [c for c in nb.cells if c.get("cell_type") == "code" and not is_test_cell(c)
            and c.source.strip() not in provided]


__all__ = ["tampering", "protected_names", "called_names", "shadowing", "reaches_into_grading", "imported_modules",
           "learner_cells", "is_solution_cell"]
