"""``convt show --play``: the steps animate in place in the terminal (Rich's live display).

:class:`PlayConsole` is the console ``show`` prints its report to. Everything prints as usual except
the step blocks (recognised by their title, the catalogue's ``show.step_title`` or
``show.gather_step``): those replace one another in one live area, ``delay`` seconds apart, so the
canvas fills up in place; the last step stays on screen and the result prints below it, held.
Ctrl-C stops the live display (the cursor is shown again) and the CLI exits 130.

With no terminal to animate in, :func:`play_console` says so on stderr and hands back the plain
console: the normal report is drawn instead.
"""

from __future__ import annotations

import re
import time
from typing import Any

from rich.console import Console, Group
from rich.control import Control
from rich.live import Live
from rich.text import Text

from ..i18n import define, t
from .console import make_console

STEP_KEYS = ("show.step_title", "show.gather_step")
MAX_DELAY = 60.0

define({
    "play.no_terminal": ("Note: --play needs a terminal; drawing the normal report instead.",
                         "注意：--play 需要终端；改为输出普通报告。"),
})


def title_pattern(key: str, lang: str) -> re.Pattern[str]:
    """A regex matching every title the catalogue's ``key`` can produce (its fields as wildcards)."""
    template = t(key, lang)
    parts = re.split(r"\{[a-z_]+\}", template)
    return re.compile(".+?".join(re.escape(p) for p in parts) + r"\Z", re.S)


def is_step(item: object, patterns: list[re.Pattern[str]]) -> bool:
    """A step block: a Group whose first line is a step title."""
    if not isinstance(item, Group) or not item.renderables:
        return False
    first = item.renderables[0]
    return isinstance(first, Text) and any(p.match(first.plain) for p in patterns)


class PlayConsole(Console):
    """A console that animates step blocks in place; ``recording`` (if any) gets the plain report."""

    def __init__(self, *, delay: float, lang: str, recording: Console | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.delay = delay
        self.recording = recording
        self.frames_shown = 0
        self._patterns = [title_pattern(k, lang) for k in STEP_KEYS]
        self._live: Live | None = None
        self._blank = False  # a blank line came while the live area was up: printed after it ends
        self.sticky: str | None = None  # the report's first line, kept above a frame taller than the screen

    def print(self, *objects: Any, **kwargs: Any) -> None:  # noqa: D401 - Console's signature
        if len(objects) == 1 and isinstance(objects[0], Control):
            super().print(*objects, **kwargs)
            return
        if self.recording is not None:
            self.recording.print(*objects, **kwargs)
        item = objects[0] if len(objects) == 1 else None
        if item is not None and is_step(item, self._patterns):
            self._show(item)
            return
        if self._live is not None and (not objects or isinstance(item, Text) and not item.plain):
            self._blank = True
            return  # blank lines between steps: the live area keeps its place (one is printed after it)
        if self.sticky is None and item is not None:
            lines = self.render_lines(item, self.options, pad=False)
            self.sticky = "".join(seg.text for seg in lines[0]) if lines else ""
        blank, self._blank = self._blank and self._live is not None, False
        self.finish()
        if blank:
            super().print()
        super().print(*objects, **kwargs)

    def _show(self, frame: Any) -> None:
        if self._live is None:
            self._live = Live(console=self, auto_refresh=False, transient=False, redirect_stdout=False,
                              redirect_stderr=False, vertical_overflow="ellipsis")
            self._live.start()
        elif self.delay:
            try:
                time.sleep(self.delay)
            except BaseException:
                self.abort()
                raise
        self._blank = False
        if self.sticky and len(self.render_lines(frame, self.options, pad=False)) >= self.height - 1:
            # Taller than the screen: the live area would push the header off the top, so the frame
            # carries the report's first line itself (and is cut at the bottom with an ellipsis).
            frame = Group(Text(self.sticky, style="bold"), frame)
        self._live.update(frame, refresh=True)
        self.frames_shown += 1

    def finish(self) -> None:
        """End the live area (its last frame stays on screen); a pause first, so the last step is seen."""
        if self._live is None:
            return
        live, self._live = self._live, None
        try:
            if self.delay:
                time.sleep(self.delay)
        finally:
            live.stop()

    def abort(self) -> None:
        """Ctrl-C: stop the live area at once (the cursor comes back); the caller re-raises."""
        live, self._live = self._live, None
        if live is not None:
            live.stop()


def play_console(*, delay: float, lang: str, no_color: bool, record: bool) -> Console:
    """The console for ``--play``: a :class:`PlayConsole` on a terminal, else a plain one (said on stderr)."""
    plain = make_console(no_color=no_color, record=record)
    if not plain.is_terminal or plain.is_dumb_terminal:
        make_console(stderr=True, no_color=True).print(Text(t("play.no_terminal", lang)))
        return plain
    recording = None
    if record:
        import io

        recording = make_console(no_color=no_color, record=True, width=plain.width)
        recording.file = io.StringIO()
    return PlayConsole(delay=delay, lang=lang, recording=recording, no_color=no_color or None,
                       color_system=None if no_color else "auto", highlight=False, soft_wrap=False)
