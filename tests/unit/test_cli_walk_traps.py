"""CLI traps an outside walk met (notes s31, finding 10): a closed pipe, a normal state reported as a
failure, and a refusal that did not say whose passphrase it was."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from app import cli

ROOT = Path(__file__).parents[2]


def run(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], ws, user: str,  # type: ignore[no-untyped-def]
        *args: str, stdin: str) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    code = cli.main(["--data-dir", str(ws.data_dir), "--user", user, *args])
    out = capsys.readouterr()
    return code, out.out, out.err


class _ClosedPipe(io.StringIO):
    """Standard output whose reader has gone (`| head -1`): every write and flush fails."""

    def write(self, _text: str) -> int:
        raise BrokenPipeError(32, "Broken pipe")

    def flush(self) -> None:
        raise BrokenPipeError(32, "Broken pipe")


def test_a_closed_pipe_ends_any_command_quietly(workstation, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    from tests.conftest import reviewer_with_submission

    _, sid = reviewer_with_submission(workstation)
    monkeypatch.setattr(sys, "stdin", io.StringIO(workstation.passphrase("reviewer") + "\n"))
    monkeypatch.setattr(sys, "stdout", _ClosedPipe())
    code = cli.main(["--data-dir", str(workstation.data_dir), "--user", "reviewer", "review", "status", str(sid)])
    assert code == 141  # 128 + SIGPIPE, as a shell reports it; no traceback
    assert "Traceback" not in capsys.readouterr().err


def test_a_real_closed_pipe_prints_no_traceback(tmp_path: Path) -> None:
    """The real process, no workstation needed: `verify X --ca FILE` prints "trusting CA ..." before it
    refuses the missing folder. The reader closes its end before the command writes; before the fix
    Python reported "Exception ignored on flushing sys.stdout: BrokenPipeError" (exit 120)."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Pipe test CA")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(1).not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    ca = tmp_path / "ca.pem"
    ca.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "app", "verify", str(tmp_path / "missing"), "--ca", str(ca)],
                            cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()
    err = proc.stderr.read().decode()
    proc.wait(timeout=120)
    assert "BrokenPipeError" not in err and "Traceback" not in err, err
    assert proc.returncode == 141, err


def test_pki_identity_before_the_certificate_is_issued_is_not_a_failure(workstation, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    admin = workstation.passphrase("admin")
    code, _, err = run(monkeypatch, capsys, workstation, "admin", "user", "add", "nina", "--role", "reviewer",
                       stdin=f"{admin}\namber-first-phrase-42\n")
    assert code == 0, err
    # First sign-in: the first passphrase, then her own twice; that creates her key and a request.
    code, out, err = run(monkeypatch, capsys, workstation, "nina", "pki", "identity",
                         stdin="amber-first-phrase-42\nquiet-river-stones-8\nquiet-river-stones-8\n")
    assert code == 0, out + err
    assert "your personal key: SHA-256" in out and "no signing certificate for this account yet" in out
    assert "frontier-review pki issue nina" in out  # the next step, and that it is an administrator's


def test_user_add_says_the_refused_passphrase_is_the_new_accounts_first_one(workstation, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    code, _, err = run(monkeypatch, capsys, workstation, "admin", "user", "add", "rita2", "--role", "reviewer",
                       stdin=f"{workstation.passphrase('admin')}\nrita2-first-pass-123\n")
    assert code == 2
    assert "first passphrase for the account rita2" in err and "must not contain the username rita2" in err


def test_restore_with_the_recovery_key_says_the_refused_passphrase_is_the_new_admin_one(tmp_path, monkeypatch,  # type: ignore[no-untyped-def]
                                                                                       capsys) -> None:
    """Walk 2 (s31) #4: "error: passphrase: must not contain the username" did not say which passphrase.
    The policy is checked before the backup is read, so no backup is needed to see the refusal."""
    monkeypatch.setattr(sys, "stdin", io.StringIO("AAAA-BBBB-CCCC\nadmin-chooses-this-42\n"))
    code = cli.main(["--user", "admin", "backup", "restore", str(tmp_path / "backup"),
                     "--data-dir", str(tmp_path / "restored"), "--recovery-key"])
    err = capsys.readouterr().err
    assert code == 2
    assert "the new administrator passphrase for admin: must not contain the username admin" in err, err
    assert not (tmp_path / "restored").exists()


def test_user_enable_and_reset_say_the_refused_passphrase_is_the_accounts_first_one(workstation, monkeypatch,  # type: ignore[no-untyped-def]
                                                                                   capsys) -> None:
    admin = workstation.passphrase("admin")
    code, _, err = run(monkeypatch, capsys, workstation, "admin", "user", "reset", "reviewer2",
                       stdin=f"{admin}\nshort\n")
    assert code == 2 and "first passphrase for the account reviewer2: must be at least 12 characters" in err, err
    code, _, err = run(monkeypatch, capsys, workstation, "admin", "user", "disable", "reviewer2", stdin=f"{admin}\n")
    assert code == 0, err
    code, _, err = run(monkeypatch, capsys, workstation, "admin", "user", "enable", "reviewer2",
                       stdin=f"{admin}\nreviewer2-again-first-1\n")
    assert code == 2 and "first passphrase for the account reviewer2: must not contain the username reviewer2" in err
