"""`frontier-review import` starts the .eval parser processes before it signs in (the passphrase is read
and derived meanwhile), and only when an .eval is among the files."""

from __future__ import annotations

import argparse

import pytest

from app.commands import results as command


class _Stop(Exception):
    pass


@pytest.mark.parametrize(("paths", "warmed"), [(["a.json", "B.EVAL"], 1), (["a.json", "b.csv"], 0)])
def test_the_import_command_starts_parser_processes_for_an_eval(monkeypatch, paths, warmed) -> None:  # type: ignore[no-untyped-def]
    calls: list[str] = []
    monkeypatch.setattr(command.parse_process, "warm", lambda *a: calls.append("warm") or 2)

    def signed_in(args):  # type: ignore[no-untyped-def]
        calls.append("sign-in")
        raise _Stop

    monkeypatch.setattr(command, "signed_in", signed_in)
    with pytest.raises(_Stop):
        command._import(argparse.Namespace(paths=paths, submission=1, media_label="", yes=True))
    assert calls == ["warm"] * warmed + ["sign-in"]
