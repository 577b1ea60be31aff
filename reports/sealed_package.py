"""Sealed packages for partners: a signed export package (reports/package.py) in a deterministic tar,
sealed to the partners' certificates (reports/cms_seal.py, CMS AuthEnvelopedData, AES-256-GCM).

On the media, `NAME.sealed/` appears all at once:
    MARKING.txt      the package's marking, readable without a key (the media is handled by it)
    RECIPIENTS.txt   who can open it: subject, issuer, serial, SHA-256 fingerprint per certificate
    NAME.p7m         DER CMS AuthEnvelopedData of NAME.tar
NAME.tar holds `NAME/` and every file of the signed package (report.pdf, ..., SHA256SUMS, SHA256SUMS.p7s),
so a partner with only OpenSSL runs
    openssl cms -decrypt -binary -inform DER -in NAME.p7m -recip cert.pem -inkey key.pem -out NAME.tar
    tar -xf NAME.tar
and gets the folder NAME/ exactly as `report export` writes it: `sha256sum -c`, `openssl cms -verify` and
`frontier-review verify` work on it unchanged (docs/VERIFYING.md).

API (what a release export calls):
    content = package.signed_content(files, marking, sign_manifest, ca_pem)     # the signed package
    write_sealed_package(destination, name, content, recipients, marking, media) -> SealedResult
and on the receiving side:
    name, files = open_sealed_package(data, key, cert, what)    # checked tar, nothing written
    package.write_folder(destination, name, files)               # the package folder, atomically
Lower level: `seal_package(name, content, recipients) -> bytes`, `package_tar`, `read_package_folder`.
"""

from __future__ import annotations

import hashlib
import io
import tarfile
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from app.model.errors import FrontierError
from app.model.markings import Marking
from app.model.package_result import SealedResult
from reports import cms_seal
from reports.cms_seal import SealError
from reports.package import MARKING_FILE, SAFE_NAME, check_media, write_folder

SEALED_SUFFIX = ".sealed"
RECIPIENTS_FILE = "RECIPIENTS.txt"
MAX_MEMBERS = 1000


def package_tar(name: str, files: Mapping[str, bytes], mtime: int = 0) -> bytes:
    """POSIX tar of NAME/ and NAME/<file>: sorted, owner root, fixed modes, every entry dated `mtime`,
    so the same package and time always give the same archive."""
    _check_names(name, files, "package")
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tar:
        folder = tarfile.TarInfo(name)
        folder.type, folder.mode, folder.mtime = tarfile.DIRTYPE, 0o755, mtime
        tar.addfile(folder)
        for fname, data in sorted(files.items()):
            info = tarfile.TarInfo(f"{name}/{fname}")
            info.size, info.mode, info.mtime = len(data), 0o644, mtime
            tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


def _check_names(name: str, files: Mapping[str, bytes], what: str) -> None:
    if not SAFE_NAME.match(name):
        raise SealError(f"{what}: the package name {name!r} must be letters, digits, dot, dash or underscore")
    bad = [f for f in files if not SAFE_NAME.match(f)]
    if bad:
        raise SealError(f"{what}: {bad[0]!r} is not an allowed file name in a package")
    if not files:
        raise SealError(f"{what}: the package holds no files")


def seal_package(name: str, files: Mapping[str, bytes], recipients: Sequence[x509.Certificate],
                 at: datetime | None = None) -> bytes:
    """NAME.p7m: the package's tar (entries dated `at`, default now) sealed to every certificate."""
    when = at or datetime.now(UTC)
    return cms_seal.seal(package_tar(name, files, int(when.timestamp())), recipients, when)


def recipients_text(recipients: Sequence[x509.Certificate]) -> str:
    lines = ["This package is sealed (CMS AuthEnvelopedData, AES-256-GCM) to these certificates:", ""]
    for c in recipients:
        fp = hashlib.sha256(c.public_bytes(serialization.Encoding.DER)).hexdigest().upper()
        lines += [f"subject: {c.subject.rfc4514_string()}", f"issuer:  {c.issuer.rfc4514_string()}",
                  f"serial:  {c.serial_number:X}", f"SHA-256: {fp}", ""]
    return "\n".join(lines)


def write_sealed_package(destination: Path, name: str, content: Mapping[str, bytes],
                         recipients: Sequence[x509.Certificate], content_marking: Marking, media_marking: Marking,
                         at: datetime | None = None,
                         progress: Callable[[int, int, str], None] | None = None) -> SealedResult:
    """Write destination/NAME.sealed/ (MARKING.txt, RECIPIENTS.txt, NAME.p7m) atomically, or nothing."""
    check_media(content_marking, media_marking)
    sealed = seal_package(name, content, recipients, at)
    banner = content_marking.banner()
    marking = (f"{banner}\n\nNAME.p7m holds a signed package marked {banner}, encrypted to the partners "
               f"listed in {RECIPIENTS_FILE}. Handle and store the media accordingly.\n\n{banner}\n"
               ).replace("NAME", name).encode()
    folder = write_folder(Path(destination), name + SEALED_SUFFIX,
                          {MARKING_FILE: marking, RECIPIENTS_FILE: recipients_text(recipients).encode(),
                           f"{name}.p7m": sealed}, progress)
    return SealedResult(folder, f"{name}.p7m", hashlib.sha256(sealed).hexdigest(),
                        [f"{c.subject.rfc4514_string()} (SHA-256 "
                         f"{hashlib.sha256(c.public_bytes(serialization.Encoding.DER)).hexdigest().upper()})"
                         for c in recipients], content_marking, media_marking)


def read_package_folder(folder: Path) -> tuple[str, dict[str, bytes]]:
    """(name, files) of a package folder as written by write_package: regular files only."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FrontierError(f"{folder}: not a folder (or the media is not mounted)")
    files: dict[str, bytes] = {}
    for p in sorted(folder.iterdir()):
        if not p.is_file() or p.is_symlink():
            raise SealError(f"{folder}: {p.name} is not a regular file; a package folder holds only files")
        files[p.name] = p.read_bytes()
    _check_names(folder.name, files, str(folder))
    return folder.name, files


def find_sealed_file(path: Path) -> Path:
    """The .p7m given, or the single .p7m inside a NAME.sealed folder."""
    path = Path(path)
    if path.is_dir():
        found = sorted(path.glob("*.p7m"))
        if len(found) != 1:
            raise SealError(f"{path}: expected one sealed .p7m file in the folder, found {len(found)}")
        return found[0]
    if not path.is_file():
        raise SealError(f"{path}: no such file or folder (or the media is not mounted)")
    return path


def open_sealed_package(data: bytes, key: cms_seal.PrivateKey, cert: x509.Certificate,
                        what: str = "sealed package") -> tuple[str, dict[str, bytes]]:
    """Decrypt and unpack in memory: (package name, files). The tar must hold exactly one folder of
    regular files with safe names; anything else (links, devices, paths, duplicates) is refused."""
    plain = cms_seal.open_sealed(data, key, cert, what)
    name: str | None = None
    files: dict[str, bytes] = {}
    try:
        with tarfile.open(fileobj=io.BytesIO(plain), mode="r:") as tar:
            for count, member in enumerate(tar, start=1):
                if count > MAX_MEMBERS:
                    raise SealError(f"{what}: more than {MAX_MEMBERS} entries; not a package")
                top, _, rest = member.name.rstrip("/").partition("/")
                if name is None:
                    name = top
                if top != name or not SAFE_NAME.match(top):
                    raise SealError(f"{what}: entry {member.name!r} is outside the package folder")
                if member.isdir() and not rest:
                    continue
                if not member.isreg() or not SAFE_NAME.match(rest):
                    raise SealError(f"{what}: entry {member.name!r} is not a plain file of the package")
                if rest in files:
                    raise SealError(f"{what}: {rest} appears twice")
                fh = tar.extractfile(member)
                if fh is None:
                    raise SealError(f"{what}: entry {member.name!r} cannot be read")
                files[rest] = fh.read()
    except tarfile.TarError as exc:
        raise SealError(f"{what}: the decrypted content is not a package archive ({exc})") from None
    if name is None or not files:
        raise SealError(f"{what}: the decrypted archive holds no package files")
    return name, files
