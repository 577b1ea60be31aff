"""CI smoke test of the air-gapped install path for THIS project.

lock -> wheelhouse -> signed package -> install.sh (verify, pip install --no-index --require-hashes into a
fresh venv, selftest) -> `frontier-review --version` and `frontier-review selftest` from that venv.

Downloads ~143 MB of wheels from the package registry the first time (10 s on an idle 2-core machine,
but the whole test came close to 4 minutes on a loaded one), so the wheels are kept in
~/.cache/frontier-review-wheelhouse keyed by a hash of the lock's pins and reused. Every stage says what broke.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from app import __version__
from app.services import selftest
from build_installer import normalize
from reports import pki

ROOT = Path(__file__).resolve().parents[2]
# Wheels kept between runs, keyed by a hash of the lock's pins; each is checked against the lock again.
CACHE = Path(os.environ.get("FRONTIER_REVIEW_WHEEL_CACHE", "~/.cache/frontier-review-wheelhouse")).expanduser()


def _stage(stage: str, cmd: list[str], timings: dict[str, float], **kwargs: object) -> str:
    started = time.monotonic()
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False, **kwargs)  # type: ignore[call-overload]
    timings[stage] = time.monotonic() - started
    if proc.returncode != 0:
        pytest.fail(f"smoke install: stage '{stage}' failed (exit {proc.returncode})\n$ {' '.join(cmd)}\n"
                    f"--- stdout ---\n{proc.stdout[-4000:]}\n--- stderr ---\n{proc.stderr[-4000:]}", pytrace=False)
    return str(proc.stdout)


@pytest.mark.slow
@pytest.mark.timeout(1200)
def test_wheelhouse_installs_offline_and_selftest_passes(tmp_path: Path) -> None:
    now = datetime.now(UTC)
    ca = pki.create_ca("Smoke release CA", now)
    signer = pki.issue_signing_certificate(ca, "Smoke Release Engineer", "release", "release", now)
    (tmp_path / "ca.pem").write_bytes(pki.cert_to_pem(ca.cert))
    (tmp_path / "signer.pem").write_bytes(pki.cert_to_pem(signer.cert))
    (tmp_path / "signer.key").write_bytes(signer.key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    tool = [sys.executable, str(ROOT / "build_installer.py")]
    lock, wheelhouse, out = tmp_path / "requirements.lock", tmp_path / "wheelhouse", tmp_path / "package"
    t: dict[str, float] = {}

    _stage("lock", [*tool, "lock", "--output", str(lock)], t)
    _stage("wheelhouse", [*tool, "wheelhouse", "--lock", str(lock), "--dest", str(wheelhouse), "--cache", str(CACHE)], t)
    _stage("package", [*tool, "package", "--wheelhouse", str(wheelhouse), "--lock", str(lock), "--output-dir",
                       str(out), "--signing-key", str(tmp_path / "signer.key"), "--signing-cert",
                       str(tmp_path / "signer.pem")], t)
    venv = tmp_path / "venv"
    env = dict(os.environ, PYTHON=sys.executable)
    installed = _stage("install.sh (verify, offline pip install, selftest)",
                       ["sh", str(out / "install.sh"), "--ca-cert", str(tmp_path / "ca.pem"), "--venv", str(venv)],
                       t, env=env)
    assert "verified frontier-review-" in installed and "self-test passed" in installed, installed

    exe = str(venv / "bin" / "frontier-review")
    version = _stage("frontier-review --version", [exe, "--version"], t)
    assert version.strip() == f"frontier-review {__version__}"
    # install.sh ran `frontier-review selftest` from the new venv; every step passed there (not run twice)
    passed = [line for line in installed.splitlines() if line.startswith("PASS")]
    assert len(passed) == len(selftest.STEPS), f"install.sh output:\n{installed}"

    # the venv holds exactly what the signed lock pinned (plus pip itself), nothing fetched from elsewhere
    frozen = _stage("pip freeze", [str(venv / "bin" / "python"), "-m", "pip", "freeze", "--all"], t)
    pinned = {line.split(" ")[0] for line in lock.read_text().splitlines() if "==" in line}
    pinned.add(f"frontier-review=={__version__}")
    have = {f"{normalize(n)}=={v}" for n, v in (line.split("==") for line in frozen.splitlines())
            if n != "pip"}
    assert have == pinned, f"installed but not pinned: {have - pinned}; pinned but not installed: {pinned - have}"
    print("smoke install timings: " + ", ".join(f"{k} {v:.1f} s" for k, v in t.items()))
