"""`python -m ingram ARGS` is `ingram-sync ARGS`."""

from ingram.cli import main

main()
