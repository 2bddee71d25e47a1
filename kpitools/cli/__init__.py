"""The command line: parse options, call the library, print. No rules live here."""

from kpitools.cli import workflow as _workflow  # noqa: F401  (registers its commands)
from kpitools.cli.commands import cli, main

__all__ = ["cli", "main"]
