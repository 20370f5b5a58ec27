"""``python -m ingram.sandbox``: serve the fake vendor API until interrupted."""

import sys

from .runner import main

if __name__ == "__main__":
    sys.exit(main())
