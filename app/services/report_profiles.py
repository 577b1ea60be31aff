"""Report profiles: an agency's mandated layout (cover text, section order and optional sections,
header/footer text, logo) imported from media with a detached signature, like checklist templates.

The newest imported profile becomes the one in use; an administrator can switch back to another
version or to the built-in default. The stored bytes are re-verified every time a report uses them.
"""

from __future__ import annotations

from pathlib import Path

from app.foundation.files import shown_name
from app.model.accounts import Permission
from app.model.errors import ValidationError
from app.model.report_profile import DEFAULT_PROFILE, ReportProfile, StoredProfile, parse
from app.services.session import Session
from app.services.signed_import import read_signed, signature_path, verify_stored
from storage import profiles_repo as repo

MAX_BYTES = 1 << 20
WHAT = "report profile"


def import_profile(session: Session, path: Path) -> StoredProfile:
    """Administrator: import a signed profile version from media (FILE + FILE.p7s) and use it."""
    session.require(Permission.IMPORT_TRUSTED)
    path = Path(path)
    data, signer = read_signed(session, path, MAX_BYTES, WHAT)
    signature = signature_path(path).read_bytes()
    profile = parse(data, str(path))
    with session.transaction() as conn:
        existing = repo.find(conn, profile.profile_id, profile.version)
        if existing is not None:
            same = existing.sha256 == profile.sha256
            raise ValidationError(str(path), f"{profile.label} is already on this workstation" if same else
                                  f"{profile.label} already exists with different content; a changed profile "
                                  "needs a new version number")
        pk = repo.insert(conn, profile.profile_id, profile.version, profile.name, profile.sha256, data, signature,
                         signer.describe(), session.account.username, session.now())
        repo.set_active(conn, pk)
        session.audit(conn, "report.profile_import", "report_profile", profile.label,
                      {"sha256": profile.sha256, "signer": signer.subject, "signer_fingerprint": signer.fingerprint,
                       "file": shown_name(path.name), "sections": list(profile.sections),
                       "annexes": list(profile.annexes)})
        return repo.get(conn, pk)


def list_profiles(session: Session) -> list[StoredProfile]:
    session.require(Permission.VIEW_CONTENT)
    return repo.all_profiles(session.db.conn)


def use(session: Session, pk: int | None) -> ReportProfile:
    """Administrator: use an imported profile for new reports (None: the built-in default)."""
    session.require(Permission.IMPORT_TRUSTED)
    with session.transaction() as conn:
        label = DEFAULT_PROFILE.label
        if pk is not None:
            stored = repo.get(conn, pk)
            verify_stored(session, stored.content, stored.signature, WHAT)
            label = f"{stored.profile_id} v{stored.version}"
        repo.set_active(conn, pk)
        session.audit(conn, "report.profile_use", "report_profile", label, {})
    return active(session)


def active(session: Session) -> ReportProfile:
    """The profile new reports are laid out with, re-verified against its signature now."""
    session.require(Permission.VIEW_CONTENT)
    stored = repo.active(session.db.conn)
    if stored is None:
        return DEFAULT_PROFILE
    verify_stored(session, stored.content, stored.signature, WHAT)
    return parse(stored.content, f"stored {WHAT} {stored.profile_id} v{stored.version}")
