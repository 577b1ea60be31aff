-- Schema 25 (issue 16, point 2): releasable versions of a findings report, one per partner and build.
-- A release is computed from the full report (app/model/release.py), rendered, signed by its builder,
-- and countersigned by a releasing official (a lead who is not the builder) after the side-by-side.
-- The rows a gate reads are backed by signed decisions (release.build, release.approve) over the PDF
-- and text hashes stored here; an edited row or PDF fails those checks (app/services/releases.py).

CREATE TABLE releases (
    id INTEGER PRIMARY KEY,
    submission_id INTEGER NOT NULL REFERENCES submissions (id),
    partner_id INTEGER NOT NULL,         -- partners (id), migration 0024
    partner_name TEXT NOT NULL,
    own INTEGER NOT NULL CHECK (own IN (0, 1)),  -- the partner is the submitting developer
    control_number TEXT NOT NULL UNIQUE,
    state TEXT NOT NULL CHECK (state IN ('built', 'approved', 'exported')),
    marking TEXT NOT NULL,               -- computed: roll-up of the kept portions
    title TEXT NOT NULL,
    full_sha256 TEXT NOT NULL,           -- SHA-256 of the full report's findings JSON (full_json)
    full_json BLOB NOT NULL,
    full_text TEXT NOT NULL,             -- JSON: every portion of the full report, withheld ones with reasons
    released_text TEXT NOT NULL,         -- JSON: every portion of the release
    withheld TEXT NOT NULL,              -- JSON: counts per section and per reason category
    built_sha256 TEXT NOT NULL,          -- the released PDF as its builder signed it
    sha256 TEXT NOT NULL,                -- the stored PDF now (countersigned after approval)
    pdf BLOB NOT NULL,
    findings_json BLOB NOT NULL,
    signature_layout TEXT NOT NULL DEFAULT '{}',
    built_by TEXT NOT NULL,
    built_at TEXT NOT NULL,
    approved_by TEXT,
    approved_at TEXT,
    exported_by TEXT,
    exported_at TEXT,
    export_path TEXT,
    manifest_sha256 TEXT,
    media_label TEXT,
    dissemination_id INTEGER            -- dissemination_log (id) of the export
);
CREATE INDEX releases_submission ON releases (submission_id, partner_id, id);
