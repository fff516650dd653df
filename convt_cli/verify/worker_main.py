"""``python -m convt_cli.verify.worker_main TARGET``: the worker process's entry point (see :mod:`.worker`).

Kept apart from :mod:`.worker`, which the package imports, so that ``-m`` runs a module not yet loaded.
"""

import sys

from .worker import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
