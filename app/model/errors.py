"""Typed exceptions whose text is written for the person at the workstation.

Every layer raises these; the CLI prints `str(exc)` and the UI shows it in one place
(ui/errors.py). Messages name the file, field or object concerned, never a secret.
"""

from __future__ import annotations


class FrontierError(Exception):
    """Base class: the message is safe and meant to be shown to a reviewer."""


class ValidationError(FrontierError):
    """Input that breaks a rule; `field` names the offending field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.reason = message


class IngestError(FrontierError):
    """A file from media could not be read; the message names the file and the place."""

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path = path
        self.problem = problem


class AuthError(FrontierError):
    """Wrong passphrase, unknown account, disabled account."""


class PassphraseChangeRequired(AuthError):
    """The account still has the first passphrase an administrator chose: the person sets their
    own (and so creates their own signing key) before anything else."""

    def __init__(self, username: str) -> None:
        super().__init__(f"Account '{username}' still has the first passphrase an administrator set: choose your "
                         "own passphrase to continue (it protects your personal signing key).")
        self.username = username


class LockedOutError(AuthError):
    """`after_failure`: this very attempt was wrong and started the delay (else the delay was already
    running and the passphrase was not tried); the message then says so first, in `failure`'s words."""

    WRONG = "Unknown account or wrong passphrase."

    def __init__(self, username: str, seconds: float, after_failure: bool = False, failure: str = WRONG) -> None:
        lead = f"{failure} " if after_failure else ""
        super().__init__(
            f"{lead}Account '{username}' is locked after repeated failed sign-ins; try again in {int(seconds) + 1} s."
        )
        self.username = username
        self.seconds = seconds
        self.after_failure = after_failure
        self.failure = failure if after_failure else ""


class PermissionDenied(FrontierError):
    """The signed-in account's role does not allow the action (enforced in services)."""


class StorageError(FrontierError):
    """The database or key header cannot be opened or written."""


class IntegrityError(FrontierError):
    """Something was modified: audit chain, database page, signature, package, backup."""


class NotFound(FrontierError):
    pass


class Cancelled(FrontierError):
    def __init__(self, what: str = "Operation") -> None:
        super().__init__(f"{what} cancelled; nothing was stored.")
