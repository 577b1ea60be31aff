-- Schema 3: assessment (checklist templates, coverage rule sets, assessments, answers with full
-- history, evidence links, findings, coverage determinations, review comments).

-- Templates and rule sets keep the exact bytes imported, so their hash and signature stay checkable.
CREATE TABLE checklist_templates (
    id INTEGER PRIMARY KEY,
    template_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    title TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    content BLOB NOT NULL,
    origin TEXT NOT NULL CHECK (origin IN ('builtin', 'imported')),
    signer TEXT NOT NULL DEFAULT '',
    imported_by TEXT NOT NULL,
    imported_at TEXT NOT NULL,
    UNIQUE (template_id, version)
);

CREATE TABLE coverage_rulesets (
    id INTEGER PRIMARY KEY,
    ruleset_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    label TEXT NOT NULL CHECK (label IN ('reference', 'classified')),
    title TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    content BLOB NOT NULL,
    origin TEXT NOT NULL CHECK (origin IN ('builtin', 'imported')),
    signer TEXT NOT NULL DEFAULT '',
    active INTEGER NOT NULL DEFAULT 0,
    imported_by TEXT NOT NULL,
    imported_at TEXT NOT NULL,
    UNIQUE (ruleset_id, version)
);

-- One assessment per submission, pinned to the template version it started with.
CREATE TABLE assessments (
    id INTEGER PRIMARY KEY,
    submission_id INTEGER NOT NULL UNIQUE REFERENCES submissions (id),
    template_pk INTEGER NOT NULL REFERENCES checklist_templates (id),
    state TEXT NOT NULL CHECK (state IN ('draft', 'submitted', 'approved', 'returned')),
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    submitted_by TEXT,
    submitted_at TEXT,
    approved_by TEXT,
    approved_at TEXT
);

CREATE TABLE assessment_transitions (
    id INTEGER PRIMARY KEY,
    assessment_id INTEGER NOT NULL REFERENCES assessments (id),
    action TEXT NOT NULL,
    from_state TEXT NOT NULL,
    to_state TEXT NOT NULL,
    actor TEXT NOT NULL,
    at TEXT NOT NULL,
    comment TEXT NOT NULL DEFAULT ''
);
CREATE INDEX assessment_transitions_assessment ON assessment_transitions (assessment_id, id);

CREATE TABLE answers (
    assessment_id INTEGER NOT NULL REFERENCES assessments (id),
    item_id TEXT NOT NULL,
    status TEXT NOT NULL,
    justification TEXT NOT NULL DEFAULT '',
    marking TEXT NOT NULL,
    risk_expiry TEXT,
    risk_approved_by TEXT,
    risk_approved_at TEXT,
    updated_by TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (assessment_id, item_id)
);

-- Every change of every answer: who, when, the values after the change, what changed and why.
CREATE TABLE answer_history (
    id INTEGER PRIMARY KEY,
    assessment_id INTEGER NOT NULL REFERENCES assessments (id),
    item_id TEXT NOT NULL,
    changed_by TEXT NOT NULL,
    changed_at TEXT NOT NULL,
    status TEXT NOT NULL,
    justification TEXT NOT NULL,
    marking TEXT NOT NULL,
    risk_expiry TEXT,
    risk_approved_by TEXT,
    changes TEXT NOT NULL,
    reason TEXT NOT NULL DEFAULT ''
);
CREATE INDEX answer_history_item ON answer_history (assessment_id, item_id, id);
CREATE TRIGGER answer_history_no_update BEFORE UPDATE ON answer_history
BEGIN SELECT RAISE(ABORT, 'answer history is append-only'); END;
CREATE TRIGGER answer_history_no_delete BEFORE DELETE ON answer_history
BEGIN SELECT RAISE(ABORT, 'answer history is append-only'); END;

CREATE TABLE evidence_links (
    id INTEGER PRIMARY KEY,
    assessment_id INTEGER NOT NULL REFERENCES assessments (id),
    item_id TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('run', 'sample', 'file', 'observation')),
    run_id INTEGER,
    sample_id TEXT,
    sha256 TEXT REFERENCES blobs (sha256),
    filename TEXT NOT NULL DEFAULT '',
    size INTEGER,
    text TEXT NOT NULL DEFAULT '',
    marking TEXT NOT NULL,
    added_by TEXT NOT NULL,
    added_at TEXT NOT NULL,
    removed_by TEXT,
    removed_at TEXT
);
CREATE INDEX evidence_links_item ON evidence_links (assessment_id, item_id);

CREATE TABLE suggestion_decisions (
    id INTEGER PRIMARY KEY,
    assessment_id INTEGER NOT NULL REFERENCES assessments (id),
    item_id TEXT NOT NULL,
    decision TEXT NOT NULL CHECK (decision IN ('accepted', 'overridden')),
    suggested_status TEXT NOT NULL,
    ruleset_sha256 TEXT NOT NULL,
    rule_ids TEXT NOT NULL,
    run_ids TEXT NOT NULL,
    suggestion TEXT NOT NULL,
    reason TEXT NOT NULL DEFAULT '',
    decided_by TEXT NOT NULL,
    decided_at TEXT NOT NULL
);
CREATE INDEX suggestion_decisions_item ON suggestion_decisions (assessment_id, item_id);

CREATE TABLE review_comments (
    id INTEGER PRIMARY KEY,
    assessment_id INTEGER NOT NULL REFERENCES assessments (id),
    transition_id INTEGER REFERENCES assessment_transitions (id),
    item_id TEXT,
    comment TEXT NOT NULL,
    author TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX review_comments_assessment ON review_comments (assessment_id, item_id);

CREATE TABLE findings (
    id INTEGER PRIMARY KEY,
    submission_id INTEGER NOT NULL REFERENCES submissions (id),
    number INTEGER NOT NULL,
    title TEXT NOT NULL,
    description TEXT NOT NULL,
    severity TEXT NOT NULL CHECK (severity IN ('critical', 'high', 'medium', 'low', 'informational')),
    recommendation TEXT NOT NULL DEFAULT '',
    item_ids TEXT NOT NULL DEFAULT '[]',
    evidence TEXT NOT NULL DEFAULT '[]',
    marking TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    deleted INTEGER NOT NULL DEFAULT 0,
    UNIQUE (submission_id, number)
);

CREATE TABLE coverage_determinations (
    id INTEGER PRIMARY KEY,
    submission_id INTEGER NOT NULL REFERENCES submissions (id),
    ruleset_pk INTEGER NOT NULL REFERENCES coverage_rulesets (id),
    ruleset_id TEXT NOT NULL,
    ruleset_version INTEGER NOT NULL,
    ruleset_sha256 TEXT NOT NULL,
    inputs TEXT NOT NULL,
    inputs_fingerprint TEXT NOT NULL,
    evaluation TEXT NOT NULL,
    outcome TEXT NOT NULL CHECK (outcome IN ('covered', 'not covered', 'undetermined')),
    rationale TEXT NOT NULL,
    marking TEXT NOT NULL,
    recorded_by TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    approved_by TEXT,
    approved_at TEXT,
    superseded_at TEXT
);
CREATE INDEX coverage_determinations_submission ON coverage_determinations (submission_id, id);
