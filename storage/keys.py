"""Key header: the wrapped data key, one slot per account, one recovery slot.

The SQLCipher database is opened with a random 256-bit data key (raw key). That key is only
ever stored wrapped (AES-256-GCM) under a key derived from an account's passphrase
(PBKDF2-HMAC-SHA-512, parameters stored per slot so they can be raised) and, in OS-keyring
mode, mixed with a per-workstation secret from the keyring. The recovery slot is wrapped under
a 256-bit recovery key shown once at setup; it does not use the keyring secret, so a
workstation can be restored on new hardware. The header also keeps failed sign-in counters
(the database cannot be opened without a key, so they are bounded and unauthenticated: they can
lock an account out, never speak for a person), the last known audit-chain head, and per account
the chain head that person last saw, authenticated with a key only that person's passphrase gives.

The same PBKDF2 derivation that opens a person's slot also yields their *personal* wrapping key
(HKDF with its own label): it protects that person's signing key and, for administrators, the CA
key. Neither the data key nor the recovery key nor another passphrase can produce it.

Only storage.credentials reads and writes the header file (under its locks).
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from app.model.errors import AuthError, StorageError
from storage.atomic import atomic_write
from storage.db import LEGACY_PAGE_SIZE, PAGE_SIZES

FORMAT = 1
MIN_ITERATIONS = 600_000
# Tests lower this through a fixture; production code never changes it.
DEFAULT_ITERATIONS = MIN_ITERATIONS
KEYRING_MODE = "os-keyring"
PASSPHRASE_MODE = "passphrase-only"
RECOVERY_SLOT = "__recovery__"
MAX_HEADER_BYTES = 1_000_000
# Failed sign-ins are recorded before anyone is authenticated: bound what they can add.
MAX_FAILURE_NAME = 64
MAX_UNKNOWN_FAILURES = 32
# SQLCipher page size of a new workstation's database: 32 KiB pages halve the import writer's
# encryption work against 4 KiB; 64 KiB saves no more there and doubles the cost of a one-row
# commit and the size of an empty database (docs/PERFORMANCE.md, "SQLCipher page size").
NEW_PAGE_SIZE = 32768


def _b64(b: bytes) -> str:
    return base64.b64encode(b).decode()


def _unb64(s: str) -> bytes:
    return base64.b64decode(s.encode(), validate=True)


@dataclass
class Slot:
    kind: str  # "passphrase" | "recovery"
    kdf: str
    iterations: int
    salt: str
    nonce: str
    wrapped: str
    uses_keyring: bool


@dataclass
class KeyHeader:
    db_id: str
    created: str
    keyring_mode: str
    slots: dict[str, Slot] = field(default_factory=dict)
    failures: dict[str, dict[str, Any]] = field(default_factory=dict)
    audit_head: dict[str, Any] = field(default_factory=dict)
    # username -> {"seq", "hash", "decisions", "mac"}: the chain head that person last saw.
    seen_heads: dict[str, dict[str, Any]] = field(default_factory=dict)
    format: int = FORMAT
    # The database's SQLCipher page size, given before its first read. Absent from headers written
    # before it existed (and written only when not 4096, so those headers keep their shape).
    page_size: int = LEGACY_PAGE_SIZE

    # -- persistence ---------------------------------------------------------------
    def to_json(self) -> bytes:
        data = asdict(self)
        if self.page_size == LEGACY_PAGE_SIZE:
            del data["page_size"]
        return json.dumps(data, indent=1, sort_keys=True).encode()

    def save(self, path: Path) -> None:
        atomic_write(path, self.to_json())

    @classmethod
    def load(cls, path: Path) -> KeyHeader:
        try:
            with open(path, "rb") as fh:
                raw = fh.read(MAX_HEADER_BYTES + 1)
        except FileNotFoundError:
            raise StorageError(
                f"Key header {path} is missing: the database cannot be opened without it. "
                "Restore it from a backup, or restore the workstation from a backup with the recovery key."
            ) from None
        except OSError as exc:
            raise StorageError(f"Cannot read key header {path}: {exc.strerror}") from exc
        return cls.parse(raw, f"Key header {path}")

    @classmethod
    def parse(cls, raw: bytes, where: str) -> KeyHeader:
        """A header from bytes, checked field by field: damage must fail here with a message
        naming the file, not later inside PBKDF2 or AES-GCM (or hang on a huge iteration count)."""
        if len(raw) > MAX_HEADER_BYTES:
            raise StorageError(f"{where} is damaged: it is far larger than a key header")
        try:
            data = json.loads(raw)
            if not isinstance(data, dict) or not isinstance(data.get("slots"), dict):
                raise TypeError("not a key header")
            if data.get("format") != FORMAT:
                raise StorageError(f"{where} has format {data.get('format')!r}; this version reads {FORMAT}.")
            slots = {name: Slot(**s) for name, s in data.pop("slots").items()}
            # Unauthenticated "pending events" of earlier versions are not carried over: nothing
            # written without a passphrase may become an audit event.
            data.pop("pending_events", None)
            header = cls(slots=slots, **data)
            if not isinstance(header.db_id, str) or not header.db_id or not isinstance(header.created, str):
                raise TypeError("db_id")
            if header.keyring_mode not in (KEYRING_MODE, PASSPHRASE_MODE):
                raise ValueError("keyring_mode")
            if type(header.page_size) is not int or header.page_size not in PAGE_SIZES:
                raise ValueError("page_size")
            if not isinstance(header.audit_head, dict) or not isinstance(header.failures, dict) \
                    or not isinstance(header.seen_heads, dict):
                raise TypeError("bookkeeping fields")
            for seen in header.seen_heads.values():
                if not isinstance(seen, dict) or not isinstance(seen.get("seq"), int) \
                        or not isinstance(seen.get("hash"), str) or not isinstance(seen.get("mac"), str):
                    raise TypeError("seen_heads")
            for entry in header.failures.values():
                if not isinstance(entry, dict) or not isinstance(entry.get("count"), int) \
                        or not isinstance(entry.get("last"), str):
                    raise TypeError("failures")
            for name, slot in header.slots.items():
                _check_slot(name, slot)
        except StorageError:
            raise
        except (ValueError, TypeError, KeyError, AttributeError, UnicodeDecodeError, RecursionError) as exc:
            raise StorageError(f"{where} is damaged and cannot be read ({type(exc).__name__}).") from None
        return header

    @classmethod
    def new(cls, keyring_mode: str, created: str) -> KeyHeader:
        """A new workstation's header: its database is created with NEW_PAGE_SIZE pages."""
        return cls(db_id=str(uuid.uuid4()), created=created, keyring_mode=keyring_mode, page_size=NEW_PAGE_SIZE)

    # -- slots ---------------------------------------------------------------------
    def _aad(self, slot_name: str) -> bytes:
        return f"frontier-review|{self.db_id}|{slot_name}".encode()

    def _passphrase_key(self, slot: Slot, passphrase: str, keyring_secret: bytes | None) -> bytes:
        return self._slot_keys(slot, passphrase, keyring_secret)[0]

    def _slot_keys(self, slot: Slot, passphrase: str, keyring_secret: bytes | None) -> tuple[bytes, bytes]:
        """(slot wrapping key, raw PBKDF2 output) from one derivation."""
        raw = hashlib.pbkdf2_hmac("sha512", passphrase.encode(), _unb64(slot.salt), slot.iterations, 32)
        derived = raw
        if slot.uses_keyring:
            if keyring_secret is None:
                raise StorageError("This slot needs the OS keyring secret, which is unavailable.")
            derived = HKDF(
                algorithm=hashes.SHA512(), length=32, salt=self.db_id.encode(), info=b"frw/slot-wrap/v1"
            ).derive(derived + keyring_secret)
        return derived, raw

    def new_slot(self, name: str, passphrase: str, data_key: bytes, keyring_secret: bytes | None,
                 iterations: int | None = None) -> tuple[Slot, Unlocked]:
        """A slot for `name` (not yet stored: the caller puts it into a fresh header under the
        credentials lock, so the slow derivation runs outside the lock)."""
        slot = Slot(
            kind="passphrase",
            kdf="pbkdf2-hmac-sha512",
            iterations=iterations or DEFAULT_ITERATIONS,
            salt=_b64(secrets.token_bytes(16)),
            nonce=_b64(secrets.token_bytes(12)),
            wrapped="",
            uses_keyring=self.keyring_mode == KEYRING_MODE,
        )
        wrap_key, raw = self._slot_keys(slot, passphrase, keyring_secret)
        slot.wrapped = _b64(AESGCM(wrap_key).encrypt(_unb64(slot.nonce), data_key, self._aad(name)))
        return slot, Unlocked(data_key, personal_wrap_key(raw, self.db_id, name), slot.salt)

    def set_passphrase_slot(
        self, name: str, passphrase: str, data_key: bytes, keyring_secret: bytes | None,
        iterations: int | None = None,
    ) -> Unlocked:
        """Create or replace `name`'s slot; returns what unlocking it with `passphrase` gives."""
        slot, unlocked = self.new_slot(name, passphrase, data_key, keyring_secret, iterations)
        self.slots[name] = slot
        return unlocked

    def unwrap_passphrase(self, name: str, passphrase: str, keyring_secret: bytes | None) -> bytes:
        return self.unlock(name, passphrase, keyring_secret).data_key

    def unlock(self, name: str, passphrase: str, keyring_secret: bytes | None) -> Unlocked:
        """The data key and the person's own wrapping key, from one key derivation.

        An unknown account costs the same derivation as a real one (no timing oracle on names)."""
        slot = self.slots.get(name)
        if slot is None or slot.kind != "passphrase":
            hashlib.pbkdf2_hmac("sha512", passphrase.encode(), b"frw-unknown-account", DEFAULT_ITERATIONS, 32)
            raise AuthError("Unknown account or wrong passphrase.")
        wrap_key, raw = self._slot_keys(slot, passphrase, keyring_secret)
        try:
            data_key = AESGCM(wrap_key).decrypt(_unb64(slot.nonce), _unb64(slot.wrapped), self._aad(name))
        except InvalidTag:
            raise AuthError("Unknown account or wrong passphrase.") from None
        return Unlocked(data_key, personal_wrap_key(raw, self.db_id, name), slot.salt)

    # -- failed sign-ins (unauthenticated, bounded) ------------------------------------
    def record_failure(self, name: str, now: str) -> int:
        """Count a failed sign-in for `name`; returns the new count. Names that cannot be
        accounts are folded into one entry, and unknown names are capped, so a sign-in window
        cannot grow the header without bound."""
        key = name if (0 < len(name) <= MAX_FAILURE_NAME and name.isprintable()) else "__invalid__"
        if key not in self.failures and key not in self.slots:
            unknown = [n for n in self.failures if n not in self.slots]
            if len(unknown) >= MAX_UNKNOWN_FAILURES:
                key = "__other__"
        entry = self.failures.setdefault(key, {"count": 0, "last": now})
        entry["count"] = int(entry["count"]) + 1
        entry["last"] = now
        return int(entry["count"])

    def set_recovery_slot(self, data_key: bytes) -> str:
        """Create the recovery slot; returns the recovery key text (shown once, for printing)."""
        raw = secrets.token_bytes(32)
        slot = Slot("recovery", "hkdf-sha512", 0, "", _b64(secrets.token_bytes(12)), "", False)
        slot.wrapped = _b64(
            AESGCM(self._recovery_key(raw)).encrypt(_unb64(slot.nonce), data_key, self._aad(RECOVERY_SLOT))
        )
        self.slots[RECOVERY_SLOT] = slot
        return format_recovery_key(raw)

    def _recovery_key(self, raw: bytes) -> bytes:
        return HKDF(
            algorithm=hashes.SHA512(), length=32, salt=self.db_id.encode(), info=b"frw/recovery/v1"
        ).derive(raw)

    def recovery_wrap_key(self, recovery_text: str) -> bytes:
        """A key only the recovery key gives, for the recovery copy of the CA key."""
        return HKDF(algorithm=hashes.SHA512(), length=32, salt=self.db_id.encode(),
                    info=b"frw/recovery-ca/v1").derive(parse_recovery_key(recovery_text))

    def unwrap_recovery(self, recovery_text: str) -> bytes:
        slot = self.slots.get(RECOVERY_SLOT)
        if slot is None:
            raise AuthError("This workstation has no recovery slot.")
        raw = parse_recovery_key(recovery_text)
        try:
            return AESGCM(self._recovery_key(raw)).decrypt(
                _unb64(slot.nonce), _unb64(slot.wrapped), self._aad(RECOVERY_SLOT)
            )
        except InvalidTag:
            raise AuthError("The recovery key does not open this workstation.") from None


@dataclass(frozen=True)
class Unlocked:
    data_key: bytes
    personal_wrap: bytes  # wraps this person's signing key (and the CA key for administrators)
    slot_salt: str        # identifies the passphrase generation the personal wrap belongs to


def personal_wrap_key(raw: bytes, db_id: str, name: str) -> bytes:
    return HKDF(algorithm=hashes.SHA512(), length=32, salt=db_id.encode(),
                info=b"frw/personal-key/v1|" + name.encode()).derive(raw)


MAX_ITERATIONS = 10_000_000  # PBKDF2 rounds beyond this are damage (or a hang), not a setting
_SLOT_BYTES = {"salt": (0, 64), "nonce": (12, 12), "wrapped": (48, 48)}


def _check_slot(name: object, slot: object) -> None:
    if not isinstance(slot, Slot) or not isinstance(name, str) or not name:
        raise TypeError("bad slot")
    for f in ("kind", "kdf", "salt", "nonce", "wrapped"):
        if not isinstance(getattr(slot, f), str):
            raise TypeError(f"slot {name}: {f}")
    if not isinstance(slot.uses_keyring, bool) or not isinstance(slot.iterations, int) \
            or isinstance(slot.iterations, bool):
        raise TypeError(f"slot {name}: types")
    if slot.kind == "passphrase":
        if slot.kdf != "pbkdf2-hmac-sha512" or not 1 <= slot.iterations <= MAX_ITERATIONS:
            raise ValueError(f"slot {name}: kdf parameters")
    elif not (slot.kind == "recovery" and name == RECOVERY_SLOT):
        raise ValueError(f"slot {name}: kind")
    for f, (low, high) in _SLOT_BYTES.items():
        try:
            size = len(base64.b64decode(getattr(slot, f).encode(), validate=True))
        except ValueError:
            raise ValueError(f"slot {name}: {f} is not base64") from None
        if not low <= size <= high:
            raise ValueError(f"slot {name}: {f} length")


def seal(key: bytes, data: bytes, aad: bytes) -> tuple[bytes, bytes]:
    """(nonce, ciphertext) under AES-256-GCM; `aad` binds the blob to where it belongs."""
    nonce = secrets.token_bytes(12)
    return nonce, AESGCM(key).encrypt(nonce, data, aad)


def unseal(key: bytes, nonce: bytes, ciphertext: bytes, aad: bytes, what: str) -> bytes:
    try:
        return AESGCM(key).decrypt(nonce, ciphertext, aad)
    except (InvalidTag, ValueError):
        raise AuthError(f"{what} cannot be unwrapped with this passphrase.") from None


def format_recovery_key(raw: bytes) -> str:
    text = base64.b32encode(raw).decode().rstrip("=")
    return "-".join(text[i : i + 4] for i in range(0, len(text), 4))


def parse_recovery_key(text: str) -> bytes:
    cleaned = "".join(ch for ch in text.upper() if ch.isalnum())
    try:
        raw = base64.b32decode(cleaned + "=" * (-len(cleaned) % 8))
    except ValueError:
        raise AuthError("The recovery key is not valid: it has characters outside A-Z and 2-7.") from None
    if len(raw) != 32:
        raise AuthError("The recovery key is not valid: it should be 52 characters in groups of four.")
    return raw


def new_data_key() -> bytes:
    return secrets.token_bytes(32)
