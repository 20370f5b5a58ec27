"""Thin script: `python ingram_sync.py ARGS` is the same as `ingram-sync ARGS`."""

from ingram.cli import main

if __name__ == "__main__":
    main()
