"""``python -m kpitools`` is the same as ``kpitools``."""

from kpitools.cli import main

main()
