"""The memory guard: the resident memory of a child process and everything it started, watched.

``RLIMIT_AS`` counts address space, which XLA, TensorFlow and friends reserve by the gigabyte without
using it; what a run really costs the machine is its resident set. A thread in the parent sums the
``VmRSS`` of the child's process tree every few milliseconds and kills the tree when it passes the
limit. A burst that allocates faster than the poll can pass the limit briefly; the kill follows.
"""

from __future__ import annotations

import os
import signal
import threading

POLL_S = 0.02


def _children(pid: int) -> list[int]:
    kids: list[int] = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return kids
    for tid in tasks:
        try:
            with open(f"/proc/{pid}/task/{tid}/children", encoding="ascii") as fh:
                kids += [int(p) for p in fh.read().split()]
        except (OSError, ValueError):
            continue
    return kids


def _rss(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm", encoding="ascii") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


def tree_pids(pid: int) -> list[int]:
    seen, todo = [], [pid]
    while todo and len(seen) < 4096:
        p = todo.pop()
        if p in seen:
            continue
        seen.append(p)
        todo += _children(p)
    return seen


def tree_rss(pid: int) -> int:
    """Resident bytes of ``pid`` and its descendants (0 where /proc cannot tell)."""
    return sum(_rss(p) for p in tree_pids(pid))


def kill_tree(pid: int) -> None:
    for p in reversed(tree_pids(pid)):
        try:
            os.kill(p, signal.SIGKILL)
        except OSError:
            pass


class RssWatch:
    """Watch ``pid``'s tree; past ``limit`` bytes resident, kill it and remember the peak.

    ``limit`` may be changed while watching (e.g. set to "after loading + budget" once the child has
    loaded); ``None`` watches without a limit. ``exceeded`` is the resident size that broke the limit.
    """

    def __init__(self, pid: int, limit: int | None = None):
        self.pid = pid
        self.limit = limit
        self.peak = 0
        self.exceeded: int | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="convt-rss-watch", daemon=True)

    def __enter__(self) -> RssWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=1)

    def sample(self) -> int:
        now = tree_rss(self.pid)
        self.peak = max(self.peak, now)
        limit = self.limit
        if limit is not None and now > limit and self.exceeded is None:
            self.exceeded = now
            kill_tree(self.pid)
        return now

    def _run(self) -> None:
        while not self._stop.is_set():
            self.sample()
            if self.exceeded is not None:
                return
            self._stop.wait(POLL_S)
