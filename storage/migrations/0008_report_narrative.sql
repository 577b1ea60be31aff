-- Issue 13: findings state their impact; the report narrative (bottom line, key judgments,
-- recommendations) the reviewer writes for the decision maker, and the lead's comments on it.

ALTER TABLE findings ADD COLUMN impact TEXT NOT NULL DEFAULT '';

CREATE TABLE report_narratives (
    submission_id INTEGER PRIMARY KEY REFERENCES submissions (id),
    bottom_line TEXT NOT NULL DEFAULT '',
    bottom_line_marking TEXT NOT NULL,
    judgments TEXT NOT NULL DEFAULT '[]',  -- JSON: [{"text", "confidence", "marking"}]
    recommendations TEXT NOT NULL DEFAULT '',
    recommendations_marking TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

-- A lead comments on a part or returns it; the reviewer's next edit of that part resolves a return.
CREATE TABLE narrative_comments (
    id INTEGER PRIMARY KEY,
    submission_id INTEGER NOT NULL REFERENCES submissions (id),
    part TEXT NOT NULL CHECK (part IN ('bottom_line', 'judgments', 'recommendations')),
    action TEXT NOT NULL CHECK (action IN ('comment', 'return')),
    comment TEXT NOT NULL,
    author TEXT NOT NULL,
    created_at TEXT NOT NULL,
    resolved_by TEXT NOT NULL DEFAULT '',
    resolved_at TEXT NOT NULL DEFAULT ''
);
CREATE INDEX narrative_comments_submission ON narrative_comments (submission_id, id);
