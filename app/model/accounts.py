"""Accounts, roles, permissions and the passphrase policy (AC-3, AC-6, IA-5)."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from app.model.errors import ValidationError


class Role(enum.StrEnum):
    ADMIN = "admin"
    REVIEWER = "reviewer"
    LEAD = "lead"
    AUDITOR = "auditor"

    @property
    def label(self) -> str:
        return {"lead": "Lead reviewer"}.get(self.value, self.value.capitalize())


class Permission(enum.StrEnum):
    MANAGE_USERS = "manage_users"
    MANAGE_SETTINGS = "manage_settings"
    EDIT_SUBMISSIONS = "edit_submissions"
    VIEW_CONTENT = "view_content"
    IMPORT_RESULTS = "import_results"
    ASSESS = "assess"
    APPROVE = "approve"
    IMPORT_TRUSTED = "import_trusted"  # checklist templates, rule sets, CA certificates
    EXPORT = "export"
    SIGN = "sign"
    VIEW_AUDIT = "view_audit"
    MANAGE_VULNS = "manage_vulns"
    BACKUP = "backup"
    MANAGE_PARTNERS = "manage_partners"  # the partner register (issue 16)


_REVIEW = {
    Permission.EDIT_SUBMISSIONS,
    Permission.VIEW_CONTENT,
    Permission.IMPORT_RESULTS,
    Permission.ASSESS,
    Permission.EXPORT,
    Permission.SIGN,
    Permission.MANAGE_VULNS,
}

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.ADMIN: frozenset(
        {
            Permission.MANAGE_USERS,
            Permission.MANAGE_SETTINGS,
            Permission.VIEW_CONTENT,
            Permission.IMPORT_TRUSTED,
            Permission.VIEW_AUDIT,
            Permission.BACKUP,
            Permission.EXPORT,
            Permission.MANAGE_PARTNERS,
        }
    ),
    Role.REVIEWER: frozenset(_REVIEW),
    Role.LEAD: frozenset(_REVIEW | {Permission.APPROVE}),
    # Auditors read everything and change nothing.
    Role.AUDITOR: frozenset({Permission.VIEW_CONTENT, Permission.VIEW_AUDIT}),
}


@dataclass(frozen=True)
class Account:
    id: int
    username: str
    display_name: str
    role: Role
    disabled: bool
    created_at: str

    def can(self, permission: Permission) -> bool:
        return not self.disabled and permission in ROLE_PERMISSIONS[self.role]


USERNAME_RULE = "3-32 characters: lower-case letters, digits, dot, dash, underscore; starting with a letter"


def validate_username(username: str) -> str:
    import re

    if not re.fullmatch(r"[a-z][a-z0-9._-]{2,31}", username or ""):
        raise ValidationError("username", USERNAME_RULE)
    return username


@dataclass(frozen=True)
class PassphrasePolicy:
    """IA-5: length beats composition rules (NIST SP 800-63B); reject the obvious."""

    min_length: int = 12
    max_length: int = 256

    def check(self, passphrase: str, username: str = "") -> None:
        if len(passphrase) < self.min_length:
            raise ValidationError("passphrase", f"must be at least {self.min_length} characters")
        if len(passphrase) > self.max_length:
            raise ValidationError("passphrase", f"must be at most {self.max_length} characters")
        if len(set(passphrase)) < 5:
            raise ValidationError("passphrase", "uses too few distinct characters")
        if username and username.lower() in passphrase.lower():
            raise ValidationError("passphrase", "must not contain the username")


DEFAULT_POLICY = PassphrasePolicy()


def check_passphrase_for(passphrase: str, username: str, whose: str) -> None:
    """The passphrase policy for a passphrase being chosen for `username`, its refusal naming it as
    `whose` ("the first passphrase for the account rita"), so it is not taken for the passphrase the
    person just typed to sign in or to confirm."""
    try:
        DEFAULT_POLICY.check(passphrase, username)
    except ValidationError as exc:
        reason = exc.reason.replace("the username", f"the username {username}") if username else exc.reason
        raise ValidationError(whose, reason) from None


def identity_problems(username: str, display_name: str) -> list[str]:
    """What is wrong with an account's name and display name on a form, each naming its field (the
    setup wizard's administrator page and Accounts ▸ Add account list every problem at once)."""
    found = []
    try:
        validate_username(username)
    except ValidationError as exc:
        found.append(f"Account name: {exc.reason}.")
    if not display_name.strip():
        found.append("Display name is required.")
    return found


def lockout_delay(failures: int) -> float:
    """Seconds an account stays locked after `failures` consecutive failures.

    Three free attempts, then 30 s doubling up to one hour.
    """
    if failures < 3:
        return 0.0
    return float(min(30 * 2 ** (failures - 3), 3600))
