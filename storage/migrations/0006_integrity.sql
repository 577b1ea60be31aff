-- Schema 6: integrity that holds against an insider (per-person keys, signed decisions,
-- signed audit events, revocation). Everything another person relies on carries a signature by
-- a key that only its owner's passphrase unwraps; rows without one do not count.

-- An administrator chooses a new account's first passphrase; the person replaces it at first sign-in.
ALTER TABLE accounts ADD COLUMN must_change_passphrase INTEGER NOT NULL DEFAULT 0;

-- Each person's signing key, wrapped (AES-256-GCM) under a key derived from that person's own
-- passphrase only: neither the data key, the recovery key nor another passphrase unwraps it.
CREATE TABLE personal_keys (
    id INTEGER PRIMARY KEY,
    username TEXT NOT NULL,
    fingerprint TEXT NOT NULL UNIQUE,   -- SHA-256 of the DER SubjectPublicKeyInfo
    public_der BLOB NOT NULL,
    wrap_salt TEXT NOT NULL,            -- the key-slot salt its wrapping key was derived under
    nonce BLOB NOT NULL,
    wrapped BLOB NOT NULL,
    origin TEXT NOT NULL,               -- setup | first-sign-in | migrated
    created_at TEXT NOT NULL,
    retired_at TEXT
);
CREATE INDEX personal_keys_user ON personal_keys (username, retired_at);

-- A certificate request made at first sign-in, authenticated with the enrolment secret (a key
-- derived from the first passphrase the administrator chose), issued by an administrator.
CREATE TABLE certificate_requests (
    id INTEGER PRIMARY KEY,
    username TEXT NOT NULL,
    key_fingerprint TEXT NOT NULL,
    csr_der BLOB NOT NULL,
    proof TEXT NOT NULL,                -- HMAC-SHA-256 over the CSR with the enrolment secret
    requested_at TEXT NOT NULL,
    issued_at TEXT,
    certificate_fingerprint TEXT
);

-- The enrolment secret of an account whose first passphrase an administrator set, wrapped for
-- the CA holders (under the CA-key wrapping of each administrator): lets an administrator check
-- that a certificate request came from someone who knew that first passphrase.
CREATE TABLE enrolments (
    username TEXT PRIMARY KEY,
    salt TEXT NOT NULL,
    nonce BLOB NOT NULL,
    wrapped BLOB NOT NULL,              -- the enrolment secret under the CA enrolment key
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL
);

-- The CA private key, wrapped once per administrator under that administrator's personal key.
CREATE TABLE ca_key_wraps (
    username TEXT PRIMARY KEY,
    wrap_salt TEXT NOT NULL,
    nonce BLOB NOT NULL,
    wrapped BLOB NOT NULL,
    created_at TEXT NOT NULL
);

-- Decisions another person relies on, each signed by its actor's personal key over the canonical
-- digest of what was decided and of the content it covers.
CREATE TABLE decisions (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    object_type TEXT NOT NULL,
    object_id TEXT NOT NULL,
    actor TEXT NOT NULL,
    ts TEXT NOT NULL,
    content TEXT NOT NULL,              -- canonical JSON
    digest TEXT NOT NULL,               -- SHA-256 of the canonical statement
    key_fingerprint TEXT NOT NULL,
    signature BLOB NOT NULL
);
CREATE INDEX decisions_object ON decisions (object_type, object_id, kind);

-- Revoked certificates; the CRL itself (DER, signed by the CA) travels in packages and backups.
CREATE TABLE revocations (
    fingerprint TEXT PRIMARY KEY,
    serial TEXT NOT NULL,
    username TEXT NOT NULL,
    revoked_at TEXT NOT NULL,
    reason TEXT NOT NULL,
    revoked_by TEXT NOT NULL
);
CREATE TABLE crl (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    der BLOB NOT NULL,
    updated_at TEXT NOT NULL
);

-- Audit events are signed by their actor's personal key (signature over the event hash).
ALTER TABLE audit_events ADD COLUMN signer TEXT NOT NULL DEFAULT '';
ALTER TABLE audit_events ADD COLUMN signature TEXT NOT NULL DEFAULT '';

-- A workstation identity created before per-person keys kept its private key under the shared
-- data key: marked, so signatures made with it say so.
ALTER TABLE signing_identities ADD COLUMN legacy_key INTEGER NOT NULL DEFAULT 0;
UPDATE signing_identities SET legacy_key = 1 WHERE key_der IS NOT NULL;
