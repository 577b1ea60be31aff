-- Schema 10: benchmark definitions as signed documents, evaluation plans (issue 17).

-- The exact bytes imported and their detached signature, so hash and signature stay checkable.
CREATE TABLE benchmark_documents (
    id INTEGER PRIMARY KEY,
    document_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    title TEXT NOT NULL,
    marking TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    content BLOB NOT NULL,
    signature BLOB,
    origin TEXT NOT NULL CHECK (origin IN ('builtin', 'imported')),
    signer TEXT NOT NULL DEFAULT '',
    imported_by TEXT NOT NULL,
    imported_at TEXT NOT NULL,
    UNIQUE (document_id, version)
);

-- One row per definition (benchmark id and version), pointing at the document that carries it.
CREATE TABLE benchmark_definitions (
    id INTEGER PRIMARY KEY,
    benchmark_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    name TEXT NOT NULL,
    marking TEXT NOT NULL,
    document_pk INTEGER NOT NULL REFERENCES benchmark_documents (id),
    UNIQUE (benchmark_id, version)
);

-- Which benchmarks (by id and version) a submission's review must run; proposed from the active
-- rule set, edited by a lead.
CREATE TABLE evaluation_plans (
    submission_id INTEGER NOT NULL REFERENCES submissions (id),
    benchmark_id TEXT NOT NULL,
    benchmark_version INTEGER NOT NULL,
    origin TEXT NOT NULL CHECK (origin IN ('proposed', 'lead')),
    note TEXT NOT NULL DEFAULT '',
    set_by TEXT NOT NULL,
    set_at TEXT NOT NULL,
    PRIMARY KEY (submission_id, benchmark_id)
);
