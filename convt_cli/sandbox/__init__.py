"""Running code that is not convt's own (a user's function, a model builder, an emitted snippet, an
exporter) in a separate process, bounded in time and in the resident memory it really uses.

``run_isolated("convt_cli.some.module:func", request, arrays, timeout=…)`` starts
``python -m convt_cli.sandbox.child_main``, which imports *our* module ``convt_cli.some.module`` and calls
``func(request, arrays) -> (reply, arrays)``; that function is where foreign code is loaded and run.
Nothing crosses the pipe but JSON and ``.npy`` bytes read with ``allow_pickle=False``.
See :mod:`.run` for the parent's side, :mod:`.child` for the child's, :mod:`.wire` for the format and
:mod:`.watch` for the memory guard.
"""

from .run import Outcome, SandboxFailure, run_isolated
from .watch import RssWatch, tree_rss

__all__ = ["Outcome", "RssWatch", "SandboxFailure", "run_isolated", "tree_rss"]
