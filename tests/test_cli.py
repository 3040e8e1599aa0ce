"""`archiver --help` and every subcommand's --help: plain text for a terminal, a description, every default shown."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys

import pytest

from archiver.cli import build_parser, project_root


def subcommands() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    # argparse has no public way to list subparsers; its subparsers action holds them by name.
    (action,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(action.choices)


COMMANDS = list(subcommands())


def help_of(*args: str) -> subprocess.CompletedProcess:
    """`archiver ARGS --help` in a fresh process, in a terminal 80 columns wide."""
    env = {**os.environ, "COLUMNS": "80"}
    return subprocess.run([sys.executable, "-m", "archiver.cli", *args, "--help"], cwd=project_root(), env=env,
                          capture_output=True, text=True, timeout=60)


def test_every_command_is_listed():
    assert {"demo", "seed", "ingest", "explore", "verify", "show", "status", "rebuild"} <= set(COMMANDS)
    done = help_of()
    assert done.returncode == 0, done.stderr
    for name in COMMANDS:
        assert f"\n    {name} " in done.stdout  # with its one-line summary


@pytest.mark.parametrize("command", [None] + COMMANDS)
def test_help_reads_well_in_a_terminal(command):
    parser = build_parser() if command is None else subcommands()[command]
    done = help_of(*([command] if command else []))
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    out = done.stdout
    assert out.startswith("usage: archiver")
    assert len(parser.description.split()) >= 10, "a description of what the command does"
    assert parser.description in out
    assert "\nexamples:\n" in out
    assert "``" not in out and ":func:" not in out and ":mod:" not in out  # no reST markup
    assert max(len(line) for line in out.splitlines()) <= 80


@pytest.mark.parametrize("command", COMMANDS)
def test_every_option_has_help_and_shows_its_default(command):
    parser = subcommands()[command]
    arguments = [a for a in parser._actions if not isinstance(a, argparse._HelpAction)]
    assert all(a.help for a in arguments)
    options = [a for a in arguments if a.option_strings or a.nargs in ("?", "*")]  # what may be left out
    assert options
    for action in options:
        assert "(default: " in action.help, f"{command} {action.dest}: no default shown"
    out = help_of(command).stdout
    assert out.count("(default:") == len(options)
    assert "%(" not in out


def test_subcommands_are_defined_only_in_the_cli_module():
    package = project_root() / "archiver"
    # the replica's own developer command (`python -m archiver.replica`) is not an archiver subcommand
    allowed = {package / "cli.py", package / "replica" / "__main__.py"}
    defining = [path for path in package.rglob("*.py") if path not in allowed and "add_parser(" in path.read_text()]
    assert defining == []


def test_scrapy_crawl_help_is_scrapys():
    done = subprocess.run([sys.executable, "-m", "scrapy", "crawl", "-h"], cwd=project_root(), capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "scrapy crawl [options] <spider>" in done.stdout
    assert "-a NAME=VALUE" in done.stdout
