"""Installer figures for docs/PERFORMANCE.md ("Installer"): lock, wheelhouse, package, install, self-test.

    python bench/bench_installer.py [--bundle DIST/frontier-review] [--keep DIR]

Builds everything for THIS project into a temporary folder (downloads ~143 MB of wheels unless pip's
cache has them), signs with a throw-away CA, installs offline into a fresh venv and runs the self-test.
--bundle also packages an existing PyInstaller bundle (build it with `build_installer.py bundle` in a
Python that has the [installer] extra) and times its self-test.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from cryptography.hazmat.primitives import serialization

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from reports import pki  # noqa: E402


def timed(label: str, cmd: list[str], figures: dict[str, str], **kw: object) -> str:
    started = time.monotonic()
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False, **kw)  # type: ignore[call-overload]
    seconds = time.monotonic() - started
    if proc.returncode != 0:
        raise SystemExit(f"{label} failed:\n{proc.stdout}\n{proc.stderr}")
    figures[label] = f"{seconds:.1f} s"
    print(f"{label}: {seconds:.1f} s", flush=True)
    return str(proc.stdout)


def mb(path: Path) -> str:
    size = path.stat().st_size if path.is_file() else sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    return f"{size / 1e6:.1f} MB"


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--bundle", help="an existing PyInstaller one-folder bundle to package and self-test")
    ap.add_argument("--keep", help="keep the build folder here")
    args = ap.parse_args()
    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="bench-installer-"))
    work.mkdir(parents=True, exist_ok=True)
    now = datetime.now(UTC)
    ca = pki.create_ca("Bench release CA", now)
    signer = pki.issue_signing_certificate(ca, "Bench Release", "release", "release", now)
    (work / "ca.pem").write_bytes(pki.cert_to_pem(ca.cert))
    (work / "signer.pem").write_bytes(pki.cert_to_pem(signer.cert))
    (work / "signer.key").write_bytes(signer.key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    tool = [sys.executable, str(ROOT / "build_installer.py")]
    # One timestamp for the whole release, fixed before the first build (a commit landing between the
    # two package runs would otherwise move the default, the last commit's time).
    os.environ.setdefault("SOURCE_DATE_EPOCH", subprocess.run(
        ["git", "-C", str(ROOT), "log", "-1", "--format=%ct"], capture_output=True, text=True).stdout.strip() or "0")
    lock, wh = work / "requirements.lock", work / "wheelhouse"
    f: dict[str, str] = {}
    timed("lock", [*tool, "lock", "--output", str(lock)], f)
    shutil.rmtree(wh, ignore_errors=True)
    timed("wheelhouse (pip cache as found)", [*tool, "wheelhouse", "--lock", str(lock), "--dest", str(wh)], f)
    sign = ["--signing-key", str(work / "signer.key"), "--signing-cert", str(work / "signer.pem")]
    bundle = ["--bundle", args.bundle] if args.bundle else []
    for run in ("1", "2"):
        timed(f"package run {run}", [*tool, "package", "--wheelhouse", str(wh), "--lock", str(lock),
                                     "--output-dir", str(work / f"pkg{run}"), *sign, *bundle], f)
    sums = [(work / f"pkg{r}" / "SHA256SUMS").read_text() for r in ("1", "2")]
    f["two package runs identical"] = str(sums[0] == sums[1])
    pkg = work / "pkg1"
    archive = next(p for p in pkg.glob("*.tar.gz") if not p.name.endswith("-bundle.tar.gz"))
    f["wheelhouse folder"] = mb(wh)
    f["package archive"] = mb(archive)
    timed("verify (openssl, before install)", [*tool, "verify", "--package-dir", str(pkg), "--ca-cert",
                                               str(work / "ca.pem"), "--signature-tool", "openssl"], f)
    venv = work / "venv"
    shutil.rmtree(venv, ignore_errors=True)
    timed("install (verify + venv + pip --no-index, no selftest)",
          [*tool, "install", "--package-dir", str(pkg), "--ca-cert", str(work / "ca.pem"), "--venv", str(venv),
           "--no-selftest"], f)
    f["installed venv"] = mb(venv)
    out = timed("selftest (installed venv)", [str(venv / "bin" / "frontier-review"), "selftest"], f)
    print(out)
    if args.bundle:
        f["bundle folder"] = mb(Path(args.bundle))
        f["bundle archive"] = mb(next(pkg.glob("*-bundle.tar.gz")))
        timed("selftest (bundle)", [str(Path(args.bundle) / "frontier-review"), "selftest"], f)
    print(f"\nmachine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"load average {os.getloadavg()[0]:.1f}")
    for k, v in f.items():
        print(f"| {k} | {v} |")
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
