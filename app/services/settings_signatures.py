"""Workstation settings as an administrator signed them, not as the database says.

The settings decide what everyone's screen and paper carry: the system-high banner and editors'
ceiling, the consent text, the classification and CUI authority blocks printed on every marked
document, the idle lock, the review clock's "at risk" window. The workstation name and system-high
are signed at setup (`workstation.init`); every change an administrator saves is a `settings.record`
decision over the editable values themselves. A session uses the values of the newest decision that
holds (a certified key of a person whose signed role manages settings) wherever the stored row says
otherwise, and tells the person signing in which settings were changed around the application.
A workstation from before signed settings is attested by the next administrator who signs in.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Protocol

from app.model.accounts import ROLE_PERMISSIONS, Permission
from app.model.errors import FrontierError
from app.model.settings import EDITABLE_SETTINGS as EDITABLE
from app.model.settings import Settings
from app.services import decisions
from storage import decisions_repo, settings_repo
from storage.db import Connection

KIND = "settings.record"
OBJECT = "settings"
SETUP = {"workstation_name": "name", "system_high": "system_high"}  # Settings field -> workstation.init content


class _Signer(Protocol):  # a Session (this module sits below app.services.session, which loads settings)
    personal: Any
    db_id: str

    @property
    def account(self) -> Any: ...

    def now(self) -> str: ...


def sign(session: _Signer, conn: Connection, settings: Settings) -> None:
    """Sign the editable values as saved (last in the transaction that saved them)."""
    if session.personal is None:  # a workstation from before personal keys, until the next sign-in
        return
    decisions.record(conn, session.personal, KIND, OBJECT, session.db_id, session.account.username, session.now(),
                     session.db_id, {k: getattr(settings, k) for k in EDITABLE}, require_certified=False)


def has_signed_settings(conn: Connection, db_id: str) -> bool:
    return bool(decisions_repo.for_object(conn, OBJECT, db_id, (KIND,)))


def _holding(conn: Connection, reg: decisions.Registry, object_type: str, object_id: str,
             kinds: tuple[str, ...]) -> dict[str, Any] | None:
    """The content of the newest decision of `kinds` that holds, by a person whose signed role
    manages settings, if any."""
    for d in reversed(decisions_repo.for_object(conn, object_type, object_id, kinds)):
        if decisions.problem(reg, d) is None:
            role = decisions.actor_role(conn, reg, d.actor)
            if role is not None and Permission.MANAGE_SETTINGS in ROLE_PERMISSIONS[role]:
                return decisions.content_of(d)
    return None


def load(conn: Connection, db_id: str) -> tuple[Settings, list[str]]:
    """The settings to use, and the names of those whose stored value is not what an administrator
    signed (the signed value is used for them)."""
    stored = settings_repo.load(conn)
    reg = decisions.Registry.load(conn, db_id)
    signed: dict[str, Any] = {}
    init = _holding(conn, reg, "workstation", db_id, ("workstation.init",))
    if init is not None:
        signed.update({field: init[key] for field, key in SETUP.items() if key in init})
    edited = _holding(conn, reg, OBJECT, db_id, (KIND,))
    if edited is None and init is not None and init.get("signed_records"):
        # set up since settings are signed, yet no signed settings: every signature of them was
        # deleted; the defaults, not the rows, until an administrator saves them again
        edited = Settings().to_dict()
    if edited is not None:
        signed.update({k: edited[k] for k in EDITABLE if k in edited})
    changed = [k for k, v in signed.items() if getattr(stored, k) != v]
    if not changed:
        return stored, []
    try:
        return dataclasses.replace(stored, **{k: signed[k] for k in changed}), changed
    except (TypeError, FrontierError):  # a signed value this version cannot take: keep the stored ones
        return stored, changed
