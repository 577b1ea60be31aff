-- Issue 13: report profiles (an agency's mandated layout), imported signed like templates. The exact
-- bytes and their detached signature are kept, so the profile is re-verified every time it is used.

CREATE TABLE report_profiles (
    id INTEGER PRIMARY KEY,
    profile_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    name TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    content BLOB NOT NULL,
    signature BLOB NOT NULL,
    signer TEXT NOT NULL,
    imported_by TEXT NOT NULL,
    imported_at TEXT NOT NULL,
    active INTEGER NOT NULL DEFAULT 0 CHECK (active IN (0, 1)),
    UNIQUE (profile_id, version)
);
