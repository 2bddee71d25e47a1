"""The command-line reference (``docs/cli.md``), written from the commands themselves.

``python -m kpitools.cli.reference docs/cli.md`` (``make docs``) rewrites it; a test checks it
is current and that the README's synopses match the commands, so the documentation cannot
drift from ``kpitools --help``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from kpitools.cli.commands import cli


def synopsis(name: str, command: click.Command) -> str:
    """One line naming every option: ``kpitools run --data DIR [--out DIR] ...``."""
    parts = [f"kpitools {name}"]
    parts += [
        str(param.metavar or (param.name or "").upper())
        for param in command.params
        if isinstance(param, click.Argument)
    ]
    for param in command.params:
        if not isinstance(param, click.Option) or param.hidden or param.name == "help":
            continue
        flag = max(param.opts, key=len)
        if param.is_flag:
            text = flag
        else:
            metavar = param.metavar or param.make_metavar(click.Context(command))
            text = f"{flag} {metavar}"
        if param.multiple:
            text = f"[{text}]..."
        elif not param.required:
            text = f"[{text}]"
        parts.append(text)
    return " ".join(parts)


def commands() -> dict[str, click.Command]:
    """kpitools' commands by name, in alphabetical order."""
    assert isinstance(cli, click.Group)
    return dict(sorted(cli.commands.items()))


def help_text(name: str, command: click.Command) -> str:
    """``kpitools NAME --help``, as the terminal shows it (80 columns)."""
    parent = click.Context(cli, info_name="kpitools", **cli.context_settings)
    with click.Context(command, info_name=name, parent=parent, terminal_width=80) as context:
        return command.get_help(context)


def reference() -> str:
    """The whole reference page, as Markdown."""
    lines = [
        "# Command-line reference",
        "",
        "Written from the commands themselves by `make docs`; `kpitools COMMAND --help` "
        "shows the same.",
        "",
        "Exit status: 0 when the command succeeds; 2 for bad input or options (one line per "
        "problem on stderr, naming file, row and column; nothing written), also when --out "
        "cannot be written or another run holds it; 1 when the disk fills up or a file-size "
        "limit is reached (the file is named; what finished is complete, nothing half-written) "
        "and, for `kpitools run`, when a service's report failed to build (the others are "
        "written); 130 when stopped by Ctrl-C and 143 by SIGTERM (finished reports are in "
        "place: run the same command again to finish the rest).",
        "",
    ]
    for name, command in commands().items():
        lines += [
            f"## kpitools {name}",
            "",
            "```",
            synopsis(name, command),
            "```",
            "",
            "```text",
            help_text(name, command).rstrip(),
            "```",
            "",
        ]
    return "\n".join(lines)


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("docs/cli.md")
    target.write_text(reference(), encoding="utf-8")
