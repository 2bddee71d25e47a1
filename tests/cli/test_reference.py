"""The documentation cannot drift from the commands: docs/cli.md and the README's synopses are
checked against ``kpitools --help``."""

from __future__ import annotations

import re

import click
import pytest

from kpitools.cli.reference import commands, reference, synopsis
from tests.conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")


def code_blocks(text: str) -> list[str]:
    return re.findall(r"^```[a-z]*\n(.*?)^```", text, re.S | re.M)


def command_lines(block: str) -> list[str]:
    """Lines starting with ``kpitools``, continuation backslashes joined, comments cut."""
    joined = re.sub(r"\\\n\s*", "", block)
    lines = []
    for line in joined.splitlines():
        line = re.sub(r"\s+#.*$", "", line).strip()
        line = re.sub(r"^(\S*/)?kpitools\b", "kpitools", line)
        if line.startswith("kpitools "):
            lines.append(re.sub(r"\s+", " ", line))
    return lines


def test_the_reference_page_is_current() -> None:
    assert (ROOT / "docs" / "cli.md").read_text(encoding="utf-8") == reference(), (
        "docs/cli.md is out of date: run `make docs`"
    )


def test_the_readme_gives_every_command_with_every_option() -> None:
    section = README.split("## Commands", 1)[1]
    synopses = command_lines(code_blocks(section)[0])
    expected = [synopsis(name, command) for name, command in commands().items()]
    assert sorted(synopses) == sorted(expected)


@pytest.mark.parametrize("line", [ln for b in code_blocks(README) for ln in command_lines(b)])
def test_every_readme_example_uses_real_options(line: str) -> None:
    words = line.split()
    if len(words) < 2 or words[1] not in commands():
        assert words[1] in ("--version", "--help", "..."), line
        return
    command = commands()[words[1]]
    known = {opt for p in command.params if isinstance(p, click.Option) for opt in p.opts}
    known |= {"-h", "--help"}
    used = {w for w in words if w.startswith("-") and not w.startswith("--[")}
    used = {w.split("=")[0] for w in used if re.match(r"^--?[a-z]", w)}
    assert used <= known, f"{line}: {sorted(used - known)} not options of kpitools {words[1]}"


def test_the_readme_and_docs_stand_on_their_own() -> None:
    for path in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        text = path.read_text(encoding="utf-8")
        assert "../shared" not in text and "shared/docs" not in text, path.name
        for target in re.findall(r"\]\(([^)#]+?)(?:#[^)]*)?\)", text):
            if not target.startswith(("http://", "https://")):
                assert (path.parent / target).exists(), f"{path.name} links to {target}"
