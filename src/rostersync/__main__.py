"""`python -m rostersync` runs the command-line interface."""

from rostersync.cli import main

main()
