#!/usr/bin/env python3
"""Offline installer builder for the Frontier Review Workstation.

The workstation has no network, so the application reaches it as a package on removable media:

    lock        pyproject.toml -> requirements.lock (full dependency closure, one sha256 per wheel)
    wheelhouse  requirements.lock -> a folder with every wheel for the target, plus the project's wheel
    bundle      PyInstaller one-folder application (runs without a Python installation)
    package     deterministic tar.gz + SHA256SUMS + detached CMS signature over SHA256SUMS
    verify      on the target, before installing: hashes, signature against a CA certificate, contents
    install     verify, then pip install --no-index --require-hashes into a fresh venv, then selftest

`verify` and `install` use only the standard library (plus `openssl` for the signature when the
project's own `reports` package is not importable), because they run on the target before anything
is installed. Reproducibility follows Electrum's contrib/deterministic-build: pinned hashes, sorted
archive entries, fixed timestamps (SOURCE_DATE_EPOCH), fixed owners and modes, gzip mtime 0.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import tempfile
import time
import tomllib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

ROOT = Path(__file__).resolve().parent
PROJECT = "frontier-review"
LOCK_NAME = "requirements.lock"
SUMS_NAME = "SHA256SUMS"
SIG_NAME = "SHA256SUMS.p7s"
INSTALL_SCRIPT = "install.sh"
WHEELHOUSE = "wheelhouse"
# 1980-01-01: the earliest time a zip (wheel) can carry; used when neither SOURCE_DATE_EPOCH nor git tells.
FALLBACK_EPOCH = 315532800
# Qt modules the application never uses: a browser engine and QML/3D/multimedia stacks are attack
# surface (and hundreds of MB) that an isolated workstation does not need.
QT_EXCLUDES = (
    "PySide6.QtWebEngineCore", "PySide6.QtWebEngineWidgets", "PySide6.QtWebEngineQuick", "PySide6.QtWebChannel",
    "PySide6.QtWebSockets", "PySide6.QtWebView", "PySide6.QtNetworkAuth", "PySide6.QtQuick", "PySide6.QtQuick3D",
    "PySide6.QtQuickWidgets", "PySide6.QtQml", "PySide6.Qt3DCore", "PySide6.Qt3DRender", "PySide6.QtMultimedia",
    "PySide6.QtMultimediaWidgets", "PySide6.QtBluetooth", "PySide6.QtNfc", "PySide6.QtPositioning",
    "PySide6.QtLocation", "PySide6.QtSerialPort", "PySide6.QtSensors", "PySide6.QtRemoteObjects",
    "PySide6.QtDesigner", "PySide6.QtHelp", "PySide6.QtSql", "PySide6.QtTest", "PySide6.QtCharts",
    "PySide6.QtDataVisualization", "PySide6.QtGraphs", "PySide6.QtScxml", "PySide6.QtTextToSpeech",
    "PySide6.QtHttpServer", "PySide6.QtSpatialAudio", "tkinter", "pytest", "hypothesis", "mypy",
)
# (source inside the project, destination inside the bundle): data the application reads at run time.
BUNDLE_DATA = (
    ("reports/fonts", "reports/fonts"),
    ("reports/schemas", "reports/schemas"),
    ("app/templates", "app/templates"),
    ("app/rulesets", "app/rulesets"),
    ("app/checklists", "app/checklists"),
    ("app/selftest_data", "app/selftest_data"),
    ("storage/migrations", "storage/migrations"),
)


class BuildError(Exception):
    """A failure with a message for the person running the build (names the file and the problem)."""


# -- small helpers ------------------------------------------------------------------------------------


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def normalize(name: str) -> str:
    """PEP 503 project name normalisation."""
    return re.sub(r"[-_.]+", "-", name).lower()


def wheel_name_version(filename: str) -> tuple[str, str]:
    """(normalised name, version) from a wheel file name (PEP 427)."""
    parts = filename[: -len(".whl")].split("-")
    if not filename.endswith(".whl") or len(parts) < 5:
        raise BuildError(f"{filename}: not a wheel file name (name-version-python-abi-platform.whl)")
    return normalize(parts[0]), parts[1]


def source_date_epoch(project_dir: Path = ROOT) -> int:
    """SOURCE_DATE_EPOCH if set, else the last commit's time, else a fixed 1980 date."""
    env = os.environ.get("SOURCE_DATE_EPOCH")
    if env:
        try:
            return int(env)
        except ValueError:
            raise BuildError(f"SOURCE_DATE_EPOCH={env!r} is not an integer number of seconds") from None
    try:
        out = subprocess.run(["git", "-C", str(project_dir), "log", "-1", "--format=%ct"],
                             capture_output=True, text=True, check=True, timeout=30).stdout.strip()
        return int(out) if out else FALLBACK_EPOCH
    except (OSError, subprocess.SubprocessError, ValueError):
        return FALLBACK_EPOCH


def source_commit(project_dir: Path = ROOT) -> str:
    """The commit the wheel is built from (shown in Help > About), '' outside a git checkout."""
    try:
        return subprocess.run(["git", "-C", str(project_dir), "rev-parse", "HEAD"], capture_output=True,
                              text=True, check=True, timeout=30).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def run(cmd: Sequence[str], what: str, env: dict[str, str] | None = None, cwd: Path | None = None,
        quiet: bool = False) -> subprocess.CompletedProcess[str]:
    """Run a command; on failure raise BuildError with `what` and the command's last output lines."""
    if not quiet:
        print("+ " + " ".join(cmd), file=sys.stderr, flush=True)
    proc = subprocess.run(list(cmd), capture_output=True, text=True, env=env, cwd=cwd, check=False)
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-25:])
        raise BuildError(f"{what} failed (exit {proc.returncode}): {' '.join(cmd)}\n{tail}")
    return proc


def clean_pip_env() -> dict[str, str]:
    """Environment for a pip that must not see any index or find-links from the build machine's config."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    env["PIP_CONFIG_FILE"] = os.devnull  # pip then loads no configuration file at all
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return env


# -- target platform -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """Where the wheels will be installed. Empty platforms means this machine's own platform."""

    python_version: str = f"{sys.version_info.major}.{sys.version_info.minor}"
    platforms: tuple[str, ...] = ()
    implementation: str = "cp"

    def pip_args(self) -> list[str]:
        native = not self.platforms and self.python_version == f"{sys.version_info.major}.{sys.version_info.minor}"
        if native:
            return ["--only-binary=:all:"]
        args = ["--only-binary=:all:", "--python-version", self.python_version, "--implementation", self.implementation]
        for p in self.platforms:
            args += ["--platform", p]
        return args

    def describe(self) -> str:
        plats = ",".join(self.platforms) if self.platforms else f"native ({sysconfig.get_platform()})"
        return f"python={self.python_version} implementation={self.implementation} platforms={plats}"

    def tag(self) -> str:
        plat = self.platforms[0] if self.platforms else sysconfig.get_platform()
        return f"py{self.python_version.replace('.', '')}-{re.sub(r'[^A-Za-z0-9_]+', '_', plat)}"


def add_target_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--python-version", default=Target().python_version,
                   help="target Python X.Y (default: the running interpreter's)")
    p.add_argument("--platform", dest="platforms", action="append", default=[],
                   help="target wheel platform tag, e.g. manylinux_2_34_x86_64 (repeatable; default: this machine)")


def target_from(args: argparse.Namespace) -> Target:
    return Target(args.python_version, tuple(args.platforms))


# -- lock -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Pin:
    name: str  # normalised
    version: str
    sha256: str

    def line(self) -> str:
        return f"{self.name}=={self.version} \\\n    --hash=sha256:{self.sha256}"


_REQ = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s\\;]+)\s*\\?$")
_HASH = re.compile(r"^--hash=sha256:([0-9a-f]{64})\s*\\?$")


def read_lock(path: Path) -> list[Pin]:
    """Parse a lock written by `lock` (name==version followed by exactly one --hash line)."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise BuildError(f"{path}: cannot read the lock file ({exc.strerror})") from None
    pins: list[Pin] = []
    pending: tuple[str, str, int] | None = None
    for no, raw in enumerate(lines, 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if m := _REQ.match(line):
            if pending:
                raise BuildError(f"{path}:{pending[2]}: {pending[0]}=={pending[1]} has no --hash line")
            pending = (normalize(m.group(1)), m.group(2), no)
        elif (h := _HASH.match(line)) and pending:
            pins.append(Pin(pending[0], pending[1], h.group(1)))
            pending = None
        else:
            raise BuildError(f"{path}:{no}: not a pinned requirement or sha256 hash line: {line!r}")
    if pending:
        raise BuildError(f"{path}:{pending[2]}: {pending[0]}=={pending[1]} has no --hash line")
    if not pins:
        raise BuildError(f"{path}: the lock file pins nothing")
    return pins


def write_lock(path: Path, pins: Iterable[Pin], header: Sequence[str]) -> None:
    body = "\n".join(p.line() for p in sorted(pins, key=lambda p: p.name))
    text = "".join(f"# {h}\n" for h in header) + body + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


def project_requirements(pyproject: Path, extras: Sequence[str]) -> tuple[str, str, list[str]]:
    """(name, version, requirement strings) from pyproject.toml's [project] table."""
    try:
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except OSError as exc:
        raise BuildError(f"{pyproject}: cannot read ({exc.strerror})") from None
    except tomllib.TOMLDecodeError as exc:
        raise BuildError(f"{pyproject}: not valid TOML ({exc})") from None
    project = data.get("project")
    if not isinstance(project, dict) or "name" not in project or "version" not in project:
        raise BuildError(f"{pyproject}: needs a [project] table with a name and a static version")
    reqs = list(project.get("dependencies", []))
    optional = project.get("optional-dependencies", {})
    for extra in extras:
        if extra not in optional:
            raise BuildError(f"{pyproject}: no optional dependency group [{extra}] (have: {', '.join(optional)})")
        reqs += optional[extra]
    return str(project["name"]), str(project["version"]), reqs


def resolve(requirements: Sequence[str], target: Target, python: str = sys.executable) -> list[Pin]:
    """Resolve the full closure for the target with pip's resolver (dry run, report with hashes)."""
    with tempfile.TemporaryDirectory(prefix="fr-lock-") as tmp:
        report = Path(tmp) / "report.json"
        cmd = [python, "-m", "pip", "install", "--dry-run", "--ignore-installed", "--quiet",
               "--report", str(report), *target.pip_args(), *requirements]
        run(cmd, "resolving the dependency closure")
        data = json.loads(report.read_text(encoding="utf-8"))
        pins: list[Pin] = []
        missing: list[tuple[str, str]] = []
        for item in data.get("install", []):
            name, version = normalize(item["metadata"]["name"]), item["metadata"]["version"]
            info = item.get("download_info", {})
            if not info.get("url", "").split("#")[0].endswith(".whl"):
                raise BuildError(f"{name}=={version}: no wheel for {target.describe()} (only {info.get('url')})")
            digest = info.get("archive_info", {}).get("hashes", {}).get("sha256")
            if digest:
                pins.append(Pin(name, version, digest))
            else:
                missing.append((name, version))
        if missing:  # an index that publishes no hashes: download those wheels and hash them here
            dest = Path(tmp) / "dl"
            run([python, "-m", "pip", "download", "--quiet", "--no-deps", "-d", str(dest), *target.pip_args(),
                 *[f"{n}=={v}" for n, v in missing]], "downloading wheels to hash them")
            for whl in sorted(dest.glob("*.whl")):
                n, v = wheel_name_version(whl.name)
                pins.append(Pin(n, v, sha256_file(whl)))
        return pins


def cmd_lock(args: argparse.Namespace) -> int:
    pyproject = Path(args.pyproject)
    name, version, reqs = project_requirements(pyproject, args.extra)
    target = target_from(args)
    pins = [p for p in resolve(reqs, target) if p.name != normalize(name)]
    digest = hashlib.sha256(pyproject.read_bytes()).hexdigest()
    header = [f"{name} {version}: every wheel for the target, pinned by sha256 (build_installer.py lock).",
              f"target: {target.describe()}",
              f"from: pyproject.toml sha256 {digest} extras [{','.join(args.extra)}]",
              "install: pip install --no-index --find-links wheelhouse --require-hashes -r requirements.lock"]
    write_lock(Path(args.output), pins, header)
    print(f"wrote {args.output}: {len(pins)} pinned wheels for {target.describe()}")
    return 0


# -- wheelhouse -----------------------------------------------------------------------------------

_SOURCE_IGNORE = shutil.ignore_patterns(".git", "__pycache__", "*.pyc", ".venv", "venv", "build", "dist",
                                        "*.egg-info", ".mypy_cache", ".ruff_cache", ".pytest_cache",
                                        ".import_linter_cache", "tests", "bench", "docs")


def build_project_wheel(project_dir: Path, dest: Path, epoch: int, python: str = sys.executable) -> Path:
    """Build the project's wheel from a clean copy of the tree (no stale build/ from earlier runs)."""
    with tempfile.TemporaryDirectory(prefix="fr-src-") as tmp:
        src = Path(tmp) / "src"
        shutil.copytree(project_dir, src, ignore=_SOURCE_IGNORE)
        # Help > About names the commit a release was built from (app/build_info.py reads this file).
        commit = source_commit(project_dir)
        if commit:
            (src / "app" / "BUILD.txt").write_text(commit + "\n", encoding="utf-8")
        out = Path(tmp) / "out"
        env = dict(os.environ, SOURCE_DATE_EPOCH=str(epoch))
        run([python, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(out), str(src)],
            f"building the wheel of {project_dir}", env=env)
        wheels = list(out.glob("*.whl"))
        if len(wheels) != 1:
            raise BuildError(f"building {project_dir} gave {len(wheels)} wheels, expected exactly one")
        dest.mkdir(parents=True, exist_ok=True)
        final = dest / wheels[0].name
        shutil.copyfile(wheels[0], final)
        return final


def cache_key(pins: Sequence[Pin]) -> str:
    """The wheel cache's folder for a lock: a hash of its pins only. The lock's header names the
    pyproject.toml digest, which changes with any edit of that file (a test setting, a dev tool) and
    would empty the cache although not one wheel changed."""
    return hashlib.sha256("\n".join(sorted(p.line() for p in pins)).encode()).hexdigest()[:16]


def cmd_wheelhouse(args: argparse.Namespace) -> int:
    lock, dest, target = Path(args.lock), Path(args.dest), target_from(args)
    pins = read_lock(lock)
    dest.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    cache = Path(args.cache).expanduser() / cache_key(pins) if args.cache else None
    reused = _from_cache(cache, dest, pins) if cache else 0
    if reused < len(pins):  # pip skips files already in dest whose hash matches the lock
        run([sys.executable, "-m", "pip", "download", "--quiet", "--require-hashes", "--no-deps", "-d", str(dest),
             *target.pip_args(), "-r", str(lock)], f"downloading the wheels pinned in {lock}")
    wheel = build_project_wheel(Path(args.project_dir), dest, source_date_epoch(Path(args.project_dir)))
    wanted = {(p.name, p.version) for p in pins} | {wheel_name_version(wheel.name)}
    for f in sorted(dest.iterdir()):  # drop leftovers of earlier runs so the package holds only the lock
        if f.suffix != ".whl" or wheel_name_version(f.name) not in wanted:
            print(f"removing {f} (not in {lock})", file=sys.stderr)
            f.unlink()
    check_wheelhouse(dest, pins)
    if cache and reused < len(pins):
        _to_cache(cache, dest, pins)
    total = sum(f.stat().st_size for f in dest.glob("*.whl"))
    print(f"wheelhouse {dest}: {len(pins) + 1} wheels, {total / 1e6:.1f} MB, {time.monotonic() - started:.1f} s")
    return 0


def _from_cache(cache: Path, dest: Path, pins: Sequence[Pin]) -> int:
    """Copy cached wheels whose hash is pinned into dest; returns how many pins were satisfied."""
    wanted = {p.sha256 for p in pins}
    found = 0
    for f in sorted(cache.glob("*.whl")) if cache.is_dir() else []:
        if sha256_file(f) in wanted:  # never trust the cache: only a pinned hash counts
            shutil.copyfile(f, dest / f.name)
            found += 1
    if found:
        print(f"reused {found} of {len(pins)} wheels from {cache}", file=sys.stderr)
    return found


def _to_cache(cache: Path, dest: Path, pins: Sequence[Pin]) -> None:
    cache.mkdir(parents=True, exist_ok=True)
    pinned = {(p.name, p.version) for p in pins}
    for f in dest.glob("*.whl"):
        if wheel_name_version(f.name) in pinned:
            tmp = cache / (f.name + ".tmp")
            shutil.copyfile(f, tmp)
            tmp.replace(cache / f.name)


def check_wheelhouse(wheelhouse: Path, pins: Sequence[Pin]) -> None:
    """Every pinned wheel is present with its pinned hash."""
    present: dict[tuple[str, str], list[Path]] = {}
    for f in wheelhouse.glob("*.whl"):
        present.setdefault(wheel_name_version(f.name), []).append(f)
    for p in pins:
        files = present.get((p.name, p.version), [])
        if not any(sha256_file(f) == p.sha256 for f in files):
            found = ", ".join(f.name for f in files) or "no wheel"
            raise BuildError(f"{wheelhouse}: {p.name}=={p.version} with sha256 {p.sha256[:16]}... is missing "
                             f"(found: {found})")


# -- deterministic archives -----------------------------------------------------------------------


def _tarinfo(name: str, size: int, mode: int, epoch: int, kind: bytes = tarfile.REGTYPE) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime, info.type = size, mode, epoch, kind
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    return info


def _link_stays_inside(arcname: str, target: str, top: str) -> bool:
    """A relative link whose target, resolved from the link's folder, is still under `top`."""
    if target.startswith("/"):
        return False
    parts: list[str] = []
    for part in [*PurePosixPath(arcname).parent.parts, *PurePosixPath(target).parts]:
        if part == "..":
            if not parts:
                return False
            parts.pop()
        elif part != ".":
            parts.append(part)
    return bool(parts) and parts[0] == top and len(parts) > 1


def _walk(src: Path) -> Iterator[Path]:
    yield from sorted(src.rglob("*"), key=lambda q: q.relative_to(src).as_posix())


def deterministic_tar_gz(out: Path, members: Sequence[tuple[str, Path | bytes]], epoch: int,
                         compresslevel: int = 6) -> str:
    """Write a reproducible .tar.gz; members are (archive path, file or bytes). Returns its sha256.

    Entries sorted by path, parent folders added explicitly, mtime = epoch, uid/gid 0 without names,
    modes 0644 (0755 for folders and executables), gzip header without name and with mtime 0.
    `compresslevel` 0 writes stored gzip blocks: still a .tar.gz every tool reads, for members that
    are compressed already.
    """
    files: dict[str, Path | bytes] = {}
    links: dict[str, str] = {}
    for name, src in members:
        if isinstance(src, Path) and src.is_dir():
            for p in _walk(src):
                arcname = f"{name}/{p.relative_to(src).as_posix()}"
                if p.is_symlink():  # PyInstaller links shared libraries; keep links that stay inside
                    target = os.readlink(p)
                    if not _link_stays_inside(arcname, target, name):
                        raise BuildError(f"{p}: symbolic link to {target} points outside {src}")
                    links[arcname] = target
                elif p.is_file():
                    files[arcname] = p
        else:
            files[name] = src
    dirs = sorted({str(parent) for n in [*files, *links] for parent in PurePosixPath(n).parents
                   if str(parent) != "."})
    entries: list[tuple[str, Path | bytes | str | None]] = [(d, None) for d in dirs]
    entries = sorted(entries + list(files.items()) + list(links.items()), key=lambda e: e[0])
    tmp = out.with_name(out.name + ".tmp")
    with tmp.open("wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0,
                                                 compresslevel=compresslevel) as gz, \
            tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for arcname, item in entries:
            if item is None:
                tar.addfile(_tarinfo(arcname, 0, 0o755, epoch, tarfile.DIRTYPE))
            elif isinstance(item, str):
                link = _tarinfo(arcname, 0, 0o777, epoch, tarfile.SYMTYPE)
                link.linkname = item
                tar.addfile(link)
            elif isinstance(item, bytes):
                tar.addfile(_tarinfo(arcname, len(item), 0o644, epoch), io.BytesIO(item))
            else:
                mode = 0o755 if item.stat().st_mode & 0o111 else 0o644
                with item.open("rb") as f:
                    tar.addfile(_tarinfo(arcname, item.stat().st_size, mode, epoch), f)
    tmp.replace(out)
    return sha256_file(out)


def write_sums(path: Path, entries: dict[str, str]) -> bytes:
    """sha256sum -c compatible: '<hex>  <name>' sorted by name."""
    data = "".join(f"{digest}  {name}\n" for name, digest in sorted(entries.items())).encode()
    path.write_bytes(data)
    return data


def read_sums(path: Path) -> dict[str, str]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise BuildError(f"{path}: cannot read ({exc.strerror})") from None
    sums: dict[str, str] = {}
    for no, line in enumerate(text.splitlines(), 1):
        m = re.fullmatch(r"([0-9a-f]{64}) [ *]([^/\\]+)", line)
        if not m or m.group(2) in (".", ".."):
            raise BuildError(f"{path}:{no}: not a '<sha256>  <file name>' line: {line!r}")
        sums[m.group(2)] = m.group(1)
    if not sums:
        raise BuildError(f"{path}: lists no files")
    return sums


# -- package ---------------------------------------------------------------------------------------


def install_lock_text(lock: Path, wheelhouse: Path) -> bytes:
    """The lock shipped in the package: the dependency lock plus the project's own wheel(s), hash-pinned."""
    pins = read_lock(lock)
    check_wheelhouse(wheelhouse, pins)
    locked = {(p.name, p.version) for p in pins}
    extra = [Pin(*wheel_name_version(f.name), sha256_file(f)) for f in sorted(wheelhouse.glob("*.whl"))
             if wheel_name_version(f.name) not in locked]
    if not extra:
        raise BuildError(f"{wheelhouse}: holds no wheel of the project itself (run `build_installer.py wheelhouse`)")
    header = [line[2:] for line in lock.read_text(encoding="utf-8").splitlines() if line.startswith("# ")]
    body = "".join(f"# {h}\n" for h in header)
    body += "\n".join(p.line() for p in sorted([*pins, *extra], key=lambda p: p.name)) + "\n"
    return body.encode()


@dataclass(frozen=True)
class SigningIdentity:
    key_pem: Path
    cert_pem: Path
    chain_pem: Path | None = None
    password_file: Path | None = None


def sign_sums(data: bytes, identity: SigningIdentity) -> bytes:
    """Detached CMS signature (reports/detached.py) over SHA256SUMS with a PEM key and certificate."""
    try:
        from cryptography.hazmat.primitives.serialization import load_pem_private_key

        from reports import detached, pki
    except ImportError as exc:
        raise BuildError(f"signing needs the project's dependencies (cryptography, pyHanko): {exc}") from None
    password = identity.password_file.read_bytes().rstrip(b"\r\n") if identity.password_file else None
    try:
        key = load_pem_private_key(identity.key_pem.read_bytes(), password)
    except (OSError, ValueError, TypeError) as exc:
        raise BuildError(f"{identity.key_pem}: cannot load the PEM signing key ({exc})") from None
    cert = pki.cert_from_bytes(identity.cert_pem.read_bytes(), str(identity.cert_pem))
    chain = pki.certs_from_pem(identity.chain_pem.read_bytes(), str(identity.chain_pem)) if identity.chain_pem else []
    return detached.sign_detached(data, key, cert, chain)  # type: ignore[arg-type]


@dataclass
class PackageResult:
    out_dir: Path
    archive: Path
    archive_sha256: str
    sums: Path
    signature: Path | None
    extra: list[Path] = field(default_factory=list)


def package(wheelhouse: Path, lock: Path, out_dir: Path, name: str, epoch: int,
            identity: SigningIdentity | None, bundle: Path | None = None) -> PackageResult:
    out_dir.mkdir(parents=True, exist_ok=True)
    lock_bytes = install_lock_text(lock, wheelhouse)
    members: list[tuple[str, Path | bytes]] = [(f"{name}/{LOCK_NAME}", lock_bytes)]
    members += [(f"{name}/{WHEELHOUSE}/{f.name}", f) for f in sorted(wheelhouse.glob("*.whl"))]
    archive = out_dir / f"{name}.tar.gz"
    # Wheels are zip-deflated already: gzip -6 over them saved 2 % (160.0 -> 156.6 MB) for 6 s of CPU
    # here and more on every verify and install; stored blocks cost 0.5 s. The bundle (raw .so files,
    # 400 -> 121 MB) keeps level 6.
    digest = deterministic_tar_gz(archive, members, epoch, compresslevel=0)
    sums = {archive.name: digest}
    extra: list[Path] = []
    if bundle is not None:
        if not (bundle / PROJECT).is_file():
            raise BuildError(f"{bundle}: not a PyInstaller one-folder bundle (no '{PROJECT}' executable inside)")
        barchive = out_dir / f"{name}-bundle.tar.gz"
        sums[barchive.name] = deterministic_tar_gz(barchive, [(f"{name}-bundle", bundle)], epoch)
        extra.append(barchive)
    # The verifier and the install script travel beside the archive and are covered by the signature.
    for helper in (Path(__file__).resolve(), ROOT / "installer" / INSTALL_SCRIPT):
        dest = out_dir / helper.name
        if helper.resolve() != dest.resolve():
            shutil.copyfile(helper, dest)
        dest.chmod(0o755)
        sums[dest.name] = sha256_file(dest)
        extra.append(dest)
    sums_path = out_dir / SUMS_NAME
    data = write_sums(sums_path, sums)
    sig_path = out_dir / SIG_NAME
    if identity is None:
        sig_path.unlink(missing_ok=True)
        return PackageResult(out_dir, archive, digest, sums_path, None, extra)
    sig_path.write_bytes(sign_sums(data, identity))
    return PackageResult(out_dir, archive, digest, sums_path, sig_path, extra)


def cmd_package(args: argparse.Namespace) -> int:
    if not args.unsigned and not (args.signing_key and args.signing_cert):
        raise BuildError("package needs --signing-key KEY.pem and --signing-cert CERT.pem (a PEM private key and "
                         "its certificate) for the detached signature over SHA256SUMS; pass --unsigned to build "
                         "an unsigned test package that `verify` will refuse")
    identity = None if args.unsigned else SigningIdentity(
        Path(args.signing_key), Path(args.signing_cert), Path(args.chain) if args.chain else None,
        Path(args.key_password_file) if args.key_password_file else None)
    _, version, _ = project_requirements(Path(args.pyproject), [])
    name = args.name or f"{PROJECT}-{version}-{target_from(args).tag()}"
    epoch = source_date_epoch(ROOT)
    started = time.monotonic()
    result = package(Path(args.wheelhouse), Path(args.lock), Path(args.output_dir), name, epoch, identity,
                     Path(args.bundle) if args.bundle else None)
    size = result.archive.stat().st_size
    print(f"{result.archive}: {size / 1e6:.1f} MB sha256 {result.archive_sha256} "
          f"(SOURCE_DATE_EPOCH={epoch}, {time.monotonic() - started:.1f} s)")
    for p in result.extra:
        print(f"{p}: {p.stat().st_size / 1e6:.1f} MB")
    print(f"{result.sums}" + (f" signed: {result.signature}" if result.signature else
                              " UNSIGNED (--unsigned): verify will refuse this package"))
    return 0


# -- verify ------------------------------------------------------------------------------------------


def verify_signature(sums: Path, signature: Path, ca_cert: Path, tool: str = "auto") -> str:
    """Check the detached CMS signature over SHA256SUMS against the CA certificate. Returns the signer.

    `auto` uses the project's own verifier (reports.detached) when importable, else stock OpenSSL, so
    the check also works on a target where nothing is installed yet.
    """
    if not signature.is_file():
        raise BuildError(f"{signature}: missing: the package is unsigned and must not be installed")
    if not ca_cert.is_file():
        raise BuildError(f"{ca_cert}: CA certificate not found")
    if tool in ("auto", "python"):
        try:
            from reports import detached, pki
        except ImportError:
            if tool == "python":
                raise BuildError("--signature-tool python needs the project's dependencies installed") from None
        else:
            try:
                roots = pki.certs_from_pem(ca_cert.read_bytes(), str(ca_cert))
                info = detached.verify_detached(sums.read_bytes(), signature.read_bytes(), roots, what=str(signature))
            except Exception as exc:  # IntegrityError / ValidationError carry the user-facing reason
                raise BuildError(f"signature check failed: {exc}") from None
            return info.describe()
    cmd = ["openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in", str(signature), "-content", str(sums),
           "-CAfile", str(ca_cert), "-purpose", "any", "-out", os.devnull]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=120)
    except FileNotFoundError:
        raise BuildError("neither the project's verifier nor `openssl` is available to check the signature") from None
    if proc.returncode != 0:
        detail = (proc.stderr.strip().splitlines() or ["no detail"])[0]
        raise BuildError(f"signature check failed: {signature} does not verify over {sums} with CA {ca_cert} "
                         f"(openssl: {detail})")
    subject = subprocess.run(["openssl", "cms", "-cmsout", "-print", "-inform", "DER", "-in", str(signature)],
                             capture_output=True, text=True, check=False).stdout
    m = re.search(r"subject: (.*CN ?= ?[^\n,]+)", subject)
    return m.group(1).strip() if m else "signer verified by openssl"


def _safe_member(name: str, prefix: str, where: str) -> None:
    p = PurePosixPath(name)
    if p.is_absolute() or ".." in p.parts or not (name == prefix or name.startswith(prefix + "/")):
        raise BuildError(f"{where}: unsafe or unexpected path {name!r} (everything must be under {prefix}/)")


def verify_archive_contents(archive: Path) -> list[Pin]:
    """Every wheel in the archive is pinned by the shipped lock with its hash, and nothing else is inside."""
    prefix = archive.name[: -len(".tar.gz")]
    lock_text: str | None = None
    wheels: dict[str, str] = {}
    try:
        with tarfile.open(archive, "r:gz") as tar:
            for m in tar:
                _safe_member(m.name, prefix, str(archive))
                if m.isdir():
                    continue
                if not m.isfile():
                    raise BuildError(f"{archive}: {m.name} is not a regular file (links are not allowed)")
                rel = m.name[len(prefix) + 1:]
                f = tar.extractfile(m)
                assert f is not None
                if rel == LOCK_NAME:
                    lock_text = f.read().decode("utf-8")
                elif rel.startswith(WHEELHOUSE + "/") and rel.endswith(".whl") and rel.count("/") == 1:
                    h = hashlib.sha256()
                    while chunk := f.read(1 << 20):
                        h.update(chunk)
                    wheels[rel.split("/", 1)[1]] = h.hexdigest()
                else:
                    raise BuildError(f"{archive}: unexpected file {m.name} (a package holds only the lock and wheels)")
    except (tarfile.TarError, EOFError, OSError, UnicodeDecodeError) as exc:
        raise BuildError(f"{archive}: damaged archive ({exc})") from None
    if lock_text is None:
        raise BuildError(f"{archive}: has no {prefix}/{LOCK_NAME}")
    with tempfile.TemporaryDirectory() as tmp:
        lock_path = Path(tmp) / LOCK_NAME
        lock_path.write_text(lock_text, encoding="utf-8")
        pins = read_lock(lock_path)
    by_key = {(p.name, p.version): p for p in pins}
    for fname, digest in sorted(wheels.items()):
        pin = by_key.pop(wheel_name_version(fname), None)
        if pin is None:
            raise BuildError(f"{archive}: {fname} is not pinned in {LOCK_NAME}")
        if pin.sha256 != digest:
            raise BuildError(f"{archive}: {fname} has sha256 {digest[:16]}..., the lock pins {pin.sha256[:16]}...")
    if by_key:
        missing = ", ".join(f"{n}=={v}" for n, v in sorted(by_key))
        raise BuildError(f"{archive}: wheels pinned in {LOCK_NAME} are missing: {missing}")
    return pins


@dataclass(frozen=True)
class Verified:
    archive: Path
    signer: str
    pins: list[Pin]
    bundle: Path | None


def verify_package(package_dir: Path, ca_cert: Path, tool: str = "auto") -> Verified:
    sums_path = package_dir / SUMS_NAME
    sums = read_sums(sums_path)
    signer = verify_signature(sums_path, package_dir / SIG_NAME, ca_cert, tool)
    for fname, expected in sorted(sums.items()):
        f = package_dir / fname
        if not f.is_file():
            raise BuildError(f"{f}: listed in {SUMS_NAME} but missing")
        actual = sha256_file(f)
        if actual != expected:
            raise BuildError(f"{f}: sha256 {actual} does not match {SUMS_NAME} ({expected}): the file was changed")
    archives = [package_dir / n for n in sorted(sums) if n.endswith(".tar.gz") and not n.endswith("-bundle.tar.gz")]
    if len(archives) != 1:
        raise BuildError(f"{sums_path}: expected exactly one wheelhouse archive, found {len(archives)}")
    pins = verify_archive_contents(archives[0])
    bundles = [package_dir / n for n in sums if n.endswith("-bundle.tar.gz")]
    for b in bundles:
        with tarfile.open(b, "r:gz") as tar:
            prefix = b.name[: -len(".tar.gz")]
            for m in tar:
                _safe_member(m.name, prefix, str(b))
                if m.issym() and _link_stays_inside(m.name, m.linkname, prefix):
                    continue
                if not (m.isfile() or m.isdir()):
                    raise BuildError(f"{b}: {m.name} is not a regular file or folder (or a link inside it)")
    return Verified(archives[0], signer, pins, bundles[0] if bundles else None)


def cmd_verify(args: argparse.Namespace) -> int:
    v = verify_package(Path(args.package_dir), Path(args.ca_cert), args.signature_tool)
    print(f"OK signature: {v.signer}")
    print(f"OK hashes: every file listed in {SUMS_NAME} matches")
    print(f"OK contents: {v.archive.name} holds exactly the {len(v.pins)} wheels pinned in its {LOCK_NAME}")
    if v.bundle:
        print(f"OK bundle: {v.bundle.name}")
    return 0


# -- install (on the target) -----------------------------------------------------------------------------


def install(package_dir: Path, ca_cert: Path, venv: Path, python: str, selftest: bool = True,
            tool: str = "auto", echo: Callable[[str], None] = print, compile_pyc: bool = True) -> None:
    v = verify_package(package_dir, ca_cert, tool)
    echo(f"verified {v.archive.name}: signed by {v.signer}")
    if venv.exists() and any(venv.iterdir()):
        raise BuildError(f"{venv}: exists and is not empty; install into a fresh virtual environment")
    with tempfile.TemporaryDirectory(prefix="fr-install-") as tmp:
        with tarfile.open(v.archive, "r:gz") as tar:
            tar.extractall(tmp, filter="data")
        root = Path(tmp) / v.archive.name[: -len(".tar.gz")]
        check_python(python, root / LOCK_NAME)
        run([python, "-m", "venv", str(venv)], f"creating the virtual environment {venv}")
        vpy = str(venv / "bin" / "python")
        # --no-compile skips byte-compiling every installed module (about two thirds of pip's CPU here);
        # Python then compiles what it imports, on each start if the venv is read-only.
        no_compile = [] if compile_pyc else ["--no-compile"]
        run([vpy, "-m", "pip", "install", "--quiet", *no_compile, "--no-index", "--find-links",
             str(root / WHEELHOUSE), "--require-hashes", "-r", str(root / LOCK_NAME)],
            "installing from the wheelhouse (offline)", env=clean_pip_env())
    echo(f"installed into {venv}")
    if selftest:
        proc = subprocess.run([str(venv / "bin" / PROJECT), "selftest"], check=False)
        if proc.returncode != 0:
            raise BuildError(f"the self-test of the installed application failed (exit {proc.returncode}); "
                             "see the FAIL lines above")


def check_python(python: str, lock: Path) -> None:
    """The venv's Python must be the one the lock was made for (else pip finds no matching wheels)."""
    m = re.search(r"^# target: python=(\d+\.\d+)", lock.read_text(encoding="utf-8"), re.MULTILINE)
    if not m:
        return
    proc = subprocess.run([python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                          capture_output=True, text=True, check=False)
    have = proc.stdout.strip() if proc.returncode == 0 else "not runnable"
    if have != m.group(1):
        raise BuildError(f"this package is for Python {m.group(1)} but {python} is {have}: pass --python (or set "
                         f"PYTHON for install.sh) to a Python {m.group(1)}, or use the bundle, which needs no Python")


def cmd_install(args: argparse.Namespace) -> int:
    install(Path(args.package_dir), Path(args.ca_cert), Path(args.venv), args.python, not args.no_selftest,
            args.signature_tool, compile_pyc=not args.no_compile)
    return 0


# -- bundle ---------------------------------------------------------------------------------------------


def bundle_data_args(project_dir: Path) -> list[str]:
    args: list[str] = []
    for src, dest in BUNDLE_DATA:
        if (project_dir / src).is_dir():
            args += ["--add-data", f"{project_dir / src}{os.pathsep}{dest}"]
    return args


def cmd_bundle(args: argparse.Namespace) -> int:
    try:
        import PyInstaller  # noqa: F401
    except ImportError:
        raise BuildError("bundle needs PyInstaller in this Python: pip install -e '.[installer]'") from None
    project_dir, dist, work = Path(args.project_dir).resolve(), Path(args.dist).resolve(), Path(args.work).resolve()
    entry = project_dir / "installer" / "entry.py"
    cmd = [sys.executable, "-m", "PyInstaller", "--noconfirm", "--clean", "--onedir", "--name", PROJECT,
           "--distpath", str(dist), "--workpath", str(work), "--specpath", str(work), "--paths", str(project_dir),
           *bundle_data_args(project_dir)]
    for pkg in ("app", "storage", "reports", "ui"):  # command and screen modules are imported by name
        cmd += ["--collect-submodules", pkg]
    for mod in QT_EXCLUDES:
        cmd += ["--exclude-module", mod]
    started = time.monotonic()
    env = dict(os.environ, SOURCE_DATE_EPOCH=str(source_date_epoch(project_dir)), PYTHONHASHSEED="0")
    run([*cmd, str(entry)], "PyInstaller", env=env)
    out = dist / PROJECT
    webengine = [p for p in out.rglob("*WebEngine*")]
    if webengine:
        raise BuildError(f"{out}: QtWebEngine slipped into the bundle ({webengine[0]}); it must stay out")
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    print(f"bundle {out}: {size / 1e6:.1f} MB in {time.monotonic() - started:.0f} s")
    return 0


# -- command line ----------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="build_installer.py", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("lock", help="hash-pinned requirements.lock from pyproject.toml")
    p.add_argument("--pyproject", default=str(ROOT / "pyproject.toml"))
    p.add_argument("--extra", action="append", default=[], help="also lock an optional dependency group")
    p.add_argument("--output", default=str(ROOT / LOCK_NAME))
    add_target_args(p)
    p.set_defaults(func=cmd_lock)

    p = sub.add_parser("wheelhouse", help="download every pinned wheel and build the project's wheel")
    p.add_argument("--lock", default=str(ROOT / LOCK_NAME))
    p.add_argument("--dest", default=str(ROOT / "dist" / WHEELHOUSE))
    p.add_argument("--project-dir", default=str(ROOT))
    p.add_argument("--cache", help="reuse/keep downloaded wheels here, keyed by a hash of the lock's pins "
                                   "(every wheel is checked against the lock again)")
    add_target_args(p)
    p.set_defaults(func=cmd_wheelhouse)

    p = sub.add_parser("bundle", help="PyInstaller one-folder application (no QtWebEngine)")
    p.add_argument("--project-dir", default=str(ROOT))
    p.add_argument("--dist", default=str(ROOT / "dist" / "bundle"))
    p.add_argument("--work", default=str(ROOT / "build" / "pyinstaller"))
    p.set_defaults(func=cmd_bundle)

    p = sub.add_parser("package", help="deterministic tar.gz + SHA256SUMS + detached signature")
    p.add_argument("--wheelhouse", default=str(ROOT / "dist" / WHEELHOUSE))
    p.add_argument("--lock", default=str(ROOT / LOCK_NAME))
    p.add_argument("--pyproject", default=str(ROOT / "pyproject.toml"))
    p.add_argument("--output-dir", default=str(ROOT / "dist" / "package"))
    p.add_argument("--name", help="archive base name (default frontier-review-VERSION-TARGET)")
    p.add_argument("--bundle", help="also package this PyInstaller one-folder bundle")
    p.add_argument("--signing-key", help="PEM private key that signs SHA256SUMS")
    p.add_argument("--signing-cert", help="PEM certificate of that key")
    p.add_argument("--chain", help="PEM file with intermediate certificates to embed")
    p.add_argument("--key-password-file", help="file holding the signing key's password (if encrypted)")
    p.add_argument("--unsigned", action="store_true", help="skip signing (test builds only; verify refuses)")
    add_target_args(p)
    p.set_defaults(func=cmd_package)

    for name, helptext, func in (("verify", "check a package before installing it", cmd_verify),
                                 ("install", "verify, install offline into a fresh venv, run the self-test",
                                  cmd_install)):
        p = sub.add_parser(name, help=helptext)
        p.add_argument("--package-dir", default=str(ROOT), help="folder holding SHA256SUMS and the archive")
        p.add_argument("--ca-cert", required=True, help="PEM certificate of the CA that must have signed SHA256SUMS")
        p.add_argument("--signature-tool", choices=("auto", "python", "openssl"), default="auto")
        if name == "install":
            p.add_argument("--venv", required=True, help="new virtual environment to install into")
            p.add_argument("--python", default=sys.executable, help="Python that creates the venv")
            p.add_argument("--no-selftest", action="store_true")
            p.add_argument("--no-compile", action="store_true",
                           help="do not byte-compile the installed packages (faster install, e.g. in CI; "
                                "slower first start, and every start if the venv is read-only)")
        p.set_defaults(func=func)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except BuildError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
