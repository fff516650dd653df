"""Reading ``MODEL`` (``file.py:FUNC``, ``package.module:FUNC`` or ``.onnx``) and ``--weights``.

A Python model is built by calling the named function with no arguments; it must return a
``torch.nn.Module``. Weights are read without running any pickled code: ``.pt``/``.pth`` only
through ``torch.load(weights_only=True)``, ``.safetensors`` through safetensors; anything else is
refused. Every failure is one :class:`ConvtError` sentence naming the value and the rule.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import sys
from dataclasses import dataclass
from pathlib import Path

from ..errors import ConvtError
from ..limits import check_bytes
from .text import shown

WEIGHT_SUFFIXES = (".pt", ".pth", ".safetensors")


@dataclass(frozen=True)
class ModelSpec:
    text: str
    kind: str  # "file", "module" or "onnx"
    target: str  # the file path or the module name
    function: str | None


def one_line(exc: BaseException) -> str:
    """An exception's message on one line, control characters escaped (foreign text never reaches a terminal raw)."""
    try:
        text = " ".join(str(exc).split()) or type(exc).__name__
    except BaseException:  # noqa: BLE001 - a foreign __str__ may raise anything
        text = type(exc).__name__
    return shown(text[:400])


def foreign_failure(exc: BaseException) -> str:
    """What foreign code did, in words: ``called exit(5) (SystemExit)``, ``ran out of memory``, ``raised …``."""
    if isinstance(exc, SystemExit):
        return f"called exit({shown(exc.code) if exc.code is not None else 0}) (SystemExit)"
    if isinstance(exc, MemoryError):
        return "ran out of memory (MemoryError)"
    if isinstance(exc, KeyboardInterrupt):
        return "was interrupted (KeyboardInterrupt)"
    return f"failed: {one_line(exc)}"


def parse_model(text: str) -> ModelSpec:
    """``path/to/file.py:FUNC``, ``package.module:FUNC`` or ``model.onnx`` (checked, nothing imported)."""
    t = text.strip()
    if t.lower().endswith(".onnx"):
        if not Path(t).is_file():
            raise ConvtError(f"MODEL {text!r}: no such ONNX file", zh=f"MODEL {text!r}：没有这个 ONNX 文件")
        return ModelSpec(text, "onnx", t, None)
    target, sep, func = t.rpartition(":")
    if not sep and t.endswith(".py") and Path(t).is_file():
        found = builders_in(Path(t))
        if found:
            names = ", ".join(f"{t}:{n}" for n in found[:5])
            raise ConvtError(f"MODEL {text!r} names a file but not the function that builds the model; "
                             f"try {names}",
                             zh=f"MODEL {text!r} 只给了文件，没有给出构建模型的函数；可试 {names}")
        raise ConvtError(f"MODEL {text!r} names a file but not the function that builds the model, and the file "
                         "defines no function that takes no arguments; give path/to/file.py:FUNC",
                         zh=f"MODEL {text!r} 只给了文件，而文件中没有无参数的函数；请给 path/to/file.py:FUNC")
    if not sep or not target or not func:
        raise ConvtError(
            f"MODEL {text!r} must be path/to/file.py:FUNC, package.module:FUNC or a .onnx file",
            zh=f"MODEL {text!r} 必须是 path/to/file.py:FUNC、package.module:FUNC 或 .onnx 文件",
        )
    if not all(part.isidentifier() for part in func.split(".")):
        raise ConvtError(f"MODEL {text!r}: {func!r} is not a Python name",
                         zh=f"MODEL {text!r}：{func!r} 不是合法的 Python 名字")
    if target.endswith(".py"):
        if not Path(target).is_file():
            raise ConvtError(f"MODEL {text!r}: no such file {target}", zh=f"MODEL {text!r}：没有文件 {target}")
        return ModelSpec(text, "file", target, func)
    if not all(part.isidentifier() for part in target.split(".")):
        raise ConvtError(
            f"MODEL {text!r}: {target!r} is neither a .py file nor a module name like package.module",
            zh=f"MODEL {text!r}：{target!r} 既不是 .py 文件也不是 package.module 形式的模块名",
        )
    return ModelSpec(text, "module", target, func)


def builders_in(path: Path) -> list[str]:
    """Top-level functions of a Python file callable with no arguments, ``build*``/``*model*`` first — read
    with ``ast`` (the file is parsed, never run)."""
    import ast

    try:
        if path.stat().st_size > 4 * 1024 * 1024:
            return []
        tree = ast.parse(path.read_bytes())
    except (OSError, SyntaxError, ValueError, RecursionError, MemoryError):
        return []
    names = []
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and not node.name.startswith("_"):
            a = node.args
            required = len(a.posonlyargs) + len(a.args) - len(a.defaults) + sum(d is None for d in a.kw_defaults)
            if required == 0 and not isinstance(node, ast.AsyncFunctionDef):
                names.append(node.name)
    return sorted(names, key=lambda n: (not (n.startswith("build") or "model" in n.lower()), names.index(n)))


def _import(spec: ModelSpec):
    if spec.kind == "module":
        try:
            return importlib.import_module(spec.target)
        except ModuleNotFoundError as exc:
            raise ConvtError(f"MODEL {spec.text!r}: no module named {exc.name!r}",
                             zh=f"MODEL {spec.text!r}：找不到模块 {exc.name!r}") from None
        except BaseException as exc:  # noqa: BLE001 - the user's module failed to import: its own message
            raise ConvtError(f"MODEL {spec.text!r}: importing {spec.target} {foreign_failure(exc)}",
                             zh=f"MODEL {spec.text!r}：导入 {spec.target} 失败：{foreign_failure(exc)}") from None
    path = Path(spec.target).resolve()
    name = f"convt_user_model_{abs(hash(str(path)))}"
    loader_spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(loader_spec)  # type: ignore[arg-type]
    sys.path.insert(0, str(path.parent))  # the file's own sibling imports
    sys.modules[name] = module
    try:
        loader_spec.loader.exec_module(module)  # type: ignore[union-attr]
    except BaseException as exc:  # noqa: BLE001 - the user's file failed (or called exit): its own message
        sys.modules.pop(name, None)
        raise ConvtError(f"MODEL {spec.text!r}: running {spec.target} {foreign_failure(exc)}",
                         zh=f"MODEL {spec.text!r}：运行 {spec.target} 失败：{foreign_failure(exc)}") from None
    finally:
        if sys.path and sys.path[0] == str(path.parent):
            sys.path.pop(0)
    return module


def find_function(spec: ModelSpec):
    """The callable ``FUNC`` names, checked to need no arguments."""
    obj = _import(spec)
    for part in spec.function.split("."):  # type: ignore[union-attr]
        if not hasattr(obj, part):
            raise ConvtError(f"MODEL {spec.text!r}: {spec.target} has no {spec.function!r}",
                             zh=f"MODEL {spec.text!r}：{spec.target} 中没有 {spec.function!r}")
        obj = getattr(obj, part)
    if not callable(obj):
        raise ConvtError(f"MODEL {spec.text!r}: {spec.function} is not callable",
                         zh=f"MODEL {spec.text!r}：{spec.function} 不可调用")
    try:
        signature = inspect.signature(obj)
    except (TypeError, ValueError):
        return obj
    needed = [p.name for p in signature.parameters.values()
              if p.default is inspect.Parameter.empty and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    if needed:
        raise ConvtError(
            f"MODEL {spec.text!r}: {spec.function} needs arguments ({', '.join(needed)}); give a function "
            "that builds the model with no arguments",
            zh=f"MODEL {spec.text!r}：{spec.function} 需要参数（{', '.join(needed)}）；"
            "请给一个无需参数即可构建模型的函数",
        )
    return obj


def build_model(torch, spec: ModelSpec, device: str, fn=None):
    """Call ``FUNC()`` (``fn`` when already found) with ``device`` as torch's default device (``meta``: no
    memory, no values)."""
    fn = find_function(spec) if fn is None else fn
    try:
        with torch.device(device):
            model = fn()
    except ConvtError:
        raise
    except BaseException as exc:  # noqa: BLE001 - the builder's own error (or exit), in one line
        raise ConvtError(f"MODEL {spec.text!r}: the builder {spec.function}() {foreign_failure(exc)}",
                         zh=f"MODEL {spec.text!r}：构建函数 {spec.function}() 失败：{foreign_failure(exc)}") from None
    if not isinstance(model, torch.nn.Module):
        raise ConvtError(
            f"MODEL {spec.text!r}: {spec.function}() returned {type(model).__name__}, not a torch.nn.Module",
            zh=f"MODEL {spec.text!r}：{spec.function}() 返回的是 {type(model).__name__}，不是 torch.nn.Module",
        )
    return model


def check_weights_path(path_text: str) -> Path:
    """The ``--weights`` file: an existing .pt/.pth/.safetensors file (checked before anything is built)."""
    path = Path(path_text)
    suffix = path.suffix.lower()
    if suffix not in WEIGHT_SUFFIXES:
        raise ConvtError(
            f"--weights {path_text!r}: {suffix or 'no suffix'} is not read; give a .pt/.pth state dict "
            "(read with torch.load(weights_only=True)) or a .safetensors file",
            zh=f"--weights {path_text!r}：不读取 {suffix or '无后缀'} 文件；请给 .pt/.pth 状态字典或 .safetensors 文件",
        )
    if not path.is_file():
        raise ConvtError(f"--weights {path_text!r}: no such file", zh=f"--weights {path_text!r}：没有这个文件")
    return path


def _pt_storage_bytes(path: Path, path_text: str) -> int:
    """Bytes a ``torch.save`` zip would unpack to, from its entries and the storages its pickle declares.

    Read without unpickling: the zip directory gives each entry's unpacked size, and ``pickletools``
    walks ``data.pkl``'s opcodes (never running them) to the persistent ids ``('storage', type, key,
    location, numel)`` that name every storage. A file that is not a zip (torch's legacy format) is
    bounded by its own size.
    """
    import pickletools
    import zipfile

    size = path.stat().st_size
    if not zipfile.is_zipfile(path):
        return size
    try:
        with zipfile.ZipFile(path) as z:
            infos = z.infolist()
            unpacked = sum(i.file_size for i in infos)
            check_bytes(unpacked, f"--weights {path_text!r} (its zip entries unpacked)")
            pkl = next((i for i in infos if i.filename.endswith("/data.pkl") or i.filename == "data.pkl"), None)
            if pkl is None:
                return unpacked
            with z.open(pkl) as f:
                blob = f.read(pkl.file_size + 1)
    except ConvtError:
        raise
    except Exception as exc:  # noqa: BLE001 - a damaged zip: its own message
        raise ConvtError(f"--weights {path_text!r} is not a readable torch.save zip: {one_line(exc)}",
                         zh=f"--weights {path_text!r} 不是可读的 torch.save zip 文件：{one_line(exc)}") from None
    declared = 0
    recent: list = []
    try:
        for op, arg, _pos in pickletools.genops(blob):
            if op.name in ("BINPERSID", "PERSID") and len(recent) >= 5 and recent[-5] == "storage":
                numel, type_name = recent[-1], str(recent[-4])
                if isinstance(numel, int) and numel >= 0:
                    declared += numel * _ITEM_BYTES.get(type_name.rsplit(" ", 1)[-1].rsplit(".", 1)[-1], 8)
            if arg is not None:
                recent = (recent + [arg])[-6:]
    except Exception as exc:  # noqa: BLE001 - a damaged pickle stream (only parsed, never run)
        raise ConvtError(f"--weights {path_text!r}: its data.pkl is not a readable pickle stream: {one_line(exc)}",
                         zh=f"--weights {path_text!r}：其中的 data.pkl 不是可读的 pickle 流：{one_line(exc)}") from None
    return max(unpacked, declared)


# Bytes per element of torch's storage types as data.pkl names them (UntypedStorage counts bytes).
_ITEM_BYTES = {"UntypedStorage": 1, "ByteStorage": 1, "CharStorage": 1, "BoolStorage": 1, "HalfStorage": 2,
               "BFloat16Storage": 2, "ShortStorage": 2, "IntStorage": 4, "FloatStorage": 4, "LongStorage": 8,
               "DoubleStorage": 8, "ComplexFloatStorage": 8, "ComplexDoubleStorage": 16}


def check_weights_size(path_text: str) -> None:
    """The weights file's unpacked size against the memory budget, before anything reads its tensors."""
    path = check_weights_path(path_text)
    if path.suffix.lower() == ".safetensors":
        check_bytes(path.stat().st_size, f"--weights {path_text!r}")  # safetensors stores its tensors raw
    else:
        check_bytes(_pt_storage_bytes(path, path_text), f"--weights {path_text!r} (the storages it declares)")


def safetensors_module(part: str = ""):
    """``safetensors`` (or ``safetensors.torch``), or the error naming the package to install."""
    import importlib

    try:
        return importlib.import_module("safetensors" + (f".{part}" if part else ""))
    except ImportError:
        raise ConvtError("--weights: reading .safetensors needs the safetensors package; "
                         "install it with: pip install 'convt[frameworks]'",
                         zh="--weights：读取 .safetensors 需要 safetensors；"
                         "请安装：pip install 'convt[frameworks]'") from None


def torch_load_safely(torch, path: Path, path_text: str, *, mmap: bool = False):
    """``torch.load(weights_only=True)``: plain tensors and containers only, never pickled code; a refusal
    is one error (torch's warning beside its own refusal is not shown)."""
    import warnings

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch warns beside its own refusal; the refusal is the answer
            return torch.load(str(path), map_location="cpu", weights_only=True, mmap=mmap)
    except Exception as exc:  # noqa: BLE001 - weights_only refused it, or the file is damaged
        raise ConvtError(
            f"--weights {path_text!r} was refused by torch.load(weights_only=True), which reads only plain "
            f"tensors and containers and never runs pickled code: {one_line(exc)}",
            zh=f"--weights {path_text!r} 被 torch.load(weights_only=True) 拒绝"
            f"（只读取张量和容器，从不执行 pickle 代码）：{one_line(exc)}",
        ) from None


def load_weights(torch, path_text: str) -> tuple[dict, str]:
    """A state dict (name → tensor on the CPU) and its format, read without executing pickled code."""
    path = check_weights_path(path_text)
    check_weights_size(path_text)
    if path.suffix.lower() == ".safetensors":
        load_file = safetensors_module("torch").load_file
        try:
            data, fmt = dict(load_file(str(path), device="cpu")), "safetensors"
        except Exception as exc:  # noqa: BLE001 - a damaged file: its own message
            raise ConvtError(f"--weights {path_text!r} is not a readable safetensors file: {one_line(exc)}",
                             zh=f"--weights {path_text!r} 不是可读的 safetensors 文件：{one_line(exc)}") from None
    else:
        data = torch_load_safely(torch, path, path_text)
        for key in ("state_dict", "model"):  # common checkpoint wrappers
            if isinstance(data, dict) and isinstance(data.get(key), dict):
                data = data[key]
        fmt = "pt"
    if not isinstance(data, dict) or not data or not all(
            isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in data.items()):
        what = "no tensors" if isinstance(data, dict) and not data else f"a {type(data).__name__}"
        raise ConvtError(
            f"--weights {path_text!r} holds {what}, not a state dict of names to tensors",
            zh=f"--weights {path_text!r} 里是 {what}，不是名字到张量的状态字典",
        )
    for key, value in data.items():
        why = _unreadable_tensor(torch, value)
        if why:
            raise ConvtError(f"--weights {path_text!r}: {shown(key)} is {why}; a state dict of dense real tensors "
                             "with values is needed",
                             zh=f"--weights {path_text!r}：{shown(key)} 是{why}；需要有数值的稠密实数张量")
    return data, fmt


def _unreadable_tensor(torch, value) -> str:
    if value.is_meta:
        return "a meta tensor (a shape without values)"
    if value.layout != torch.strided:
        return f"a {str(value.layout).replace('torch.', '')} tensor (not dense)"
    if value.is_quantized:
        return "a quantized tensor"
    if value.is_complex():
        return f"a complex tensor ({value.dtype})"
    if value.device.type != "cpu":
        return f"a tensor on {value.device}"
    return ""


def match_weights(model, state: dict, path_text: str) -> tuple[list[str], list[str]]:
    """Missing and unexpected keys; a shape that differs from the model's is an error."""
    own = model.state_dict()
    for key, value in state.items():
        if key in own and tuple(own[key].shape) != tuple(value.shape):
            raise ConvtError(
                f"--weights {path_text!r}: {shown(key)} has shape {tuple(value.shape)}, the model expects "
                f"{tuple(own[key].shape)}",
                zh=f"--weights {path_text!r}：{shown(key)} 的形状是 {tuple(value.shape)}，"
                f"模型需要 {tuple(own[key].shape)}",
            )
    missing = [k for k in own if k not in state]
    unexpected = [k for k in state if k not in own]
    if not set(state) & set(own):
        raise ConvtError(
            f"--weights {path_text!r}: none of its {len(state)} keys is in the model "
            f"(first: {shown(repr(next(iter(state))))}; "
            f"the model's first: {next(iter(own), '')!r})",
            zh=f"--weights {path_text!r}：{len(state)} 个键没有一个属于该模型",
        )
    return missing, unexpected
