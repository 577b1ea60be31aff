"""Releasable versions of a findings report (issue 16, points 2 and 3): build, approve, export.

build: from a finished review (the assessment's two-person approval holds), the full report is
assembled and app.model.release computes what the chosen partner may receive; the released PDF is
rendered, linted, signed by its builder (PAdES, the reviewer box) and stored with its findings JSON,
the full and released texts of the side-by-side and the withheld counts. A signed decision
(release.build) covers the PDF and every text hash, so an edit to the row or the PDF is noticed.

approve: a lead who is not the builder (two-person rule), having seen the side-by-side,
countersigns the PDF (PAdES, the lead box); the signed decision release.approve covers the
countersigned PDF's SHA-256, the full report's SHA-256 and the texts.

export: only an approved release whose signed decisions hold; signed package (manifest signed as
reports are) sealed to the partner's encryption certificates (CMS AuthEnvelopedData, AES-256-GCM),
after the one egress check against the media label; one transaction records the export, the
dissemination log entry (superseding the previous release of the submission to that partner) and
the audit events.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from app.model import release as release_model
from app.model.accounts import Permission, Role
from app.model.errors import IntegrityError, PermissionDenied, ValidationError
from app.model.markings import Marking
from app.model.package_result import SealedResult
from app.model.partners import Partner, withholding
from app.model.release import Line
from app.model.release_record import StoredRelease
from app.services import approvals, decisions, dissemination, egress, partners, report_assembly
from app.services import pki as pki_service
from app.services import reports as report_service
from app.services.session import Session
from reports import findings_json, marking_lint, oscal
from reports.package import FINDINGS_FILE, MANIFEST, OSCAL_FILE, PDF_FILE, signed_content
from reports.pdf import build_pdf
from reports.sealed_package import write_sealed_package
from reports.signing import lead_request, reviewer_request
from storage import releases_repo as repo
from storage import submissions_repo
from storage.db import Connection

Progress = Callable[[int, int, str], None]
_MIN_QUOTE = 16  # shorter withheld texts ("satisfied.") also occur in kept portions by chance


@dataclass(frozen=True)
class SideBySide:
    """What the releasing official compares: the full report (withheld portions with their reasons)
    and the release, each with its overall marking for the banners."""

    release: StoredRelease
    full_marking: Marking
    full: tuple[Line, ...]
    released: tuple[Line, ...]

    @property
    def released_marking(self) -> Marking:
        return Marking.parse(self.release.marking)


@dataclass(frozen=True)
class ExportOutcome:
    release: StoredRelease
    sealed: SealedResult
    manifest_sha256: str
    dissemination_id: int


# -- texts and the signed content -------------------------------------------------------------------


def _lines_json(lines: tuple[Line, ...]) -> str:
    return json.dumps([{"section": x.section, "marking": x.marking.banner(), "text": x.text,
                        "reasons": list(x.reasons)} for x in lines], ensure_ascii=False, indent=1)


def _lines_from_json(text: str) -> tuple[Line, ...]:
    return tuple(Line(d["section"], Marking.parse(d["marking"]), d["text"], tuple(d.get("reasons", ())))
                 for d in json.loads(text))


def _sha(data: bytes | str) -> str:
    return hashlib.sha256(data.encode() if isinstance(data, str) else data).hexdigest()


def _content(conn: Connection, row: StoredRelease) -> dict[str, Any]:
    """What the builder's decision covers, computed from the stored blobs (not from hash columns)."""
    full_text, released_text = repo.texts(conn, row.id)
    return {"release": row.id, "submission": row.submission_id, "partner": row.partner_id,
            "partner_name": row.partner_name, "own": row.own, "control_number": row.control_number,
            "marking": row.marking, "built_sha256": row.built_sha256,
            "full_sha256": _sha(repo.blob(conn, row.id, "full_json")),
            "findings_sha256": _sha(repo.blob(conn, row.id, "findings_json")),
            "full_text_sha256": _sha(full_text), "released_text_sha256": _sha(released_text),
            "withheld": row.withheld, **_oscal_content(conn, row.id)}


def _oscal_content(conn: Connection, release_id: int) -> dict[str, str]:
    # Releases built before schema 34 have no OSCAL document and their signed builds do not name one:
    # the key is present exactly when the document is, so deleting or adding it breaks the signature.
    document = repo.oscal(conn, release_id)
    return {"oscal_sha256": _sha(document)} if document is not None else {}


def _build_problem(session: Session, conn: Connection, row: StoredRelease) -> str | None:
    """Why the release is not the one its builder signed (None: it is)."""
    reg = decisions.Registry.load(conn, session.db_id)
    d, why = decisions.latest(conn, reg, "release", row.id, ("release.build",))
    if d is None or why:
        return f"its build is not signed ({why or 'no signed record'})"
    if d.actor != row.built_by:
        return f"the record names {row.built_by} as builder, but the signed build is by {d.actor}"
    if decisions.content_of(d) != _content(conn, row):
        return f"its content, marking or texts changed after {d.actor} signed the build"
    return None


def _approval_problem(session: Session, conn: Connection, row: StoredRelease) -> str | None:
    """Why the release does not count as approved by a second person, a lead (None: it does)."""
    why = _build_problem(session, conn, row)
    if why:
        return why
    reg = decisions.Registry.load(conn, session.db_id)
    d, why = decisions.latest(conn, reg, "release", row.id, ("release.approve",))
    if d is None:
        return "no releasing official has signed its approval"
    if why:
        return f"the approval by {d.actor} does not hold: {why}"
    expected = {**_content(conn, row), "sha256": _sha(repo.blob(conn, row.id, "pdf"))}
    if decisions.content_of(d) != expected or row.sha256 != expected["sha256"]:
        return f"the released PDF, its marking or its texts changed after {d.actor} approved it"
    if d.actor == row.built_by:
        return f"{d.actor} both built and approved it (two-person rule)"
    if d.actor != row.approved_by:
        return f"the record names {row.approved_by} as approver, but the signed approval is by {d.actor}"
    if decisions.actor_role(conn, reg, d.actor) is not Role.LEAD:
        return f"{d.actor}, who signed the approval, is not a lead reviewer by any administrator's signature"
    return None


# -- build ------------------------------------------------------------------------------------------


def build_problem(session: Session, submission_id: int) -> str | None:
    """Why no release can be built from this submission now (None: one can)."""
    from app.services import assessment

    if not session.account.can(Permission.ASSESS):
        return "only reviewers and leads build releases"
    view = assessment.for_submission(session, submission_id)
    why = "it has no assessment" if view is None else \
        approvals.assessment_approval_problem(session, session.db.conn, view.id)
    return f"the review is not finished ({why})" if why else None


def _require_finished_review(session: Session, submission_id: int) -> None:
    from app.services import assessment

    view = assessment.for_submission(session, submission_id)
    why = "it has no assessment" if view is None else \
        approvals.assessment_approval_problem(session, session.db.conn, view.id)
    if why:
        raise ValidationError("release", f"submission #{submission_id} has no finished review ({why}); a release "
                                         "is built only from an assessment a lead has approved")


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)


def _check_nothing_withheld_quoted(rel: release_model.Release, document: bytes) -> None:
    """A last guard over the released JSON: no withheld portion's text appears in it (unless the same
    text is also a kept portion)."""
    kept = {x.text for x in rel.released_lines}
    strings = list(_strings(json.loads(document)))
    for line in rel.withheld:
        quote = line.text.strip()
        if len(quote) >= _MIN_QUOTE and quote not in kept and any(quote in s for s in strings):
            raise IntegrityError(f"the release would quote a withheld {line.section} portion; it was not stored")


def _control_number(session: Session, full_control: str, submission_id: int) -> str:
    n = repo.count_for_submission(session.db.conn, submission_id) + 1
    return f"{full_control}-R{n}"


def build(session: Session, submission_id: int, partner_id: int, passphrase: str, pin: str | None = None,
          progress: Progress | None = None) -> StoredRelease:
    """Compute, render, sign and store the release of the submission's report to one partner."""
    session.require(Permission.ASSESS)
    session.reauthenticate(passphrase)
    partner = partners.get(session, partner_id)
    if not partner.active:
        raise ValidationError("partner", f"{partner.name} is deactivated; nothing more is released to it")
    _require_finished_review(session, submission_id)
    full = report_assembly.assemble(session, submission_id)
    control = _control_number(session, full.control_number, submission_id)
    rel = release_model.compute(full, partner, control_number=control, today=session.today())
    built = build_pdf(rel.released, progress)
    problems = marking_lint.lint_pdf(rel.released, built.data)
    if problems:
        raise ValidationError("release markings", "the release would quote marked information in a lower portion, "
                              "so it was not stored: " + "; ".join(problems[:5]))
    document = findings_json.to_json(rel.released)
    _check_nothing_withheld_quoted(rel, document)
    oscal_document = oscal.to_json(rel.released)  # the same released portions, validated against OSCAL
    _check_nothing_withheld_quoted(rel, oscal_document)
    request = reviewer_request(built.signature_page, built.signature_boxes, session.settings.workstation_name)
    signed = report_service.sign_with_identity(session, built.data, request, pin)
    withheld = {"total": len(rel.withheld), "sections": rel.counts(), "reasons": rel.reason_counts(),
                # TLP and embargo of the vulnerability content kept: what the dissemination log records
                "handling": {"tlp": rel.tlp.value if rel.tlp else None,
                             "embargo_until": rel.embargo_until.isoformat() if rel.embargo_until else None}}
    with session.transaction() as conn:
        rid = repo.insert(
            conn, submission_id=submission_id, partner_id=partner_id, partner_name=partner.name, own=rel.own,
            control_number=control, marking=rel.marking.banner(), title=rel.released.title,
            full_sha256=_sha(findings_json.to_json(full)), full_json=findings_json.to_json(full),
            full_text=_lines_json(rel.full_lines), released_text=_lines_json(rel.released_lines), withheld=withheld,
            pdf=signed, sha256=_sha(signed), findings_json=document, oscal_json=oscal_document,
            signature_layout={"page": built.signature_page, "boxes": built.signature_boxes},
            actor=session.account.username, now=session.now())
        row = repo.get(conn, rid)
        approvals.record(session, conn, "release.build", "release", rid, _content(conn, row))
        session.audit(conn, "release.build", "release", rid,
                      {"submission": submission_id, "partner": partner.name, "control_number": control,
                       "marking": row.marking, "withheld": withheld["total"], "sha256": row.sha256,
                       "full_sha256": row.full_sha256, "own": rel.own})
        return row


def developer_partner(session: Session, submission_id: int) -> Partner:
    """The registered partner that is the submission's developer (the first-class release)."""
    session.require(Permission.VIEW_CONTENT)
    sub = submissions_repo.get(session.db.conn, submission_id)
    partner = partners.for_developer(session, sub.developer)
    if partner is None or partner.id is None:
        raise ValidationError("partner", f"no developer partner named {sub.developer!r} is in the partner register; "
                                         "an administrator adds it (kind developer) with its encryption certificate")
    return partner


def build_for_developer(session: Session, submission_id: int, passphrase: str, pin: str | None = None,
                        progress: Progress | None = None) -> StoredRelease:
    partner = developer_partner(session, submission_id)
    assert partner.id is not None
    return build(session, submission_id, partner.id, passphrase, pin, progress)


# -- reading ----------------------------------------------------------------------------------------


def get(session: Session, release_id: int) -> StoredRelease:
    session.require(Permission.VIEW_CONTENT)
    return repo.get(session.db.conn, release_id)


def list_releases(session: Session, submission_id: int | None = None) -> list[StoredRelease]:
    session.require(Permission.VIEW_CONTENT)
    return repo.listing(session.db.conn, submission_id)


def pdf_bytes(session: Session, release_id: int) -> bytes:
    session.require(Permission.VIEW_CONTENT)
    return repo.blob(session.db.conn, release_id, "pdf")


def side_by_side(session: Session, release_id: int) -> SideBySide:
    session.require(Permission.VIEW_CONTENT)
    conn = session.db.conn
    row = repo.get(conn, release_id)
    full_text, released_text = repo.texts(conn, release_id)
    full = _lines_from_json(full_text)
    from app.model.markings import rollup

    return SideBySide(row, rollup(x.marking for x in full), full, _lines_from_json(released_text))


def approve_problem(session: Session, release_id: int) -> str | None:
    """Why the signed-in account may not approve this release now (None: it may)."""
    row = repo.get(session.db.conn, release_id)
    if session.account.role is not Role.LEAD:
        return "only a lead reviewer (releasing official) approves releases"
    if row.state != "built":
        return f"the release is already {row.state}"
    if row.built_by == session.account.username:
        return "you built this release; another lead approves it (two-person rule)"
    return _build_problem(session, session.db.conn, row)


# -- approve ----------------------------------------------------------------------------------------


def approve(session: Session, release_id: int, passphrase: str, pin: str | None = None) -> StoredRelease:
    """The releasing official countersigns the release after the side-by-side (signed decision)."""
    session.require(Permission.APPROVE)
    if session.account.role is not Role.LEAD:
        raise PermissionDenied("Only a lead reviewer (releasing official) approves releases.")
    session.reauthenticate(passphrase)
    conn = session.db.conn
    row = repo.get(conn, release_id)
    if row.state != "built":
        raise ValidationError("release", f"release {row.control_number} is already {row.state}")
    if row.built_by == session.account.username:
        raise PermissionDenied(f"You built release {row.control_number}; another lead approves it (two-person rule).")
    why = _build_problem(session, conn, row)
    pdf = repo.blob(conn, release_id, "pdf")
    if why is None and (_sha(pdf) != row.built_sha256 or row.sha256 != row.built_sha256):
        why = "the stored PDF is not the one its builder signed"
    if why:
        raise IntegrityError(f"release {row.control_number}: {why}; it is not approved")
    layout = repo.signature_layout(conn, release_id)
    request = lead_request(int(layout.get("page") or 1), layout.get("boxes", {}), session.settings.workstation_name)
    signed = report_service.sign_with_identity(session, pdf, request, pin)
    with session.transaction() as c:
        if repo.get(c, release_id).sha256 != row.sha256:
            raise ValidationError("release", "the release changed while it was being approved; try again")
        repo.record_approval(c, release_id, signed, _sha(signed), session.account.username, session.now())
        row = repo.get(c, release_id)
        approvals.record(session, c, "release.approve", "release", release_id,
                         {**_content(c, row), "sha256": row.sha256})
        session.audit(c, "release.approve", "release", release_id,
                      {"control_number": row.control_number, "partner": row.partner_name, "marking": row.marking,
                       "sha256": row.sha256, "built_sha256": row.built_sha256, "full_sha256": row.full_sha256,
                       "built_by": row.built_by})
        return row


# -- export -----------------------------------------------------------------------------------------


def export(session: Session, release_id: int, destination: Path, media_label: str, passphrase: str,
           pin: str | None = None, progress: Progress | None = None) -> ExportOutcome:
    """Write the approved release, signed and sealed to the partner, as destination/CONTROL.sealed/."""
    session.require(Permission.EXPORT)
    conn = session.db.conn
    row = repo.get(conn, release_id)
    if row.state != "approved":
        raise ValidationError("release", f"release {row.control_number} is {row.state}: only an approved release "
                              "is exported" + (" (build a new release to send it again)"
                                               if row.state == "exported" else ""))
    why = _approval_problem(session, conn, row)
    if why:
        raise IntegrityError(f"release {row.control_number}: {why}; it is not exported")
    partner = partners.get(session, row.partner_id)
    marking = Marking.parse(row.marking)  # the marking both signed decisions cover
    handling = row.withheld.get("handling", {})  # signed with the rest of the withheld summary
    embargo = handling.get("embargo_until")
    still = withholding(partner, marking, own=row.own)
    if still:
        raise ValidationError("partner", f"{partner.name} may no longer receive {marking.banner()} "
                                         f"({'; '.join(still)}); build a new release")
    certs = partners.certificates(session, row.partner_id, "encryption")
    if not certs:
        raise ValidationError("partner", f"{partner.name} has no valid encryption certificate in the partner register; "
                                         "an administrator adds one before a release can be sealed to it")
    cleared = egress.clear(session, f"the release {row.control_number}", marking, media_label, destination,
                           refused_as=("release.export_refused", "release", release_id), recipients=[partner])
    egress.check_folder(destination)
    session.reauthenticate(passphrase)
    pdf = repo.blob(conn, release_id, "pdf")
    oscal_document = repo.oscal(conn, release_id)
    files = {PDF_FILE: pdf, FINDINGS_FILE: repo.blob(conn, release_id, "findings_json"),
             **({OSCAL_FILE: oscal_document} if oscal_document is not None else {}),
             **pki_service.revocation_files(session)}
    sign_manifest, ca_pem = pki_service.manifest_signer(session, pin, "a reviewer or lead exports releases")
    content = signed_content(files, marking, sign_manifest, report_service.with_signature_cas(session, ca_pem, pdf))
    manifest_sha = _sha(content[MANIFEST])
    sealed = write_sealed_package(Path(destination), row.control_number, content, certs, marking, cleared.media,
                                  session.clock(), progress)
    try:
        with session.transaction() as c:
            # The logged object is "the release of submission N"; each build is a revision of it.
            supersedes = repo.previous_export(c, row.submission_id, row.partner_id, release_id)
            entry = dissemination.record(
                session, c, kind="release", object_type="release", object_id=row.submission_id,
                revision=row.control_number, partner_id=row.partner_id, marking=marking, tlp=handling.get("tlp"),
                embargo_until=date.fromisoformat(embargo) if embargo else None, manifest_sha256=manifest_sha,
                media_label=cleared.media,
                approved_by=row.approved_by or "", supersedes=supersedes, own=row.own)
            repo.record_export(c, release_id, str(sealed.path), manifest_sha, cleared.media.banner(), entry,
                               session.account.username, session.now())
            session.audit(c, "release.export", "release", release_id,
                          {"control_number": row.control_number, "partner": partner.name, "marking": marking.banner(),
                           "media": cleared.media.banner(), "destination": str(sealed.path),
                           "manifest_sha256": manifest_sha, "sealed_sha256": sealed.sha256,
                           "recipients": sealed.recipients, "dissemination": entry, "supersedes": supersedes})
            egress.record(session, c, cleared, sealed_sha256=sealed.sha256, recipients=sealed.recipients)
            done = repo.get(c, release_id)
    except BaseException:
        # Nothing is recorded, so nothing may stay on the media either.
        with contextlib.suppress(OSError):
            shutil.rmtree(sealed.path)
        raise
    return ExportOutcome(done, sealed, manifest_sha, entry)
