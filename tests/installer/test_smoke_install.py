"""CI smoke test of the air-gapped install path for THIS project.

lock -> wheelhouse -> signed package -> install.sh (verify, pip install --no-index --require-hashes into a
fresh venv, selftest) -> `frontier-review --version` and `frontier-review selftest` from that venv.

Reaches the package index (the only test in the suite that does so for the real project), because:
- `lock` runs pip's resolver over the index for pyproject.toml's dependencies. The lock is kept in
  ~/.cache/frontier-review-wheelhouse/locks keyed by a hash of pyproject.toml, build_installer.py and the
  target, so it is resolved again only when one of them changes (15 s of CPU otherwise; `lock` itself is
  tested on every run in test_build_installer.py).
- `wheelhouse` downloads ~160 MB of wheels the first time (kept in ~/.cache/frontier-review-wheelhouse
  keyed by a hash of the lock's pins and each checked against the lock again) and builds the project's
  wheel with build isolation, which fetches setuptools from the index on every run.
install.sh itself runs with pip seeing no index (`--no-index`, no configuration file). Every stage says what
broke and prints its wall and CPU time.

The self-test that install.sh runs derives its keys at the tests' low PBKDF2 count (as conftest.fast_kdf and
the demo child in test_demo_cleanup.py): a sitecustomize.py on PYTHONPATH lowers it in that one process. At
the production 600,000 iterations its derivations were about 12 s of the install stage's 41 s of CPU, and the
count is not what the self-test proves. The installed product's production count is checked here once, with a
real derivation each way, in a process without the hook.
"""

from __future__ import annotations

import hashlib
import os
import resource
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

import storage.keys
from app import __version__
from app.services import selftest
from build_installer import BuildError, Target, normalize, read_lock
from reports import pki

ROOT = Path(__file__).resolve().parents[2]
# Wheels kept between runs, keyed by a hash of the lock's pins; each is checked against the lock again.
CACHE = Path(os.environ.get("FRONTIER_REVIEW_WHEEL_CACHE", "~/.cache/frontier-review-wheelhouse")).expanduser()


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _stage(stage: str, cmd: list[str], timings: dict[str, str], **kwargs: object) -> str:
    return _stage_run(stage, cmd, timings, **kwargs).stdout


def _stage_run(stage: str, cmd: list[str], timings: dict[str, str],
               **kwargs: object) -> subprocess.CompletedProcess[str]:
    started, cpu = time.monotonic(), _children_cpu()
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False, **kwargs)  # type: ignore[call-overload]
    timings[stage] = f"{time.monotonic() - started:.1f} s wall {_children_cpu() - cpu:.1f} s CPU"
    if proc.returncode != 0:
        pytest.fail(f"smoke install: stage '{stage}' failed (exit {proc.returncode})\n$ {' '.join(cmd)}\n"
                    f"--- stdout ---\n{proc.stdout[-4000:]}\n--- stderr ---\n{proc.stderr[-4000:]}", pytrace=False)
    return proc


# Imported by every Python that install.sh starts (PYTHONPATH); acts only in the installed
# `frontier-review selftest`, after site-packages is on sys.path, so storage.keys is the installed one.
LOW_KDF_SITECUSTOMIZE = """\
import sys
if sys.argv == [{exe!r}, "selftest"]:
    import storage.keys
    storage.keys.DEFAULT_ITERATIONS = 1000
    print(f"smoke test: self-test KDF at 1000 iterations in {{storage.keys.__file__}}", file=sys.stderr)
"""
LOW_KDF_NOTE = "smoke test: self-test KDF at 1000 iterations in "

# The installed product, in a process without the hook: its default is the production count, and a slot made
# at that count (one real 600,000-iteration derivation each way) unlocks. The only full-cost derivation in
# the suite; tests/unit/test_keys.py checks MIN_ITERATIONS itself. Then every distribution in the venv, as
# `pip freeze --all` lists them (the same .dist-info metadata, without starting pip: 0.8 s of CPU).
INSTALLED_CHECK = """\
import importlib.metadata, secrets, storage.keys as k
assert k.DEFAULT_ITERATIONS == k.MIN_ITERATIONS >= 600_000, (k.DEFAULT_ITERATIONS, k.MIN_ITERATIONS)
header, key = k.KeyHeader.new(k.PASSPHRASE_MODE, "2026-01-01T00:00:00Z"), secrets.token_bytes(32)
header.set_passphrase_slot("admin", "smoke passphrase", key, None)
stored = k.KeyHeader.parse(header.to_json(), "smoke header")
assert stored.slots["admin"].iterations == k.MIN_ITERATIONS, stored.slots["admin"]
assert stored.unwrap_passphrase("admin", "smoke passphrase", None) == key
print(f"{stored.slots['admin'].iterations} iterations from {k.__file__}")
for dist in importlib.metadata.distributions():
    print(f"{dist.metadata['Name']}=={dist.version}")
"""


def _lock_key() -> str:
    """What the lock depends on besides the index: pyproject.toml, the code that writes it, the target."""
    h = hashlib.sha256(Target().describe().encode())
    for f in ("pyproject.toml", "build_installer.py"):
        h.update(hashlib.sha256((ROOT / f).read_bytes()).digest())
    return h.hexdigest()[:16]


def _cached_lock(lock: Path, tool: list[str], timings: dict[str, str]) -> None:
    """`lock` for this tree, or its earlier result for the same inputs (checked: it must parse and name
    this pyproject.toml's digest, else it is made again)."""
    kept = CACHE / "locks" / f"{_lock_key()}.lock"
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    try:
        read_lock(kept)
        if f"# from: pyproject.toml sha256 {digest} " in kept.read_text(encoding="utf-8"):
            shutil.copyfile(kept, lock)
            timings["lock"] = f"reused {kept}"
            return
    except BuildError:
        pass  # missing or damaged: resolve again
    _stage("lock", [*tool, "lock", "--output", str(lock)], timings)
    kept.parent.mkdir(parents=True, exist_ok=True)
    tmp = kept.with_name(f"{kept.name}.{os.getpid()}.tmp")
    shutil.copyfile(lock, tmp)
    tmp.replace(kept)


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
    t: dict[str, str] = {}

    _cached_lock(lock, tool, t)
    _stage("wheelhouse", [*tool, "wheelhouse", "--lock", str(lock), "--dest", str(wheelhouse), "--cache", str(CACHE)], t)
    _stage("package", [*tool, "package", "--wheelhouse", str(wheelhouse), "--lock", str(lock), "--output-dir",
                       str(out), "--signing-key", str(tmp_path / "signer.key"), "--signing-cert",
                       str(tmp_path / "signer.pem")], t)
    venv = tmp_path / "venv"
    hook = tmp_path / "low-kdf"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(LOW_KDF_SITECUSTOMIZE.format(exe=str(venv / "bin" / "frontier-review")))
    env = dict(os.environ, PYTHON=sys.executable, PYTHONDONTWRITEBYTECODE="1",  # any .pyc below came from pip
               PYTHONPATH=str(hook))
    # --no-compile: byte-compiling ~3,400 installed modules was 19 s of the install's 29 s of CPU and proves
    # nothing here (pip only warns when a module fails to compile); the selftest compiles what it imports.
    proc = _stage_run("install.sh (verify, offline pip install, selftest)",
                      ["sh", str(out / "install.sh"), "--ca-cert", str(tmp_path / "ca.pem"), "--venv", str(venv),
                       "--no-compile"], t, env=env)
    installed = proc.stdout
    assert "verified frontier-review-" in installed and "self-test passed" in installed, installed
    site_packages = next(venv.glob("lib/python*/site-packages"))
    assert f"{LOW_KDF_NOTE}{site_packages / 'storage' / 'keys.py'}" in proc.stderr, proc.stderr[-4000:]

    assert not list(venv.glob("lib/python*/site-packages/app/__pycache__")), "--no-compile did not reach pip"

    exe = str(venv / "bin" / "frontier-review")
    version = _stage("frontier-review --version", [exe, "--version"], t)
    assert version.strip() == f"frontier-review {__version__}"
    # -I: neither PYTHONPATH (the hook) nor the current folder (this checkout's storage/) on sys.path; -B: -I
    # ignores PYTHONDONTWRITEBYTECODE, and the venv stays as pip left it
    kdf, *frozen = _stage("production KDF, installed distributions",
                          [str(venv / "bin" / "python"), "-I", "-B", "-c", INSTALLED_CHECK], t).splitlines()
    assert kdf == f"{storage.keys.MIN_ITERATIONS} iterations from {site_packages / 'storage' / 'keys.py'}", kdf
    # install.sh ran `frontier-review selftest` from the new venv; every step passed there (not run twice)
    passed = [line for line in installed.splitlines() if line.startswith("PASS")]
    assert len(passed) == len(selftest.STEPS), f"install.sh output:\n{installed}"

    # the venv holds exactly what the signed lock pinned (plus pip itself), nothing fetched from elsewhere
    pinned = {line.split(" ")[0] for line in lock.read_text().splitlines() if "==" in line}
    pinned.add(f"frontier-review=={__version__}")
    have = {f"{normalize(n)}=={v}" for n, v in (line.split("==") for line in frozen) if n != "pip"}
    assert len(have) == len(frozen) - 1, f"pip missing or a distribution twice: {sorted(frozen)}"
    assert have == pinned, f"installed but not pinned: {have - pinned}; pinned but not installed: {pinned - have}"
    print("smoke install timings: " + "; ".join(f"{k} {v}" for k, v in t.items()))
