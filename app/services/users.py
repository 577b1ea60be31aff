"""Account management (admin) and passphrase changes (IA-5)."""

from __future__ import annotations

from app.model.accounts import DEFAULT_POLICY, Account, Permission, Role, validate_username
from app.model.errors import ValidationError
from app.services import pki, workstation
from app.services.session import Session
from storage import accounts as accounts_repo
from storage import keyring_secret
from storage.keys import KEYRING_MODE, KeyHeader


def list_users(session: Session) -> list[Account]:
    session.require(Permission.VIEW_CONTENT)
    return accounts_repo.list_all(session.db.conn)


def add_user(session: Session, admin_passphrase: str, username: str, display_name: str, role: Role,
             passphrase: str) -> Account:
    """Create an account with its own key slot. Re-asks the admin's passphrase (sensitive action)."""
    session.require(Permission.MANAGE_USERS)
    validate_username(username)
    if not display_name.strip():
        raise ValidationError("display_name", "is required")
    DEFAULT_POLICY.check(passphrase, username)
    data_key = workstation.data_key_for(session, admin_passphrase)
    header = KeyHeader.load(session.header_path)
    if username in header.slots:
        raise ValidationError("username", f"a key slot for {username!r} already exists")
    secret = keyring_secret.load(header.db_id) if header.keyring_mode == KEYRING_MODE else None
    with session.transaction() as conn:
        account = accounts_repo.insert(conn, username, display_name.strip(), role, session.now(),
                                       session.account.username)
        session.audit(conn, "account.create", "account", username, {"role": role.value})
        pki.account_hook(session, conn, account)  # signing accounts get their certificate now
        # The slot is written inside the transaction: if it fails, the account is rolled back.
        header = KeyHeader.load(session.header_path)
        header.set_passphrase_slot(username, passphrase, data_key, secret)
        header.save(session.header_path)
    return account


def set_disabled(session: Session, username: str, disabled: bool) -> None:
    session.require(Permission.MANAGE_USERS)
    if username == session.account.username and disabled:
        raise ValidationError("username", "you cannot disable your own account")
    with session.transaction() as conn:
        account = accounts_repo.get(conn, username)
        if disabled and account.role is Role.ADMIN and accounts_repo.count_active_admins(conn) <= 1:
            raise ValidationError("username", "the last active administrator cannot be disabled")
        accounts_repo.set_disabled(conn, username, disabled)
        session.audit(conn, "account.disable" if disabled else "account.enable", "account", username)


def change_own_passphrase(session: Session, old: str, new: str) -> None:
    DEFAULT_POLICY.check(new, session.account.username)
    data_key = workstation.data_key_for(session, old)
    header = KeyHeader.load(session.header_path)
    secret = keyring_secret.load(header.db_id) if header.keyring_mode == KEYRING_MODE else None
    # Re-wrap only: the database itself is not re-encrypted.
    with session.transaction() as conn:
        session.audit(conn, "account.passphrase_change", "account", session.account.username)
        header = KeyHeader.load(session.header_path)
        header.set_passphrase_slot(session.account.username, new, data_key, secret)
        header.save(session.header_path)


def reset_passphrase(session: Session, admin_passphrase: str, username: str, new: str) -> None:
    session.require(Permission.MANAGE_USERS)
    DEFAULT_POLICY.check(new, username)
    data_key = workstation.data_key_for(session, admin_passphrase)
    header = KeyHeader.load(session.header_path)
    secret = keyring_secret.load(header.db_id) if header.keyring_mode == KEYRING_MODE else None
    with session.transaction() as conn:
        accounts_repo.get(conn, username)
        session.audit(conn, "account.passphrase_reset", "account", username)
        header = KeyHeader.load(session.header_path)
        header.set_passphrase_slot(username, new, data_key, secret)
        header.failures.pop(username, None)
        header.save(session.header_path)
