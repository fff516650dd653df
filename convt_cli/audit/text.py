"""Names read from files and messages from foreign code, made safe to show on a terminal.

An ONNX node name, a state-dict key or an exception message can hold terminal control sequences
(``ESC [31m``, an OSC title, a C1 ``CSI``, a bidi override). :func:`shown` writes every character
that is not printable as a Python escape (``\\x1b``, ``\\u202e``), as ``repr`` does, without the
quotes; printable text, Chinese included, is left alone.
"""

from __future__ import annotations


def shown(text: object) -> str:
    s = str(text)
    if s.isprintable():
        return s
    out = []
    for ch in s:
        if ch.isprintable():
            out.append(ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        else:
            out.append(repr(ch)[1:-1] if repr(ch)[1:-1] != ch else f"\\u{ord(ch):04x}")
    return "".join(out)


def json_safe(text: str) -> str:
    """A JSON document with C1 controls, DEL and other non-printable characters written as ``\\uXXXX``
    (``json.dumps`` leaves them raw with ``ensure_ascii=False``); still the same JSON value."""
    out = []
    for ch in text:
        if ch.isprintable() or ch in "\n":
            out.append(ch)
        else:
            code = ord(ch)
            if code >= 0x10000:  # a surrogate pair, as JSON spells it
                code -= 0x10000
                out.append(f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}")
            else:
                out.append(f"\\u{code:04x}")
    return "".join(out)
