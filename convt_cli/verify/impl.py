"""Loading a checked function — ``MODULE:FUNC`` or ``path/file.py:FUNC`` — and the one-line command that
re-runs a case. :func:`load_impl` runs the target's import-time code, so convt calls it only inside the
worker process (:mod:`.worker`), never in the process that computes the reference.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import os
import shlex
import sys
import zlib
from collections.abc import Callable
from pathlib import Path

from ..limits import ENV_VAR
from .cases import CaseSpec
from .checks import describe_exception


class ImplLoadError(Exception):
    """``--impl`` names something that cannot be loaded (a usage error: exit 2)."""


CONTRACT = "FUNC(x, weight, bias, *, stride, padding, output_padding, dilation, groups) -> array-like"


def load_impl(target: str, check_contract: bool = True) -> tuple[Callable[..., object], str]:
    """``MODULE:FUNC`` or ``path/to/file.py:FUNC`` (FUNC may be dotted) → (callable, display name).

    ``check_contract=False`` for a function in another framework's convention (``--convention``), which is
    called with that framework's own arguments instead of :data:`CONTRACT`."""
    text = target.strip()
    where, sep, name = text.rpartition(":")
    if not sep or not where or not name:
        raise ImplLoadError(f"{target!r} must be MODULE:FUNC or path/to/file.py:FUNC")
    if where.endswith(".py") or "/" in where or os.sep in where:
        module = _load_file(where)
    else:
        module = _load_module(where)
    obj: object = module
    for part in name.split("."):
        if not part.isidentifier() or not hasattr(obj, part):
            raise ImplLoadError(f"{where} has no attribute {name!r}")
        obj = getattr(obj, part)
    if not callable(obj):
        raise ImplLoadError(f"{where}:{name} is a {type(obj).__name__}, not a function")
    if check_contract:
        _check_signature(obj, f"{where}:{name}")
    return obj, f"{where}:{name}"


def _load_file(path_text: str) -> object:
    path = Path(path_text).expanduser()
    if not path.exists():
        raise ImplLoadError(f"file {path_text!r} does not exist")
    if not path.is_file():
        raise ImplLoadError(f"{path_text!r} is not a file")
    if path.suffix != ".py":
        raise ImplLoadError(f"file {path_text!r} is not a Python file (.py)")
    resolved = path.resolve()
    mod_name = f"convt_verify_impl_{zlib.crc32(str(resolved).encode()):08x}"
    spec = importlib.util.spec_from_file_location(mod_name, resolved)
    if spec is None or spec.loader is None:  # pragma: no cover - .py files always get a loader
        raise ImplLoadError(f"file {path_text!r} cannot be loaded as a Python module")
    module = importlib.util.module_from_spec(spec)
    folder = str(resolved.parent)
    if folder not in sys.path:
        sys.path.insert(0, folder)  # so the file can import its neighbours
    sys.modules[mod_name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException as exc:  # noqa: BLE001 - import-time code may raise anything
        sys.modules.pop(mod_name, None)
        raise ImplLoadError(f"loading {path_text!r} failed: {describe_exception(exc)[0]}") from None
    return module


def _load_module(name: str) -> object:
    if not all(part.isidentifier() for part in name.split(".")):
        raise ImplLoadError(f"{name!r} is not a module name (use MODULE:FUNC or path/to/file.py:FUNC)")
    cwd = os.getcwd()
    if cwd not in sys.path and "" not in sys.path:
        sys.path.insert(0, cwd)  # like `python -m`: modules in the current directory can be named
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name and (name == exc.name or name.startswith(exc.name + ".")):
            raise ImplLoadError(f"no module named {exc.name!r} (is it on PYTHONPATH or in this directory?)") from None
        raise ImplLoadError(f"importing {name!r} failed: {describe_exception(exc)[0]}") from None
    except BaseException as exc:  # noqa: BLE001 - import-time code may raise anything
        raise ImplLoadError(f"importing {name!r} failed: {describe_exception(exc)[0]}") from None


def _check_signature(func: object, display: str) -> None:
    try:
        sig = inspect.signature(func)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return  # builtins without a signature: try it
    try:
        sig.bind(None, None, None, stride=(1,), padding=(0,), output_padding=(0,), dilation=(1,), groups=1)
    except TypeError as exc:
        raise ImplLoadError(f"{display} cannot be called as {CONTRACT}: {exc}") from None


def reproduce_command(spec: CaseSpec, impl: str | None = None, dtype: str = "float64",
                      convention: str | None = None) -> str:
    """The one-line command that re-runs ``spec`` alone, with the same subject, convention and dtype."""
    budget = os.environ.get(ENV_VAR)  # not the default budget: the reproducer names it
    parts = ([f"{ENV_VAR}={shlex.quote(budget.strip())}"] if budget and budget.strip() else []) + [
        "convt", "verify", "--case", f'"{spec.format()}"']
    if impl:
        parts += ["--impl", shlex.quote(impl)]
    if convention:
        parts += ["--convention", convention]
    if dtype != "float64":
        parts += ["--dtype", dtype]
    return " ".join(parts)
