-- Schema 24 (issue 16, points 1, 4, 5): the partner register, partners' certificates, the
-- dissemination log (what left the workstation, to whom) and partners' signed receipts.
-- Partner rows count only while an administrator's signed decision covers their exact content
-- (app/services/partners.py); log entries are signed decisions too; receipts keep the partner's
-- own bytes and detached CMS signature so they can be verified again at any time.

CREATE TABLE partners (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE COLLATE NOCASE,
    kind TEXT NOT NULL,
    codes TEXT NOT NULL,                 -- JSON list of country / organisation codes
    max_level INTEGER NOT NULL,          -- app.model.markings.Level
    tlp TEXT NOT NULL,                   -- most restricted TLP it accepts
    accesses TEXT NOT NULL DEFAULT '[]', -- JSON list of SCI / SAP / AEA accesses
    developer TEXT NOT NULL DEFAULT '',
    contacts TEXT NOT NULL DEFAULT '[]', -- JSON list of {name, email, phone, role}
    active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    updated_by TEXT NOT NULL
);
CREATE INDEX partners_developer ON partners (developer);

CREATE TABLE partner_certificates (
    id INTEGER PRIMARY KEY,
    partner_id INTEGER NOT NULL REFERENCES partners (id),
    purpose TEXT NOT NULL CHECK (purpose IN ('encryption', 'receipt')),
    der BLOB NOT NULL,
    fingerprint TEXT NOT NULL,           -- SHA-256 of the DER, hex
    subject TEXT NOT NULL,
    not_after TEXT NOT NULL,
    added_at TEXT NOT NULL,
    added_by TEXT NOT NULL,
    UNIQUE (partner_id, purpose, fingerprint)
);

CREATE TABLE dissemination_log (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('package', 'release', 'csaf', 'recall')),
    object_type TEXT NOT NULL,
    object_id TEXT NOT NULL,
    revision TEXT NOT NULL DEFAULT '',
    partner_id INTEGER NOT NULL REFERENCES partners (id),
    marking TEXT NOT NULL,
    tlp TEXT,
    embargo_until TEXT,
    manifest_sha256 TEXT NOT NULL,
    media_label TEXT NOT NULL,
    approved_by TEXT NOT NULL DEFAULT '',
    supersedes INTEGER REFERENCES dissemination_log (id),
    reason TEXT NOT NULL DEFAULT '',     -- a recall notice's reason
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL
);
CREATE INDEX dissemination_log_partner ON dissemination_log (partner_id, id);
CREATE INDEX dissemination_log_object ON dissemination_log (object_type, object_id, id);
CREATE INDEX dissemination_log_manifest ON dissemination_log (manifest_sha256);
CREATE INDEX dissemination_log_supersedes ON dissemination_log (supersedes);
CREATE TRIGGER dissemination_log_no_update BEFORE UPDATE ON dissemination_log
BEGIN SELECT RAISE(ABORT, 'the dissemination log is append-only'); END;
CREATE TRIGGER dissemination_log_no_delete BEFORE DELETE ON dissemination_log
BEGIN SELECT RAISE(ABORT, 'the dissemination log is append-only'); END;

CREATE TABLE receipts (
    id INTEGER PRIMARY KEY,
    entry_id INTEGER NOT NULL UNIQUE REFERENCES dissemination_log (id),
    partner_id INTEGER NOT NULL REFERENCES partners (id),
    manifest_sha256 TEXT NOT NULL,
    received_at TEXT NOT NULL,           -- as the partner states it
    note TEXT NOT NULL DEFAULT '',
    content BLOB NOT NULL,               -- receipt.json, exact bytes
    signature BLOB NOT NULL,             -- receipt.json.p7s, detached CMS
    signer_fingerprint TEXT NOT NULL,    -- SHA-256 of the partner's receipt certificate
    file_name TEXT NOT NULL,
    imported_at TEXT NOT NULL,
    imported_by TEXT NOT NULL
);
