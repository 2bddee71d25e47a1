"""The command line: parse options, call the library, print. No rules live here."""

from kpitools.cli.commands import cli, main

__all__ = ["cli", "main"]
