"""``python -m convt_cli.sandbox.child_main MODULE:FUNC``: the child's entry point (see :mod:`.child`).

Kept apart from :mod:`.child`, which the sandboxed functions import (``loaded()``), so that ``-m``
runs a module not yet loaded and there is one ``child`` module, not a ``__main__`` copy of it.
"""

import sys

from .child import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
