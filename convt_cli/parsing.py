"""Text and files → arrays, sizes and per-dim parameters, with one clear error per mistake (pure).

Every parser returns a value or raises :class:`ConvtError`; no other exception escapes.
"""

from __future__ import annotations

import errno
import json
import math
import os
import re
from pathlib import Path

import numpy as np

from .errors import ConvtError
from .limits import check_bytes, human_bytes, max_bytes

# ASCII only: Python's int()/float() also accept other scripts' digits and underscores.
_INT_RE = re.compile(r"[+-]?[0-9]+", re.ASCII)
_FLOAT_RE = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?", re.ASCII)
_EXACT_INT_LIMIT = 2**53
MATRIX_FILE_SUFFIXES = (".npy", ".json", ".csv", ".txt")
# Parsing text costs more memory than the text: its lines, the tokens of a row, the array. Measured
# peak (tracemalloc): 11 bytes per byte of text for a CSV of one-digit integers (the densest text, 2
# bytes a value), 4.7 for six-decimal floats; JSON about as much. Checked before any text is read.
TEXT_PARSE_BYTES_PER_BYTE = 16


_ZH_WORDS = (("input", "输入"), ("kernel", "卷积核"), ("matrix", "矩阵"), ("from stdin", "（标准输入）"),
             ("size", "尺寸"), (": value", " 的值"), (" row ", " 第 "))


def _zh(what: str) -> str:
    """The common English labels callers pass as ``what``, in Chinese (others stay as given)."""
    for en, zh in _ZH_WORDS:
        what = what.replace(en, zh)
    return re.sub(r"第 (\d+) 的值", r"第 \1 行的值", what)


def _short(text: str, limit: int = 40) -> str:
    return repr(text if len(text) <= limit else text[:limit] + "…")


def parse_number(token: str, what: str = "value") -> int | float:
    """One finite number, ``"3"`` → 3, ``"2.5e-1"`` → 0.25; NaN/inf and non-numbers are refused."""
    tok = token.strip()
    if _INT_RE.fullmatch(tok):
        value = int(tok)
        if abs(value) > _EXACT_INT_LIMIT:
            raise ConvtError(
            f"{what} {_short(tok)} is too large: integers must lie within ±2**53",
            zh=f"{_zh(what)} {_short(tok)} 太大：整数必须在 ±2**53 以内",
        )
        return value
    if _FLOAT_RE.fullmatch(tok):
        value = float(tok)
        if not math.isfinite(value):
            raise ConvtError(
            f"{what} {_short(tok)} is too large to be a finite number",
            zh=f"{_zh(what)} {_short(tok)} 太大，不是有限数",
        )
        return value
    if tok.lower().lstrip("+-") in ("nan", "inf", "infinity"):
        raise ConvtError(
            f"{what} {_short(tok)} is not a finite number: NaN and infinity are not allowed",
            zh=f"{_zh(what)} {_short(tok)} 不是有限数：不允许 NaN 和无穷大",
        )
    raise ConvtError(
            f"{what} {_short(tok)} is not a number",
            zh=f"{_zh(what)} {_short(tok)} 不是数字",
        )


# A row of plain ASCII numbers is converted by int()/float() directly (about 0.3 µs a value); anything
# else, or any value those refuse or that breaks a rule, goes value by value through parse_number for
# its message. Within these characters int() and float() accept exactly what _INT_RE/_FLOAT_RE do.
_FAST_ROW_RE = re.compile(r"[0-9+\-.eE, \t]*", re.ASCII)


def _row_values(line: str, tokens: list[str], what: str) -> np.ndarray:
    if _FAST_ROW_RE.fullmatch(line):
        try:
            if "." not in line and "e" not in line and "E" not in line:
                ints = np.fromiter(map(int, tokens), dtype=np.int64, count=len(tokens))
                if ints.max() <= _EXACT_INT_LIMIT and ints.min() >= -_EXACT_INT_LIMIT:
                    return ints
            else:
                floats = np.fromiter(map(float, tokens), dtype=np.float64, count=len(tokens))
                if np.abs(floats).max() < _EXACT_INT_LIMIT:  # finite; any integer token in it is exact
                    return floats
        except (ValueError, OverflowError):
            pass
    values = [parse_number(t, what) for t in tokens]
    return np.array(values, dtype=np.int64 if all(isinstance(v, int) for v in values) else np.float64)


def parse_matrix_text(text: str, what: str = "matrix") -> np.ndarray:
    """Inline rows separated by ``;`` or newlines, values by ``,`` or spaces; or JSON nested lists.

    One row gives a 1-d array; several rows a 2-d one. Integers stay int64.
    """
    check_text_size(len(text), what)
    stripped = text.strip()
    if not stripped:
        raise ConvtError(
            f"{what} is empty: give at least one number, e.g. \"1,2;3,4\"",
            zh=f"{_zh(what)}为空：至少给出一个数，例如 \"1,2;3,4\"",
        )
    if stripped.startswith("["):
        return parse_json_matrix(stripped, what)
    lines = [ln.strip() for ln in re.split(r"[;\n\r]", stripped)]
    lines = [ln for ln in lines if ln]
    rows: list[np.ndarray] = []
    for r, line in enumerate(lines):
        fields = re.split(r"\s*,\s*", line)
        if len(fields) > 1 and "" in fields:
            raise ConvtError(
                f"{what} row {r + 1} {_short(line)} has an empty value between commas",
                zh=f"{_zh(what)}第 {r + 1} 行 {_short(line)} 在逗号之间缺少值",
            )
        tokens = [t for f in fields for t in f.split()]
        if not tokens:
            raise ConvtError(
            f"{what} row {r + 1} is empty",
            zh=f"{_zh(what)}第 {r + 1} 行为空",
        )
        rows.append(_row_values(line, tokens, f"{what} row {r + 1}: value"))
    if not rows:
        raise ConvtError(
            f"{what} is empty: give at least one number, e.g. \"1,2;3,4\"",
            zh=f"{_zh(what)}为空：至少给出一个数，例如 \"1,2;3,4\"",
        )
    widths = {len(row) for row in rows}
    if len(widths) > 1:
        lengths = ", ".join(str(len(row)) for row in rows)
        raise ConvtError(
            f"{what} is ragged: rows have {lengths} values; every row needs the same count",
            zh=f"{_zh(what)}参差不齐：各行分别有 {lengths} 个值；每行的值个数必须相同",
        )
    check_bytes(len(rows) * len(rows[0]) * 8, what)
    arr = np.stack(rows)  # int64 when every row is, else float64 (integers within ±2**53 stay exact)
    return arr[0] if len(rows) == 1 else arr


def check_text_size(nbytes: int, what: str) -> None:
    """Refuse, before reading or parsing it, text whose parse would pass the memory budget."""
    check_bytes(nbytes * TEXT_PARSE_BYTES_PER_BYTE,
                f"parsing {what} ({human_bytes(nbytes)} of text, about {TEXT_PARSE_BYTES_PER_BYTE} bytes per byte)",
                hint="save the matrix as .npy (read without parsing text) or raise CONVT_MAX_BYTES",
                hint_zh="请把矩阵存为 .npy（读取时无需解析文本），或调高 CONVT_MAX_BYTES")


def parse_json_matrix(text: str, what: str = "matrix") -> np.ndarray:
    """JSON nested lists of numbers (1 to 5 levels), rectangular."""
    check_text_size(len(text), what)

    def bad_constant(name: str) -> None:
        raise ConvtError(
            f"{what} contains {name}: NaN and infinity are not allowed",
            zh=f"{_zh(what)}含有 {name}：不允许 NaN 和无穷大",
        )

    try:
        data = json.loads(text, parse_constant=bad_constant)
    except ConvtError:
        raise
    except (ValueError, RecursionError) as exc:
        raise ConvtError(
            f"{what} is not valid JSON: {exc}",
            zh=f"{_zh(what)}不是有效的 JSON：{exc}",
        ) from None

    def shape_of(node: object, depth: int) -> tuple[int, ...]:
        if depth > 5:
            raise ConvtError(
            f"{what} is nested more than 5 levels deep",
            zh=f"{_zh(what)}嵌套超过 5 层",
        )
        if isinstance(node, list):
            if not node:
                raise ConvtError(
            f"{what} contains an empty list",
            zh=f"{_zh(what)}含有空列表",
        )
            shapes = {shape_of(item, depth + 1) for item in node}
            if len(shapes) != 1:
                raise ConvtError(
            f"{what} is ragged: nested lists of different lengths",
            zh=f"{_zh(what)}参差不齐：嵌套列表长度不同",
        )
            return (len(node),) + shapes.pop()
        if isinstance(node, bool) or not isinstance(node, (int, float)):
            raise ConvtError(
            f"{what} must be a JSON list of numbers; found {json.dumps(node)[:40]}",
            zh=f"{_zh(what)}必须是数字组成的 JSON 列表；发现 {json.dumps(node)[:40]}",
        )
        if isinstance(node, float) and not math.isfinite(node):
            raise ConvtError(
            f"{what} contains a number too large to be finite",
            zh=f"{_zh(what)}含有过大的数（不是有限数）",
        )
        if isinstance(node, int) and abs(node) > _EXACT_INT_LIMIT:
            raise ConvtError(
            f"{what} contains the integer {node}, beyond ±2**53",
            zh=f"{_zh(what)}含有整数 {node}，超出 ±2**53",
        )
        return ()

    if not isinstance(data, list):
        raise ConvtError(
            f"{what} must be a JSON list of numbers, not {type(data).__name__}",
            zh=f"{_zh(what)}必须是数字组成的 JSON 列表，而不是 {type(data).__name__}",
        )
    shape = shape_of(data, 1)
    check_bytes(math.prod(shape) * 8, what)
    flat_is_int = _all_ints(data)
    return np.array(data, dtype=np.int64 if flat_is_int else np.float64)


def _all_ints(node: object) -> bool:
    if isinstance(node, list):
        return all(_all_ints(item) for item in node)
    return isinstance(node, int)


def looks_like_path(text: str) -> bool:
    t = text.strip()
    return "\n" not in t and (t.lower().endswith(MATRIX_FILE_SUFFIXES) or os.sep in t or os.path.exists(t))


def load_matrix_file(path: str | Path, what: str = "matrix") -> np.ndarray:
    """A ``.npy``, ``.json``, ``.csv`` or ``.txt`` file → array."""
    p = Path(path)
    try:
        p.stat()
    except OSError as exc:
        # Path.exists() raises for a name longer than the file system allows (ENAMETOOLONG): every
        # failure to look the name up is a plain sentence, the name shortened to stay on one line.
        shown = str(p) if len(str(p)) <= 80 else str(p)[:77] + "…"
        if exc.errno in (errno.ENOENT, errno.ENOTDIR):
            raise ConvtError(f"{what} file {shown!r} does not exist",
                             zh=f"{_zh(what)}文件 {shown!r} 不存在") from None
        raise ConvtError(f"{what} file {shown!r} cannot be read: {exc.strerror or exc}",
                         zh=f"无法读取{_zh(what)}文件 {shown!r}：{exc.strerror or exc}") from None
    if p.is_dir():
        raise ConvtError(
            f"{what} file {str(p)!r} is a directory, not a file",
            zh=f"{_zh(what)}文件 {str(p)!r} 是目录，不是文件",
        )
    suffix = p.suffix.lower()
    if suffix not in MATRIX_FILE_SUFFIXES:
        raise ConvtError(
            f"{what} file {str(p)!r} has an unsupported extension {suffix or '(none)'}; "
            "use .npy, .json, .csv or .txt",
            zh=f"{_zh(what)}文件 {str(p)!r} 的扩展名 {suffix or '（无）'} 不受支持；请用 .npy、.json、.csv 或 .txt",
        )
    try:
        size = p.stat().st_size
    except OSError as exc:
        raise ConvtError(
            f"{what} file {str(p)!r} cannot be read: {exc.strerror}",
            zh=f"无法读取{_zh(what)}文件 {str(p)!r}：{exc.strerror}",
        ) from None
    budget = max_bytes()
    if size > budget:
        raise ConvtError(
            f"{what} file {str(p)!r} is {human_bytes(size)}, larger than the memory budget "
            f"of {human_bytes(budget)}",
            zh=f"{_zh(what)}文件 {str(p)!r} 有 {human_bytes(size)}，超过内存预算 {human_bytes(budget)}",
        )
    if size == 0:
        raise ConvtError(
            f"{what} file {str(p)!r} is empty",
            zh=f"{_zh(what)}文件 {str(p)!r} 为空",
        )
    if suffix == ".npy":
        return _load_npy(p, what)
    check_text_size(size, f"{what} file {p.name}")
    try:
        text = p.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ConvtError(
            f"{what} file {str(p)!r} is not UTF-8 text",
            zh=f"{_zh(what)}文件 {str(p)!r} 不是 UTF-8 文本",
        ) from None
    except OSError as exc:
        raise ConvtError(
            f"{what} file {str(p)!r} cannot be read: {exc.strerror}",
            zh=f"无法读取{_zh(what)}文件 {str(p)!r}：{exc.strerror}",
        ) from None
    if suffix == ".json":
        return parse_json_matrix(text, f"{what} file {p.name}")
    return parse_matrix_text(text, f"{what} file {p.name}")


def _load_npy(p: Path, what: str) -> np.ndarray:
    try:
        with open(p, "rb") as fh:
            version = np.lib.format.read_magic(fh)
            if version == (1, 0):
                shape, _, dtype = np.lib.format.read_array_header_1_0(fh)
            else:
                shape, _, dtype = np.lib.format.read_array_header_2_0(fh)
    except (ValueError, OSError, EOFError, SyntaxError, TypeError) as exc:
        raise ConvtError(
            f"{what} file {str(p)!r} is not a valid .npy file: {exc}",
            zh=f"{_zh(what)}文件 {str(p)!r} 不是有效的 .npy 文件：{exc}",
        ) from None
    if dtype.kind == "f" and dtype.itemsize > 8:
        raise ConvtError(
            f"{what} file {str(p)!r} holds {dtype.name} (extended precision); convt and PyTorch compute in at "
            "most float64: save it as float64 (e.g. a.astype(numpy.float64))",
            zh=f"{_zh(what)}文件 {str(p)!r} 的数据类型是 {dtype.name}（扩展精度）；"
               "convt 与 PyTorch 最多用 float64 计算：请存为 float64（如 a.astype(numpy.float64)）",
        )
    if dtype.kind not in "biuf":
        raise ConvtError(
            f"{what} file {str(p)!r} holds dtype {dtype}; a real numeric array is required",
            zh=f"{_zh(what)}文件 {str(p)!r} 的数据类型是 {dtype}；需要实数数组",
        )
    check_bytes(math.prod(shape) * dtype.itemsize, f"{what} file {p.name}")
    try:
        arr = np.load(p, allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise ConvtError(
            f"{what} file {str(p)!r} is not a valid .npy file: {exc}",
            zh=f"{_zh(what)}文件 {str(p)!r} 不是有效的 .npy 文件：{exc}",
        ) from None
    if arr.size == 0:
        raise ConvtError(
            f"{what} file {str(p)!r} holds an empty array of shape {list(arr.shape)}",
            zh=f"{_zh(what)}文件 {str(p)!r} 是形状为 {list(arr.shape)} 的空数组",
        )
    if arr.dtype.kind == "f" and not np.isfinite(arr).all():
        raise ConvtError(
            f"{what} file {str(p)!r} contains NaN or infinity",
            zh=f"{_zh(what)}文件 {str(p)!r} 含有 NaN 或无穷大",
        )
    if arr.dtype.kind == "b":
        arr = arr.astype(np.int64)
    if not arr.dtype.isnative:  # big-endian (or little-endian on a big-endian machine): same values, native order
        arr = arr.astype(arr.dtype.newbyteorder("="))
    return arr


def _read_stdin(what: str) -> str:
    """Standard input, read with a bound: no more than the budget allows to parse (plus one byte, to
    tell that there was more)."""
    import sys

    limit = max(1, max_bytes() // TEXT_PARSE_BYTES_PER_BYTE)
    stream = getattr(sys.stdin, "buffer", None)
    try:
        data = stream.read(limit + 1) if stream is not None else sys.stdin.read(limit + 1)
    except OSError as exc:
        raise ConvtError(f"{what} from stdin cannot be read: {exc.strerror or exc}",
                         zh=f"无法从标准输入读取{_zh(what)}：{exc.strerror or exc}") from None
    if len(data) > limit:
        check_text_size(len(data), f"{what} from stdin (more than {human_bytes(limit)})")
    if isinstance(data, bytes):
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            raise ConvtError(f"{what} from stdin is not UTF-8 text",
                             zh=f"标准输入中的{_zh(what)}不是 UTF-8 文本") from None
    return data


def read_matrix(source: str, what: str = "matrix", stdin_text: str | None = None) -> np.ndarray:
    """``-`` (stdin), a file path, JSON, or inline text → array."""
    if source.strip() == "-":
        if stdin_text is None:
            stdin_text = _read_stdin(what)
        return parse_matrix_text(stdin_text, f"{what} from stdin")
    if looks_like_path(source):
        return load_matrix_file(source.strip(), what)
    return parse_matrix_text(source, what)


def parse_size_list(text: str, what: str = "size", min_value: int = 1) -> tuple[int, ...]:
    """``"3x3"``, ``"1,1280,64,64"``, ``"(1, 1280, 64, 64)"``, ``"1×2"`` → tuple of ints ≥ min_value."""
    t = text.strip()
    if t.startswith("(") and t.endswith(")") or t.startswith("[") and t.endswith("]"):
        t = t[1:-1]
    parts = [p.strip() for p in re.split(r"[x×X,*]", t)]
    if t == "" or any(p == "" for p in parts):
        raise ConvtError(
            f"{what} {_short(text)} must be sizes separated by x or commas, e.g. 3x3",
            zh=f"{_zh(what)} {_short(text)} 必须是用 x 或逗号分隔的尺寸，例如 3x3",
        )
    values = []
    for part in parts:
        if not _INT_RE.fullmatch(part):
            raise ConvtError(
            f"{what} {_short(text)}: {_short(part)} is not a whole number",
            zh=f"{_zh(what)} {_short(text)}：{_short(part)} 不是整数",
        )
        value = int(part)
        if value < min_value:
            raise ConvtError(
            f"{what} {_short(text)}: {value} must be at least {min_value}",
            zh=f"{_zh(what)} {_short(text)}：{value} 必须至少为 {min_value}",
        )
        if value > 2**40:
            raise ConvtError(
            f"{what} {_short(text)}: {value} is too large",
            zh=f"{_zh(what)} {_short(text)}：{value} 太大",
        )
        values.append(value)
    return tuple(values)


def parse_per_dim(text: str, name: str) -> int | tuple[int, ...]:
    """``"2"`` → 2, ``"2,1"`` → (2, 1) (also ``2x1``). Range rules are checked by shapes.py."""
    t = text.strip()
    if t.startswith("(") and t.endswith(")"):
        t = t[1:-1]
    parts = [p.strip() for p in re.split(r"[x×,]", t)]
    if not t or any(p == "" for p in parts):
        raise ConvtError(
            f"{name} {_short(text)} must be an integer or one integer per dim, e.g. 2 or 2,1",
            zh=f"{name} {_short(text)} 必须是一个整数或每维一个整数，例如 2 或 2,1",
        )
    values = []
    for part in parts:
        if not _INT_RE.fullmatch(part):
            raise ConvtError(
            f"{name} {_short(text)}: {_short(part)} is not a whole number",
            zh=f"{name} {_short(text)}：{_short(part)} 不是整数",
        )
        value = int(part)
        if abs(value) > 2**31:
            raise ConvtError(
            f"{name} {_short(text)}: {value} is too large",
            zh=f"{name} {_short(text)}：{value} 太大",
        )
        values.append(value)
    if len(values) > 3:
        raise ConvtError(
            f"{name} {_short(text)} has {len(values)} values; at most 3 (one per spatial dim)",
            zh=f"{name} {_short(text)} 有 {len(values)} 个值；最多 3 个（每个空间维一个）",
        )
    return values[0] if len(values) == 1 else tuple(values)


def parse_name_list(text: str, option: str, valid, *, noun: str, noun_zh: str, listed=None,  # noqa: ANN001
                    label: str = "valid", label_zh: str = "可用", split_spaces: bool = False,
                    lower: bool = False) -> tuple[str, ...]:
    """``"a,b"`` → ``("a", "b")``, each one of ``valid``, without repeats; an empty list or an unknown
    name is an error naming the valid ones (``listed``, default all of ``valid``). ``noun`` completes
    "names no …" by its first word and "is not a …" whole: "feature key", "runtime convt knows"."""
    raw = text.replace(" ", ",") if split_spaces else text
    names = [n.strip().lower() if lower else n.strip() for n in raw.split(",") if n.strip()]
    shown = ", ".join(valid if listed is None else listed)
    if not names:
        raise ConvtError(f"{option} {text!r} names no {noun.split()[0]}; {label}: {shown}",
                         zh=f"{option} {text!r} 没有给出{noun_zh}；{label_zh}：{shown}")
    for name in names:
        if name not in valid:
            raise ConvtError(f"{option} {name!r} is not a {noun}; {label}: {shown}",
                             zh=f"{option} {name!r} 不是{noun_zh}；{label_zh}：{shown}")
    return tuple(dict.fromkeys(names))

