-- Schema 5: clearinghouse vulnerability register with change history and CSAF exchange state.
CREATE TABLE vulnerabilities (
    id TEXT PRIMARY KEY,
    year INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    title TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    target TEXT NOT NULL,
    vendor TEXT NOT NULL DEFAULT '',
    product TEXT NOT NULL DEFAULT '',
    product_id TEXT NOT NULL DEFAULT '',
    cwe TEXT NOT NULL DEFAULT '',
    cve TEXT NOT NULL DEFAULT '',
    cvss_vector TEXT NOT NULL DEFAULT '',
    cvss_v3_vector TEXT NOT NULL DEFAULT '',
    score REAL,
    severity TEXT NOT NULL DEFAULT '',
    severity_rank INTEGER NOT NULL DEFAULT -1,
    submission_id INTEGER REFERENCES submissions (id),
    run_id TEXT NOT NULL DEFAULT '',
    sample_id TEXT NOT NULL DEFAULT '',
    finding_id TEXT NOT NULL DEFAULT '',
    repro_status TEXT NOT NULL,
    repro_evidence TEXT NOT NULL DEFAULT '',
    discovered TEXT,
    vendor_notified TEXT,
    embargo_until TEXT,
    published TEXT,
    tlp TEXT NOT NULL,
    remediation_category TEXT NOT NULL,
    remediation TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL,
    marking TEXT NOT NULL,
    marking_level INTEGER NOT NULL DEFAULT 0,
    tracking_id TEXT NOT NULL DEFAULT '',
    tracking_key TEXT NOT NULL DEFAULT '',
    source TEXT NOT NULL DEFAULT '',
    exchange_baseline TEXT,
    exchange_version INTEGER NOT NULL DEFAULT 0,
    exchange_history TEXT NOT NULL DEFAULT '[]',
    revision INTEGER NOT NULL DEFAULT 1,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (year, seq)
);
-- One register entry per CVE: a second entry for the same CVE is a duplicate.
CREATE UNIQUE INDEX vulnerabilities_cve ON vulnerabilities (cve) WHERE cve <> '';
CREATE INDEX vulnerabilities_tracking ON vulnerabilities (tracking_id, tracking_key);
CREATE INDEX vulnerabilities_severity ON vulnerabilities (severity_rank, score);
CREATE INDEX vulnerabilities_status ON vulnerabilities (status);
CREATE INDEX vulnerabilities_embargo ON vulnerabilities (embargo_until);
CREATE INDEX vulnerabilities_submission ON vulnerabilities (submission_id);

-- Every change, with the fields it changed and the record as it stood afterwards.
CREATE TABLE vulnerability_history (
    id INTEGER PRIMARY KEY,
    vuln_id TEXT NOT NULL REFERENCES vulnerabilities (id),
    revision INTEGER NOT NULL,
    ts TEXT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    changes TEXT NOT NULL,
    snapshot TEXT NOT NULL
);
CREATE INDEX vulnerability_history_vuln ON vulnerability_history (vuln_id, revision);
CREATE TRIGGER vulnerability_history_no_update BEFORE UPDATE ON vulnerability_history
BEGIN SELECT RAISE(ABORT, 'vulnerability history is append-only'); END;
CREATE TRIGGER vulnerability_history_no_delete BEFORE DELETE ON vulnerability_history
BEGIN SELECT RAISE(ABORT, 'vulnerability history is append-only'); END;
