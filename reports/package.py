"""Export package written to removable media: signed PDF, OSCAL, findings JSON, CA certificate,
a SHA-256 manifest and a detached CMS signature over the manifest.

The package appears all at once or not at all: files go into a hidden temporary folder inside
the destination, each is fsynced, then the folder is renamed. Any failure (disk full, media
removed, not writable) removes the temporary folder and raises a clear message.
Receivers verify with this app or with stock tools:
    sha256sum -c SHA256SUMS
    openssl cms -verify -binary -inform DER -in SHA256SUMS.p7s -content SHA256SUMS -CAfile ca.pem
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
from collections.abc import Callable, Mapping
from pathlib import Path

from app.foundation.files import fsync_file, write_new_file
from app.foundation.oserrors import capitalised, folder_problem, is_full, os_error_problem
from app.model.errors import FrontierError, ValidationError
from app.model.markings import Marking
from app.model.package_result import PackageResult

MANIFEST = "SHA256SUMS"
MANIFEST_SIG = "SHA256SUMS.p7s"
CA_FILE = "ca.pem"
PDF_FILE = "report.pdf"
OSCAL_FILE = "assessment-results.json"
FINDINGS_FILE = "findings.json"
MARKING_FILE = "MARKING.txt"
SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


class ExportError(FrontierError):
    """Writing the package failed; nothing was left at the destination."""


def manifest_text(files: Mapping[str, bytes]) -> bytes:
    """sha256sum-compatible manifest, sorted by name (two spaces: text mode as sha256sum writes it)."""
    lines = [f"{hashlib.sha256(data).hexdigest()}  {name}\n" for name, data in sorted(files.items())]
    return "".join(lines).encode()


def check_media(content: Marking, media: Marking) -> None:
    """MP-3/MP-4: nothing goes onto media labelled lower than its content."""
    if not media.dominates(content):
        raise ValidationError(
            "media label",
            f"the package is marked {content.banner()} but the media is labelled {media.banner()}; "
            "use media labelled at least as high (level and every dissemination control)",
        )


def _check_destination(destination: Path) -> None:
    problem = folder_problem(destination)
    if problem:
        raise ExportError(f"The destination {problem}; nothing was written.")


def _explain(exc: OSError, destination: Path) -> str:
    problem = capitalised(os_error_problem(exc, destination))
    if is_full(exc):
        return f"{problem}; the package was not written (nothing was left behind)."
    return f"{problem}; no partial package was left."


def signed_content(files: Mapping[str, bytes], content_marking: Marking, sign_manifest: Callable[[bytes], bytes],
                   ca_pem: bytes) -> dict[str, bytes]:
    """`files` plus MARKING.txt, ca.pem, SHA256SUMS and SHA256SUMS.p7s: every file of the signed package.
    Also what reports/sealed_package.py seals for a partner."""
    for fname in files:
        if not SAFE_NAME.match(fname) or fname in (MANIFEST, MANIFEST_SIG, CA_FILE, MARKING_FILE):
            raise ValidationError("package file", f"{fname!r} is not an allowed file name")
    content = dict(files)
    content[CA_FILE] = ca_pem
    content[MARKING_FILE] = (f"{content_marking.banner()}\n\nThis package contains information marked "
                             f"{content_marking.banner()}. Handle and store the media accordingly.\n").encode()
    manifest = manifest_text(content)
    signature = sign_manifest(manifest)  # before touching the media: a signing failure writes nothing
    content[MANIFEST] = manifest
    content[MANIFEST_SIG] = signature
    return content


def write_folder(destination: Path, name: str, content: Mapping[str, bytes],
                 progress: Callable[[int, int, str], None] | None = None) -> Path:
    """destination/name with these files, appearing all at once (hidden temporary folder, fsync, rename)
    or not at all; raises ExportError with a clear message."""
    destination = Path(destination)
    if not SAFE_NAME.match(name):
        raise ValidationError("package name", f"{name!r} must be letters, digits, dot, dash or underscore")
    _check_destination(destination)
    final = destination / name
    if final.exists():
        raise ExportError(f"{final} already exists; choose another folder or remove the old package first.")
    tmp = destination / f".{name}.partial-{os.getpid()}"
    total = len(content)
    try:
        os.mkdir(tmp, 0o750)
        for i, (fname, data) in enumerate(sorted(content.items()), start=1):
            write_new_file(tmp / fname, data, 0o640)
            if progress:
                progress(i, total, fname)
        fsync_file(tmp)
        os.rename(tmp, final)
        fsync_file(destination)
    except OSError as exc:
        with contextlib.suppress(OSError):
            shutil.rmtree(tmp)
        raise ExportError(_explain(exc, destination)) from None
    except BaseException:
        with contextlib.suppress(OSError):
            shutil.rmtree(tmp)
        raise
    return final


def write_package(destination: Path, name: str, files: Mapping[str, bytes], content_marking: Marking,
                  media_marking: Marking, sign_manifest: Callable[[bytes], bytes], ca_pem: bytes,
                  progress: Callable[[int, int, str], None] | None = None) -> PackageResult:
    """Write `files` plus MARKING.txt, ca.pem, SHA256SUMS and SHA256SUMS.p7s as destination/name."""
    check_media(content_marking, media_marking)
    destination = Path(destination)
    if not SAFE_NAME.match(name):
        raise ValidationError("package name", f"{name!r} must be letters, digits, dot, dash or underscore")
    for fname in files:
        if not SAFE_NAME.match(fname) or fname in (MANIFEST, MANIFEST_SIG, CA_FILE, MARKING_FILE):
            raise ValidationError("package file", f"{fname!r} is not an allowed file name")
    _check_destination(destination)
    if (destination / name).exists():
        raise ExportError(f"{destination / name} already exists; choose another folder or remove the old package "
                          "first.")
    content = signed_content(files, content_marking, sign_manifest, ca_pem)
    final = write_folder(destination, name, content, progress)
    hashes = {n: hashlib.sha256(d).hexdigest() for n, d in content.items() if n not in (MANIFEST, MANIFEST_SIG)}
    return PackageResult(final, hashes, content_marking, media_marking)
