"""Lines that fit a width without breaking a term: signatures and formulas that wrap at their joints.

A formula or a module signature is a list of whole terms; :func:`balanced_lines` puts them on as few
lines as the width allows and then evens the lines out, so a wrap never leaves a lone ``1`` or
``dilation=1)`` on a line of its own. A term longer than the width still gets a line to itself
(never cut). Widths are terminal cells (a Chinese character counts two).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from rich.cells import cell_len


def _greedy(tokens: Sequence[str], limit: int, first: str, indent: str) -> list[str]:
    lines: list[str] = []
    line = first
    fresh = not first.strip()  # nothing but an indent on the line yet: the next token goes on it
    for tok in tokens:
        candidate = line + ("" if fresh else " ") + tok
        if fresh or cell_len(candidate) <= limit:
            line, fresh = candidate, False
            continue
        lines.append(line)
        line, fresh = indent + tok, False
    lines.append(line)
    return lines


def balanced_lines(tokens: Sequence[str], width: int, *, first: str = "", indent: str = "  ") -> list[str]:
    """``first + tokens`` joined by spaces in lines of at most ``width`` cells, breaking only between
    tokens (continuation lines start with ``indent``), with the fewest lines and those as even as
    possible."""
    lines = _greedy(tokens, width, first, indent)
    if len(lines) == 1:
        return lines
    # The narrowest limit that still needs no more lines: the same breaks count, lines evened out.
    low = max(cell_len(first.rstrip()), *(cell_len(indent + tok) for tok in tokens))
    high = width
    while low < high:
        mid = (low + high) // 2
        if len(_greedy(tokens, mid, first, indent)) <= len(lines):
            high = mid
        else:
            low = mid + 1
    return _greedy(tokens, high, first, indent)


def signature_lines(name: str, parts: Sequence[str], width: int, tail: str = "") -> list[str]:
    """``name(part, part, ...)tail`` wrapped after whole parts; continuation lines line up under the
    first part when they can, else start two spaces in; one part per line at the narrowest."""
    tokens = [p + ("," if i < len(parts) - 1 else ")" + tail) for i, p in enumerate(parts)]
    opener = name + "(" + tokens[0]
    if len(tokens) == 1:
        return [opener]
    return _best([[ln.rstrip() for ln in balanced_lines(tokens[1:], width, first=opener, indent=indent)]
                  for indent in (" " * cell_len(name + "("), "  ")], width)


def _best(layouts: list[list[str]], width: int) -> list[str]:
    """The layout with the fewest lines among those that fit (the first on a tie), else the last."""
    fitting = [lines for lines in layouts if all(cell_len(ln) <= width for ln in lines)]
    return min(fitting, key=len) if fitting else layouts[-1]


def formula_tokens(text: str) -> list[str]:
    """Split ``a + b − c = d`` into terms at the ``+``/``−`` signs outside parentheses (each term keeps
    its sign; ``= d`` stays with the term before it)."""
    tokens: list[str] = []
    depth = 0
    current = ""
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if depth == 0 and ch in "+−" and text[i - 1:i] == " " and text[i + 1:i + 2] == " " and current.strip():
            tokens.append(current.strip())
            current = ""
        current += ch
        i += 1
    if current.strip():
        tokens.append(current.strip())
    return tokens


def formula_lines(text: str, width: int, lead: str = "") -> list[str]:
    """A formula wrapped at its ``+``/``−`` terms; continuation lines line up under the right-hand side
    (after ``= ``) when they can, else start two spaces past ``lead``."""
    tokens = formula_tokens(text)
    if len(tokens) == 1:
        return [lead + text]
    eq = tokens[0].find("= ")
    indents = ([lead + " " * (cell_len(tokens[0][:eq]) + 2)] if eq >= 0 else []) + [lead + "  "]
    return _best([[ln.rstrip() for ln in balanced_lines(tokens[1:], width, first=lead + tokens[0], indent=indent)]
                  for indent in indents], width)


_WIDE = re.compile(r"[\u2e80-\u9fff\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef]")
_NO_LINE_START = set("，。；：、）」』！？…%")  # Chinese punctuation never starts a line
_NO_LINE_END = set("（「『")


_JOINERS = ("→", "=", "+", "−", "≥", "≤")  # never at a line's start or end: glued to both neighbours
_JOINED_AFTER = ("→", "=", "×", " +", " −", " ≥", " ≤")


def _pieces(paragraph: str) -> list[tuple[str, bool]]:
    """``(piece, space_before)``: words, and inside Chinese text single characters (a line may break
    between two Chinese characters, never inside a Latin word or a number)."""
    out: list[tuple[str, bool]] = []
    for word in paragraph.split(" "):
        if not word:
            continue
        first = True
        for piece in re.findall(r"[\u2e80-\u9fff\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef]|"
                                r"[^\u2e80-\u9fff\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef]+", word):
            glue = not first and (piece[0] in _NO_LINE_START or out[-1][0][-1] in _NO_LINE_END
                                  or not (_WIDE.match(piece[0]) or _WIDE.match(out[-1][0][-1])))
            if glue:
                out[-1] = (out[-1][0] + piece, out[-1][1])
            else:
                out.append((piece, first))
            first = False
    # ``a → b``, ``a = b``, ``a + b``, ``2× upsampling`` and a short parenthesised term like ``(k − 1)``
    # stay on one line.
    glued: list[tuple[str, bool]] = []
    for piece, space in out:
        prev = glued[-1][0] if glued else ""
        open_term = prev.count("(") > prev.count(")") and len(prev) - prev.rfind("(") < 16
        if glued and space and (piece in _JOINERS or prev.endswith(_JOINED_AFTER) or open_term):
            glued[-1] = (prev + " " + piece, glued[-1][1])
        else:
            glued.append((piece, space))
    return glued


def _join(pieces: list[tuple[str, bool]]) -> str:
    return "".join((" " if space and i else "") + piece for i, (piece, space) in enumerate(pieces))


def prose_lines(text: str, width: int, indent: str = "") -> list[str]:
    """Prose wrapped at spaces (and between Chinese characters) like a terminal would, except that
    ``a → b`` and ``(k − 1)`` stay together and the last line never holds a single short word (one
    more comes down with it). A word wider than the line gets a line of its own."""
    out: list[str] = []
    for paragraph in text.split("\n"):
        pieces = _pieces(paragraph)
        if cell_len(indent + paragraph) <= width or not pieces:
            out.append(indent + paragraph)
            continue
        # A glued group wider than the line comes apart again at its spaces.
        pieces = [(word, space if n == 0 else True) for piece, space in pieces
                  for n, word in enumerate(piece.split(" ") if cell_len(indent + piece) > width else [piece])]
        lines: list[list[tuple[str, bool]]] = [[]]
        for piece in pieces:
            if lines[-1] and cell_len(indent + _join(lines[-1] + [piece])) > width:
                lines.append([])
            lines[-1].append(piece)
        if len(lines) > 1 and len(lines[-1]) == 1 and len(lines[-2]) > 1 and cell_len(lines[-1][0][0]) <= 12:
            moved = lines[-2][-1]
            if cell_len(indent + _join([moved] + lines[-1])) <= width:
                lines[-2].pop()
                lines[-1].insert(0, moved)
        out.extend(indent + _join(line) for line in lines)
    return out


def _split_top(args: str) -> list[str]:
    parts, depth, current = [], 0, ""
    for ch in args:
        depth += ch in "([" and 1 or (-1 if ch in ")]" else 0)
        if ch == "," and depth == 0:
            parts.append(current.strip())
            current = ""
        else:
            current += ch
    parts.append(current.strip())
    return parts


def call_lines(text: str, width: int) -> list[str]:
    """``Name(a, b, c)tail`` wrapped between whole arguments (see :func:`signature_lines`)."""
    match = re.fullmatch(r"(\w+)\((.*)\)(.*)", text)
    if not match or cell_len(text) <= width:
        return [text]
    return signature_lines(match.group(1), _split_top(match.group(2)), width, match.group(3))


def fit_lines(kind: str, text: str, width: int) -> list[str]:
    """One value laid out for ``width``: ``formula`` (breaks at + and −), ``call`` (between arguments)
    or ``prose`` (between words)."""
    if kind == "formula":
        return [ln for part in text.split("\n") for ln in formula_lines(part, width)]
    if kind == "call":
        return call_lines(text, width)
    return prose_lines(text, width)


def fit_table(table, width: int) -> bool:  # noqa: ANN001 - a rich Table
    """Give ``table``'s columns widths that fit ``width`` without cutting a word, or say it cannot.

    Rich would squeeze a too-wide table by cutting cells (``1×1280×12…``); here every column keeps at
    least its longest word and the spare width goes to the columns that wrap, so text wraps between
    words and numbers stay whole. False: even the longest words do not fit (use a stacked form).
    """
    import io

    from rich.console import Console

    console = Console(width=10_000, file=io.StringIO(), color_system=None)
    options = console.options
    measures = [table._measure_column(console, options, column) for column in table.columns]
    avail = width - table._extra_width
    mins = [m.minimum for m in measures]
    maxs = [m.maximum for m in measures]
    if sum(maxs) <= avail:
        return True
    if sum(mins) > avail:
        return False
    widths = list(mins)
    spare = avail - sum(mins)
    # Columns that need little more get all of it first (a header on one line), the rest what is left.
    for i in sorted(range(len(widths)), key=lambda i: maxs[i] - mins[i]):
        give = min(maxs[i] - widths[i], spare)
        widths[i] += give
        spare -= give
    for column, w in zip(table.columns, widths):
        column.width = w - table._get_padding_width(column._index)
        column.overflow = "fold"
    return True


def stacked_rows(headers: Sequence[str], rows: Sequence[Sequence[str]], width: int) -> list[str]:
    """A table too wide for the terminal, one record per block: the first cell as its heading, then
    ``header value`` pairs separated by `` · ``, wrapped between pairs."""
    out: list[str] = []
    for row in rows:
        out.append(row[0])
        pairs = [f"{h} {v}".strip() for h, v in zip(headers[1:], row[1:]) if str(v).strip()]
        tokens = [p + (" ·" if i < len(pairs) - 1 else "") for i, p in enumerate(pairs)]
        out.extend(balanced_lines(tokens, width, first="  ", indent="  ") if tokens else [])
    return out


class Hanging:
    """A paragraph wrapped to the console's width at render time, its continuation lines indented
    under its first (``first`` spaces before the first line, ``hang`` before the others): a wrapped
    line never falls back to column 0. ``text`` may be a Rich ``Text``: its styles are kept."""

    def __init__(self, text, *, first: int = 0, hang: int = 2, style: str = "") -> None:  # noqa: ANN001
        plain = text if isinstance(text, str) else text.plain
        lead = len(plain) - len(plain.lstrip(" "))  # leading spaces are the first line's indentation
        self.text, self.first, self.hang, self.style = text[lead:], first + lead, hang, style

    @property
    def plain(self) -> str:
        return self.text if isinstance(self.text, str) else self.text.plain

    def lines(self, width: int) -> list[str]:
        out = prose_lines(self.plain, max(width - self.hang, 20))
        return [" " * (self.first if i == 0 else self.hang) + line for i, line in enumerate(out)]

    def __rich_console__(self, console, options):  # noqa: ANN001, ANN204 - Rich protocol
        from rich.text import Text

        source = Text(self.text, style=self.style) if isinstance(self.text, str) else self.text
        plain = source.plain
        out = Text(no_wrap=True, overflow="ignore", style=self.style)
        cursor = 0
        for i, line in enumerate(prose_lines(plain, max(options.max_width - self.hang, 20))):
            if i:
                out.append("\n")
            out.append(" " * (self.first if i == 0 else self.hang))
            at = plain.find(line, cursor)
            if at < 0:  # not a plain slice (cannot happen with single spaces): the words, unstyled
                out.append(line)
                continue
            out.append_text(source[at:at + len(line)])
            cursor = at + len(line)
        yield out

    def __rich_measure__(self, console, options):  # noqa: ANN001, ANN204
        from rich.measure import Measurement

        longest = max((cell_len(line) for line in self.plain.split("\n")), default=0) + self.first
        return Measurement(min(longest, self.hang + 20), longest)


def shell_words(command: str) -> list[str]:
    """``command`` split at the spaces outside quotes (each word keeps its quotes, as typed)."""
    words, current, quote = [], "", ""
    for ch in command:
        if quote:
            current += ch
            if ch == quote:
                quote = ""
        elif ch in "'\"":
            current += ch
            quote = ch
        elif ch == " ":
            if current:
                words.append(current)
            current = ""
        else:
            current += ch
    if current:
        words.append(current)
    return words


def shell_lines(lead: str, command: str, width: int) -> list[str]:
    """A command after ``lead`` that a shell still runs when copied whole: too long for ``width``, it
    breaks between words with `` \\`` and goes on under the command's first word; a quoted argument is
    never cut."""
    if cell_len(lead + command) <= width:
        return [lead + command]
    indent = " " * (cell_len(lead) + 2)
    lines, current = [], lead
    for word in shell_words(command):
        fresh = current in (lead, indent)
        if not fresh and cell_len(current + " " + word + " \\") > width:
            lines.append(current + " \\")
            current = indent + word
        else:
            current = current + ("" if fresh else " ") + word
    lines.append(current)
    return lines


class ShellLine:
    """A label and a command, wrapped at render time by :func:`shell_lines` (copyable as it stands)."""

    def __init__(self, lead: str, command: str, style: str = "") -> None:
        self.lead, self.command, self.style = lead, command, style

    @property
    def plain(self) -> str:
        return self.lead + self.command

    def __rich_console__(self, console, options):  # noqa: ANN001, ANN204 - Rich protocol
        from rich.text import Text

        yield Text("\n".join(shell_lines(self.lead, self.command, options.max_width)), style=self.style,
                   no_wrap=True, overflow="ignore")

    def __rich_measure__(self, console, options):  # noqa: ANN001, ANN204
        from rich.measure import Measurement

        return Measurement(min(cell_len(self.plain), 20), cell_len(self.plain))
