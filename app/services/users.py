"""Account management (admin) and passphrase changes (IA-5).

Every change another person relies on is a decision signed by the administrator who made it
(app.services.decisions): creation with its role, disable, enable, passphrase reset. A new or
reset account gets a *first* passphrase from the administrator; its holder must replace it at
first sign-in, which is when their own signing key is created (so the administrator never holds
a copy of it). Disabling removes the account's key slot and revokes its certificates.
"""

from __future__ import annotations

from app.model.accounts import DEFAULT_POLICY, Account, Permission, Role, check_passphrase_for, validate_username
from app.model.errors import ValidationError
from app.services import decisions, identity, pki, workstation
from app.services.revocation import revoke_account
from app.services.session import Session
from storage import accounts as accounts_repo
from storage import identity_repo, keyring_secret
from storage.db import Connection
from storage.keys import KEYRING_MODE, Unlocked


def list_users(session: Session) -> list[Account]:
    session.require(Permission.VIEW_CONTENT)
    return accounts_repo.list_all(session.db.conn)


def _secret(session: Session) -> bytes | None:
    header = session.credentials.read()
    return keyring_secret.load(header.db_id) if header.keyring_mode == KEYRING_MODE else None


def _decide(session: Session, conn: Connection, kind: str, username: str, content: dict[str, object]) -> None:
    decisions.record(conn, session.personal, kind, "account", username, session.account.username, session.now(),
                     session.db_id, {"username": username, **content})


def _enrol(session: Session, conn: Connection, account: Account, first: Unlocked) -> None:
    """Keep what the first passphrase gives for the CA holders (to check the person's certificate
    request) and, for an administrator, a wrap of the CA key under it."""
    ca = pki.load_ca(session)
    identity.store_enrolment(conn, session.db_id, account.username, first, ca.key, session.now(),
                             session.account.username)
    identity_repo.remove_ca_wrap(conn, account.username)
    if account.role is Role.ADMIN:
        identity.wrap_ca_for(conn, session.db_id, account.username, first, ca.key, session.now())


def check_first_passphrase(passphrase: str, username: str) -> None:
    """The passphrase policy for the first passphrase an administrator gives `username`: the refusal
    says whose passphrase it is (not the administrator's own, just typed to sign in). The account
    form calls it before it asks for the administrator's passphrase."""
    check_passphrase_for(passphrase, username, f"the first passphrase for the account {username}")


def add_user(session: Session, admin_passphrase: str, username: str, display_name: str, role: Role,
             passphrase: str) -> Account:
    """Create an account with a first passphrase its holder replaces at first sign-in.
    Re-asks the admin's passphrase (sensitive action); the creation is a signed decision."""
    session.require(Permission.MANAGE_USERS)
    validate_username(username)
    if not display_name.strip():
        raise ValidationError("display_name", "is required")
    check_first_passphrase(passphrase, username)
    data_key = session.reauthenticate(admin_passphrase).data_key
    header = session.credentials.read()
    if username in header.slots:
        raise ValidationError("username", f"a key slot for {username!r} already exists")
    slot, first = header.new_slot(username, passphrase, data_key, _secret(session))
    with session.transaction() as conn:
        account = accounts_repo.insert(conn, username, display_name.strip(), role, session.now(),
                                       session.account.username, must_change_passphrase=True)
        _decide(session, conn, "account.create", username, {"role": role.value, "display_name": account.display_name})
        _enrol(session, conn, account, first)
        session.audit(conn, "account.create", "account", username, {"role": role.value})
        # The slot is written inside the transaction: if it fails, the account is rolled back.
        with session.credentials.update() as fresh:
            if username in fresh.slots:
                raise ValidationError("username", f"a key slot for {username!r} already exists")
            fresh.slots[username] = slot
    return account


def set_disabled(session: Session, username: str, disabled: bool, admin_passphrase: str | None = None,
                 new_passphrase: str | None = None) -> None:
    """Disable: signed, the key slot removed, certificates revoked. Enable: signed, with a new
    first passphrase (the old slot is gone) that the person replaces at sign-in."""
    session.require(Permission.MANAGE_USERS)
    if username == session.account.username and disabled:
        raise ValidationError("username", "you cannot disable your own account")
    if not disabled:
        if not new_passphrase or not admin_passphrase:
            raise ValidationError("passphrase", "re-enabling an account sets a new first passphrase for it")
        check_first_passphrase(new_passphrase, username)
    data_key = session.reauthenticate(admin_passphrase).data_key if admin_passphrase else None
    header = session.credentials.read()
    slot_first = (header.new_slot(username, new_passphrase, data_key, _secret(session))
                  if not disabled and new_passphrase and data_key else None)
    ca = pki.load_ca(session)
    with session.transaction() as conn:
        account = accounts_repo.get(conn, username)
        if disabled and account.role is Role.ADMIN and accounts_repo.count_active_admins(conn) <= 1:
            raise ValidationError("username", "the last active administrator cannot be disabled")
        accounts_repo.set_disabled(conn, username, disabled)
        _decide(session, conn, "account.disable" if disabled else "account.enable", username,
                {"role": account.role.value})
        session.audit(conn, "account.disable" if disabled else "account.enable", "account", username)
        if disabled:
            revoke_account(session, conn, ca, username, "account disabled")
            identity_repo.remove_ca_wrap(conn, username)
            identity_repo.remove_enrolment(conn, username)
            with session.credentials.update() as fresh:
                fresh.slots.pop(username, None)  # its passphrase no longer opens anything
                fresh.seen_heads.pop(username, None)
        else:
            assert slot_first is not None
            accounts_repo.set_must_change_passphrase(conn, username, True)
            _enrol(session, conn, accounts_repo.get(conn, username), slot_first[1])
            with session.credentials.update() as fresh:
                fresh.slots[username] = slot_first[0]
                fresh.failures.pop(username, None)


def change_own_passphrase(session: Session, old: str, new: str) -> None:
    """Re-wrap only: the data key, the person's signing key and (administrators) the CA key move
    under the new passphrase; the database itself is not re-encrypted."""
    DEFAULT_POLICY.check(new, session.account.username)
    before = session.reauthenticate(old)
    header = session.credentials.read()
    slot, after = header.new_slot(session.account.username, new, before.data_key, _secret(session))
    username = session.account.username
    with session.transaction() as conn:
        if session.personal is not None:
            identity.rewrap_personal_key(conn, session.db_id, session.personal, after)
        if identity_repo.ca_wrap(conn, username) is not None:
            ca = identity.open_ca_key(conn, session.db_id, session.account, before)
            identity.wrap_ca_for(conn, session.db_id, username, after, ca.key, session.now())
        _reseal_pkcs12(session, conn, after)
        session.audit(conn, "account.passphrase_change", "account", username)
        with session.credentials.update() as fresh:
            fresh.slots[username] = slot
    session.unlocked = after


def _reseal_pkcs12(session: Session, conn: Connection, after: Unlocked) -> None:
    from storage import pki_repo

    for ident in pki_repo.identities(conn, session.account.username):
        if ident.key_der and ident.key_der.startswith(pki.SEALED):
            key = pki._unseal_identity_key(session, ident.key_der)
            previous, session.unlocked = session.unlocked, after
            try:
                conn.execute("UPDATE signing_identities SET key_der = ? WHERE id = ?",
                             (pki._seal_identity_key(session, key), ident.id))
            finally:
                session.unlocked = previous


def reset_passphrase(session: Session, admin_passphrase: str, username: str, new: str) -> None:
    """Administrator: give `username` a new first passphrase. Their signing key was wrapped under
    the lost one and is destroyed with its certificate revoked; they make a new one at sign-in."""
    session.require(Permission.MANAGE_USERS)
    if username == session.account.username:
        raise ValidationError("username", "change your own passphrase with Change passphrase (it keeps your key)")
    check_first_passphrase(new, username)
    data_key = session.reauthenticate(admin_passphrase).data_key
    header = session.credentials.read()
    slot, first = header.new_slot(username, new, data_key, _secret(session))
    ca = pki.load_ca(session)
    with session.transaction() as conn:
        account = accounts_repo.get(conn, username)
        _decide(session, conn, "account.passphrase_reset", username, {"role": account.role.value})
        session.audit(conn, "account.passphrase_reset", "account", username)
        revoke_account(session, conn, ca, username, "passphrase reset by an administrator")
        accounts_repo.set_must_change_passphrase(conn, username, True)
        _enrol(session, conn, account, first)
        with session.credentials.update() as fresh:
            fresh.slots[username] = slot
            fresh.failures.pop(username, None)


def create_and_enrol(admin: Session, admin_passphrase: str, username: str, display_name: str, role: Role,
                     passphrase: str) -> Account:
    """Scripted workstations (demo, self-test, benchmarks), where one operator plays both parts:
    create the account with a first passphrase, sign in as the person to set `passphrase` (which
    creates their key), and certify the key from the administrator's session."""
    first = f"first-{passphrase}-given"
    account = add_user(admin, admin_passphrase, username, display_name, role, first)
    workstation.change_initial_passphrase(admin.data_dir, username, first, passphrase, admin.clock).close()
    pki.issue_pending(admin)
    return account
