"""Report profiles: signed import like templates, sections reordered and chosen, header/footer and
logo, still correctly marked and deterministic; tampering with the stored profile is caught."""

from __future__ import annotations

import base64
import dataclasses
import json
import re
import subprocess
from pathlib import Path

import pytest

from app.model.errors import IngestError, IntegrityError, PermissionDenied
from app.model.report_profile import DEFAULT_PROFILE, FORMAT, parse
from app.services import report_profiles
from reports.pdf import build_pdf
from reports.sample import sample_input
from tests.unit.test_assessment_service import _write_signed

# The smallest baseline JPEG (1x1 grey), enough for reportlab to embed as DCT.
TINY_JPEG = base64.b64decode(
    "/9j/4AAQSkZJRgABAQEASABIAAD/2wBDAAMCAgICAgMCAgIDAwMDBAYEBAQEBAgGBgUGCQgKCgkICQkKDA8MCgsOCwkJDRENDg8QEBEQCgwS"
    "ExIQEw8QEBD/wAALCAABAAEBAREA/8QAFAABAAAAAAAAAAAAAAAAAAAACf/EABQQAQAAAAAAAAAAAAAAAAAAAAD/2gAIAQEAAD8AKp//2Q==")

AGENCY = {
    "format": FORMAT, "id": "agency-a", "version": 1, "name": "Agency A findings layout",
    "cover_text": "Agency A — pre-release model assessment",
    "sections": ["summary", "findings", "results", "integrity", "signatures"],
    "annexes": ["checklist_appendix"],
    "header_text": "AGENCY A · OFFICE OF AI SECURITY", "footer_text": "Agency A form 13-R",
    "logo_jpeg": base64.b64encode(TINY_JPEG).decode(),
}


def _toc(pdf: bytes, tmp_path: Path) -> list[str]:
    path = tmp_path / "p.pdf"
    path.write_bytes(pdf)
    pages = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True,
                           check=True).stdout.split("\f")
    return [m.group(1) for m in re.finditer(r"^\s*\(U\) ((?:\d+\.|Annex [A-Z]\.) .+?)\s+\d+$", pages[1], re.M)]


def test_profile_reorders_sections_is_marked_and_deterministic(tmp_path: Path) -> None:
    profile = parse(json.dumps(AGENCY).encode(), "agency.json")
    base = sample_input(4)
    report = dataclasses.replace(base, profile=profile)
    a, b = build_pdf(report), build_pdf(report)
    assert a.data == b.data  # same input, same bytes
    assert a.marking == build_pdf(base).marking == base.overall_marking()
    assert _toc(a.data, tmp_path) == ["1. Executive summary", "2. Findings", "3. Benchmark results", "4. Integrity",
                                      "5. Signatures", "Annex A. Full checklist"]
    assert _toc(build_pdf(base).data, tmp_path)[:3] == ["1. Executive summary", "2. Submission", "3. Findings"]
    path = tmp_path / "p.pdf"
    path.write_bytes(a.data)
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout
    pages = text.split("\f")[:-1]
    for n, page in enumerate(pages, start=1):
        lines = [ln.strip() for ln in page.splitlines() if ln.strip()]
        assert lines[0] == "SECRET//NOFORN" and lines[-1] == "SECRET//NOFORN", n
        assert "AGENCY A · OFFICE OF AI SECURITY" in page and "Agency A form 13-R · report v1" in page
    assert "Agency A — pre-release model assessment" in pages[0]
    assert "Coverage rules applied" not in text and "Submission details" not in text  # sections left out
    images = subprocess.run(["pdfimages", "-list", str(path)], capture_output=True, text=True, check=True).stdout
    assert " jpeg " in images  # the logo, embedded as the JPEG itself


@pytest.mark.parametrize(("change", "problem"), [
    ({"sections": ["findings", "integrity", "signatures"]}, "must include summary"),
    ({"sections": ["summary", "findings", "signatures", "integrity"]}, "'signatures' must be the last"),
    ({"sections": ["summary", "findings", "appendix", "integrity", "signatures"]}, "unknown section 'appendix'"),
    ({"logo_jpeg": base64.b64encode(b"\x89PNG\r\n\x1a\nxx").decode()}, "not a usable JPEG image"),
    ({"header_text": "two\nlines"}, "one line"),
    ({"version": 0}, "positive integer"),
    ({"version": 2 ** 70}, "positive integer (at most 64 bits)"),  # SQLite raised OverflowError on import
    ({"name": "Agency \ud800"}, "'name' holds a lone surrogate"),  # storing it raised UnicodeEncodeError
])
def test_bad_profiles_are_refused_naming_the_file(change: dict, problem: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(IngestError, match=re.escape(problem)) as info:
        parse(json.dumps({**AGENCY, **change}).encode(), "/media/usb/agency.json")
    assert "/media/usb/agency.json" in str(info.value)


@pytest.mark.parametrize(("data", "problem"), [
    (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),  # json.loads raised RecursionError
    (b'{"version": ' + b"9" * 5000 + b"}", "Exceeds the limit"),  # and ValueError, not a JSONDecodeError
])
def test_unparseable_profiles_are_refused_naming_the_file(data: bytes, problem: str) -> None:
    with pytest.raises(IngestError, match=f"/media/usb/agency.json: not a JSON report profile .*{problem}"):
        parse(data, "/media/usb/agency.json")


def test_signed_import_use_and_tamper_detection(workstation, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from app.services import pki as pki_service

    admin = workstation.session("admin")
    pki_service.ensure_ready(admin)
    rev = workstation.session("reviewer")
    assert report_profiles.active(rev) == DEFAULT_PROFILE
    unsigned = tmp_path / "unsigned.json"
    unsigned.write_text(json.dumps(AGENCY))
    with pytest.raises(IntegrityError, match="unsigned report profile refused"):
        report_profiles.import_profile(admin, unsigned)
    path = _write_signed(admin, tmp_path / "agency.json", AGENCY)
    with pytest.raises(PermissionDenied):
        report_profiles.import_profile(rev, path)
    stored = report_profiles.import_profile(admin, path)
    assert stored.active and report_profiles.active(rev).profile_id == "agency-a"
    assert report_profiles.active(rev).sections[1] == "findings"
    # An insider who edits the stored profile (e.g. drops the findings) is caught when it is used.
    with admin.transaction() as conn:
        conn.execute("UPDATE report_profiles SET content = ? WHERE id = ?",
                     (json.dumps({**AGENCY, "cover_text": "edited"}).encode(), stored.pk))
    with pytest.raises(IntegrityError):
        report_profiles.active(rev)
    report_profiles.use(admin, None)
    assert report_profiles.active(rev) == DEFAULT_PROFILE


def test_assembled_report_uses_the_profile_in_use(workstation, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from app.services import reports as report_service
    from tests.unit.test_signing_service import _approved_submission, _configure

    _configure(workstation.session("admin"))
    admin = workstation.session("admin")
    sid = _approved_submission(workstation)
    report_profiles.import_profile(admin, _write_signed(admin, tmp_path / "agency.json", AGENCY))
    rev = workstation.session("reviewer")
    built = report_service.build(rev, sid)
    assert _toc(report_service.pdf_bytes(rev, built.id), tmp_path)[1] == "2. Findings"
    from storage import reports_repo

    _oscal, findings_doc = reports_repo.companions(rev.db.conn, built.id)
    assert json.loads(findings_doc)["profile"]["id"] == "agency-a"


def test_cli_import_list_and_use(workstation, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                 capsys: pytest.CaptureFixture[str]) -> None:  # type: ignore[no-untyped-def]
    import io
    import sys

    from app import cli as app_cli
    from app.services import pki as pki_service

    admin = workstation.session("admin")
    pki_service.ensure_ready(admin)
    path = _write_signed(admin, tmp_path / "agency.json", AGENCY)

    def run(user: str, *args: str) -> tuple[int, str]:
        monkeypatch.setattr(sys, "stdin", io.StringIO(workstation.passphrase(user) + "\n"))
        code = app_cli.main(["--data-dir", str(workstation.data_dir), "--user", user, "report", "profile", *args])
        out = capsys.readouterr()
        return code, out.out + out.err

    code, out = run("admin", "import", str(path))
    assert code == 0 and "Imported report profile agency-a v1" in out, out
    code, out = run("reviewer", "list")
    assert code == 0 and "agency-a" in out and "yes" in out
    code, out = run("admin", "use", "default")
    assert code == 0 and "default v1" in out
    code, out = run("reviewer", "use", "default")
    assert code != 0
