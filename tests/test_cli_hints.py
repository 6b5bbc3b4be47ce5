"""Every `rostersync …` command that an error hint or message names is a command the CLI has.

The hints are what an admin types next; a hint that names a command group (``rostersync runs``)
or a command or option that was renamed sends them to a usage error instead.
"""

from __future__ import annotations

import re
from pathlib import Path

import typer.main

import rostersync
from rostersync.cli import app

SRC = Path(rostersync.__file__).parent
#: A backticked command line in the source: `rostersync WORD WORD … --option …`.
NAMED = re.compile(r"`rostersync ([^`]+)`")
#: A command's name; anything else (`…`, `{run_id}`, `FILE`) stands for an argument.
WORD = re.compile(r"[a-z][a-z0-9-]*")


def named_commands() -> list[tuple[str, str]]:
    found = []
    for path in sorted(SRC.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        for match in NAMED.finditer(text):
            found.append(
                (
                    f"{path.relative_to(SRC)}:{text.count(chr(10), 0, match.start()) + 1}",
                    match.group(1),
                )
            )
    return found


def problem(words: list[str]) -> str | None:
    """Why ``rostersync WORDS`` is not a runnable command line, None when it is."""
    # Typer may vendor its own click: groups are told by their `commands`, not by class.
    command = typer.main.get_command(app)
    path = ["rostersync"]
    rest = list(words)
    while hasattr(command, "commands") and rest and WORD.fullmatch(rest[0]):
        sub = command.commands.get(rest[0])
        if sub is None:
            return f"`{' '.join(path)}` has no command {rest[0]!r}"
        command, rest = sub, rest[1:]
        path.append(sub.name or "")
    if hasattr(command, "commands"):
        if rest and not rest[0].startswith("-"):
            return None  # `rostersync runs …`: one of the group's commands
        return f"`{' '.join(path)}` is a command group, not a command"
    options = {opt for param in command.params for opt in (*param.opts, *param.secondary_opts)}
    for word in rest:
        for option in word.split("/") if word.startswith("-") else ():
            if option not in options:
                return f"`{' '.join(path)}` has no option {option}"
    return None


def test_the_source_names_commands() -> None:
    assert len(named_commands()) >= 10


def test_every_named_command_exists() -> None:
    wrong = [
        f"{where}: `rostersync {line}`: {why}"
        for where, line in named_commands()
        if (why := problem(line.split())) is not None
    ]
    assert not wrong, "\n".join(wrong)
