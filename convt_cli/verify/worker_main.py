"""``python -m convt_cli.verify.worker_main TARGET``: the worker process's entry point (see :mod:`.worker`).

Kept apart from :mod:`.worker`, which the package imports, so that ``-m`` runs a module not yet loaded.
"""

import os
import sys
import warnings

from .worker import main

if __name__ == "__main__":
    # No warning lines from the function under test (NumPy's "invalid value" for an inf it returns):
    # its results are judged by the checks; PYTHONWARNINGS keeps them for whoever wants them.
    if not os.environ.get("PYTHONWARNINGS"):
        warnings.simplefilter("ignore")
    sys.exit(main(sys.argv[1:]))
