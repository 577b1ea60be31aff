"""Checklist templates: the built-in template, signed template versions imported by an admin, and
the parsed template of a stored version (cached by content hash).

Moving an assessment to a newer template version carries answers over: that is an answer
operation and lives in app.services.assessment (migrate_template).
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from app.foundation.files import shown_name
from app.ingest import checklist_template
from app.model.accounts import Permission
from app.model.assessment_record import StoredDocument
from app.model.checklist import Template
from app.model.errors import ValidationError
from app.services.session import Session
from app.services.signed_import import read_signed
from storage import assessment_repo as repo
from storage.db import Connection

BUILTIN_TEMPLATE = "default_checklist.json"

# Parsed templates by SHA-256 of their bytes: content-addressed, so sharing across sessions is safe.
_TEMPLATE_CACHE: dict[str, Template] = {}


def builtin_template_bytes() -> bytes:
    return resources.files("app.templates").joinpath(BUILTIN_TEMPLATE).read_bytes()


def parse_stored(doc: StoredDocument) -> Template:
    """The parsed template of a stored version (parsed once per content hash)."""
    cached = _TEMPLATE_CACHE.get(doc.sha256)
    if cached is None:
        cached = checklist_template.parse(doc.content, f"template {doc.doc_id} v{doc.version}")
        _TEMPLATE_CACHE[doc.sha256] = cached
    return cached


def stored_template(conn: Connection, template_pk: int) -> Template:
    """The parsed template stored under `template_pk` (cached by content hash)."""
    return parse_stored(repo.get_template(conn, template_pk))


def ensure_builtin_template(conn: Connection, now: str, actor: str) -> StoredDocument:
    data = builtin_template_bytes()
    t = checklist_template.parse(data, BUILTIN_TEMPLATE)
    stored = repo.find_template(conn, t.template_id, t.version)
    if stored is None:
        pk = repo.insert_template(conn, t.template_id, t.version, t.title, t.sha256, data, "builtin", "", actor, now)
        stored = repo.get_template(conn, pk)
    return stored


def list_templates(session: Session) -> list[StoredDocument]:
    session.require(Permission.VIEW_CONTENT)
    return repo.templates(session.db.conn)


def shipped_template() -> Template:
    """The checklist template shipped with the application. It is stored (ensure_builtin_template) when
    the first assessment starts or a template is imported; until then it is still the one an
    assessment starts on."""
    data = builtin_template_bytes()
    return checklist_template.parse(data, BUILTIN_TEMPLATE)


def import_template(session: Session, path: Path) -> StoredDocument:
    """Admin: import a signed template version from media (FILE + FILE.p7s)."""
    session.require(Permission.IMPORT_TRUSTED)
    data, signer = read_signed(session, Path(path), checklist_template.MAX_BYTES, "checklist template")
    template = checklist_template.parse(data, str(path))
    with session.transaction() as conn:
        ensure_builtin_template(conn, session.now(), session.account.username)
        existing = repo.find_template(conn, template.template_id, template.version)
        if existing is not None:
            if existing.sha256 == template.sha256:
                raise ValidationError(str(path), f"{template.label} is already on this workstation")
            raise ValidationError(str(path), f"{template.label} already exists with different content; "
                                  "a changed template needs a new version number")
        latest = repo.latest_template(conn, template.template_id)
        if latest is not None and latest.version > template.version:
            raise ValidationError(str(path), f"version {template.version} is older than the installed "
                                  f"v{latest.version}")
        pk = repo.insert_template(conn, template.template_id, template.version, template.title, template.sha256, data,
                                  "imported", signer.describe(), session.account.username, session.now())
        session.audit(conn, "assessment.template_import", "template", f"{template.template_id} v{template.version}",
                      {"sha256": template.sha256, "signer": signer.subject, "signer_fingerprint": signer.fingerprint,
                       "file": shown_name(Path(path).name), "items": len(template.item_ids)})
        return repo.get_template(conn, pk)
