"""``python -m convt_cli`` and the ``convt`` console script.

The CLI is imported inside :func:`main`, so that a Ctrl-C while convt itself loads exits 130 with one
line, like a Ctrl-C later on, instead of a traceback from the middle of an import.
"""

import sys


def main() -> None:
    try:
        from .cli import run
    except KeyboardInterrupt:
        print("Interrupted.", file=sys.stderr)
        sys.exit(130)
    run()


if __name__ == "__main__":
    main()
