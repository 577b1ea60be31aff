-- Schema 4: workstation PKI (CA, signing identities, trusted roots) and findings reports.

-- The workstation CA; its private key lives only here, inside the encrypted database.
CREATE TABLE pki_ca (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    subject TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    cert_der BLOB NOT NULL,
    key_der BLOB NOT NULL,
    created_at TEXT NOT NULL
);

-- One active signing identity per account: issued here, imported PKCS#12, or a PKCS#11 token.
CREATE TABLE signing_identities (
    id INTEGER PRIMARY KEY,
    username TEXT NOT NULL REFERENCES accounts (username),
    source TEXT NOT NULL CHECK (source IN ('workstation', 'pkcs12', 'pkcs11')),
    subject TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    not_after TEXT NOT NULL,
    cert_der BLOB NOT NULL,
    chain_pem BLOB NOT NULL DEFAULT x'',
    key_der BLOB,
    token_module TEXT NOT NULL DEFAULT '',
    token_label TEXT NOT NULL DEFAULT '',
    key_label TEXT NOT NULL DEFAULT '',
    active INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL
);
CREATE INDEX signing_identities_user ON signing_identities (username, active);

-- Roots this workstation trusts when verifying signatures: its own CA plus imported agency/peer CAs.
CREATE TABLE trusted_roots (
    id INTEGER PRIMARY KEY,
    fingerprint TEXT NOT NULL UNIQUE,
    subject TEXT NOT NULL,
    origin TEXT NOT NULL CHECK (origin IN ('workstation', 'imported')),
    cert_der BLOB NOT NULL,
    added_by TEXT NOT NULL,
    added_at TEXT NOT NULL,
    removed_at TEXT
);

CREATE TABLE reports (
    id INTEGER PRIMARY KEY,
    submission_id INTEGER NOT NULL REFERENCES submissions (id),
    version INTEGER NOT NULL,
    control_number TEXT NOT NULL UNIQUE,
    state TEXT NOT NULL CHECK (state IN ('built', 'signed', 'countersigned')),
    marking TEXT NOT NULL,
    title TEXT NOT NULL,
    built_sha256 TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    pdf BLOB NOT NULL,
    signature_layout TEXT NOT NULL DEFAULT '{}',
    oscal_json BLOB NOT NULL DEFAULT x'',
    findings_json BLOB NOT NULL DEFAULT x'',
    audit_head TEXT NOT NULL,
    built_by TEXT NOT NULL,
    built_at TEXT NOT NULL,
    signed_by TEXT,
    signed_at TEXT,
    countersigned_by TEXT,
    countersigned_at TEXT,
    UNIQUE (submission_id, version)
);
CREATE INDEX reports_submission ON reports (submission_id);
