"""The CLI imports a command's module only when that command runs; --help imports none of them."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import pytest

from app import cli

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("app.commands.", "app.services", "storage", "reports", "cryptography", "reportlab", "pyhanko",
         "sqlcipher3", "keyring", "PySide6")


def _subcommands(parser: argparse.ArgumentParser) -> dict[str, str]:
    [sub] = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return {a.dest: a.help or "" for a in sub._choices_actions}


def test_command_table_matches_what_the_modules_register() -> None:
    registered = _subcommands(cli.build_parser(load_all=True))
    assert registered == {name: help_text for name, (_, help_text) in cli.COMMANDS.items()}
    # ...and in the same order, so --help reads the same whichever way it was built
    assert list(registered) == list(_subcommands(cli.build_parser()))


def test_each_command_is_defined_by_the_module_the_table_names() -> None:
    for name, (module, _) in cli.COMMANDS.items():
        parser = cli.build_parser(name)
        [sub] = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
        # a loaded command has its own options (at least -h); a help line has none
        assert sub.choices[name]._actions, f"{name} is not registered by {module}"


@pytest.mark.parametrize(("argv", "command"), [
    (["--help"], None),
    ([], None),
    (["--demo"], None),
    (["--data-dir", "/x", "--user", "rita", "submission", "list"], "submission"),
    (["--data-dir=/x", "pki", "--help"], "pki"),
    (["report", "export", "3", "--media", "SECRET"], "report"),
])
def test_requested_command_is_found_without_importing_commands(argv: list[str], command: str | None) -> None:
    assert cli.requested_command(argv) == command


def _modules_after(argv: list[str]) -> list[str]:
    code = ("import contextlib, io, json, sys\nfrom app import cli\n"
            "with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):\n"
            f"    try:\n        cli.main({argv!r})\n    except SystemExit:\n        pass\n"
            "print(json.dumps(sorted(sys.modules)))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120,
                          check=True)
    return [m for m in json.loads(done.stdout) if m.startswith(HEAVY)]


def test_help_and_version_import_no_command_module_and_no_heavy_library() -> None:
    assert _modules_after(["--help"]) == []
    assert _modules_after(["--version"]) == []


def test_a_command_imports_only_its_own_command_module() -> None:
    loaded = _modules_after(["submission", "--help"])
    assert "app.commands.submissions" in loaded
    others = {m for m, _ in cli.COMMANDS.values()} - {"app.commands.submissions"}
    assert not others & set(loaded), sorted(others & set(loaded))
