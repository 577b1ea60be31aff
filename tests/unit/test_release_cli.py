"""`release build|developer|list|show|approve|export` from the command line (issue 16, point 7)."""

from __future__ import annotations

import io
from pathlib import Path

from app import cli
from app.services import partners
from tests.unit.test_release_service import ACME, NOFORN_TEXTS, ready, ready_template  # noqa: F401  (fixtures)


def test_release_journey_on_the_command_line(workstation, ready, monkeypatch, capsys,  # noqa: F811
                                             tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    sid, uk, key = ready

    def run(user: str, *args: str) -> tuple[int, str, str]:
        monkeypatch.setattr("sys.stdin", io.StringIO(workstation.passphrase(user) + "\n"))
        code = cli.main(["--data-dir", str(workstation.data_dir), "--user", user, *args])
        out = capsys.readouterr()
        return code, out.out, out.err

    code, out, err = run("reviewer", "release", "developer", str(sid))
    assert code == 2 and "no developer partner named 'Acme AI'" in err
    code, out, err = run("reviewer", "release", "build", str(sid), "--partner", uk.name)
    assert code == 0, err
    assert "release 1 " in out and "marked SECRET//REL TO USA, GBR" in out

    code, out, err = run("lead", "release", "show", "1")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == lines[-1] == "SECRET//REL TO USA, GBR"
    assert "  because NOFORN: " in out and "you may approve it" in out
    assert not any(t in out for t in NOFORN_TEXTS)
    code, out, err = run("lead", "release", "show", "1", "--side-by-side")
    lines = out.splitlines()
    assert lines[0] == lines[-1] == "SECRET//NOFORN"  # it quotes the full report
    assert "[WITHHELD: NOFORN: not releasable to foreign nationals] (S//NF) checklist items: CAP-02" in out
    full, released = out.split("== RELEASE (SECRET//REL TO USA, GBR)")
    assert "CTF solve rate above threshold." in full and "CTF solve rate above threshold." not in released
    assert "Shared range result" in released

    code, out, err = run("lead", "release", "list")
    assert code == 0 and "UK AI Security Institute" in out and "built" in out
    code, out, err = run("reviewer", "release", "approve", "1")
    assert code != 0 and "does not allow" in err
    code, out, err = run("reviewer", "release", "export", "1", "--media-label", "SECRET//REL TO USA, GBR",
                         "--output", str(tmp_path))
    assert code == 2 and "only an approved release" in err
    code, out, err = run("lead", "release", "approve", "1")
    assert code == 0, err
    assert "countersigned by lead" in out

    partners.add_certificate(workstation.session("admin"), uk.id, key.cert_path, "encryption")
    usb = tmp_path / "usb"
    usb.mkdir()
    code, out, err = run("reviewer", "release", "export", "1", "--media-label", "CUI", "--output", str(usb))
    assert code == 2 and "media is labelled CUI" in err
    assert list(usb.iterdir()) == []
    code, out, err = run("reviewer", "release", "export", "1", "--media-label", "SECRET//REL TO USA, GBR",
                         "--output", str(usb))
    assert code == 0, err
    assert "sealed to 1 certificate(s) of UK AI Security Institute" in out
    [sealed] = list(usb.iterdir())
    assert sealed.name.endswith("-R1.sealed") and (sealed / "MARKING.txt").read_text().startswith(
        "SECRET//REL TO USA, GBR")

    partners.add(workstation.session("admin"), ACME)
    code, out, err = run("reviewer", "release", "developer", str(sid))
    assert code == 0, err
    assert "for Acme AI (the submitting developer)" in out
