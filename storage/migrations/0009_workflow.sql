-- Review workflow (issue 14): releases, assignments, discussion threads, item-by-item approval.

-- Each export of a countersigned report: the lifecycle's "released" follows from these rows.
CREATE TABLE report_releases (
    id INTEGER PRIMARY KEY,
    report_id INTEGER NOT NULL REFERENCES reports (id),
    submission_id INTEGER NOT NULL REFERENCES submissions (id),
    destination TEXT NOT NULL,
    media TEXT NOT NULL,
    released_by TEXT NOT NULL,
    released_at TEXT NOT NULL
);
CREATE INDEX report_releases_submission ON report_releases (submission_id);

-- A lead assigns a reviewer to a submission ('' section: the whole checklist) or to one section.
CREATE TABLE assignments (
    id INTEGER PRIMARY KEY,
    submission_id INTEGER NOT NULL REFERENCES submissions (id),
    username TEXT NOT NULL,
    section_id TEXT NOT NULL DEFAULT '',
    assigned_by TEXT NOT NULL,
    assigned_at TEXT NOT NULL,
    removed_by TEXT,
    removed_at TEXT
);
CREATE INDEX assignments_submission ON assignments (submission_id);
CREATE INDEX assignments_user ON assignments (username);

-- Discussion threads on a checklist item, a finding, a vulnerability or the determination.
-- Kept in the record: the database refuses edits and deletions.
-- submission_id is NULL only for a vulnerability recorded without a submission.
CREATE TABLE discussion (
    id INTEGER PRIMARY KEY,
    submission_id INTEGER REFERENCES submissions (id),
    target_type TEXT NOT NULL CHECK (target_type IN ('item', 'finding', 'vulnerability', 'determination')),
    target_id TEXT NOT NULL,
    body TEXT NOT NULL,
    marking TEXT NOT NULL,
    author TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX discussion_target ON discussion (target_type, target_id, id);
CREATE INDEX discussion_submission ON discussion (submission_id, id);
CREATE TRIGGER discussion_no_update BEFORE UPDATE ON discussion
BEGIN SELECT RAISE(ABORT, 'comments are kept in the record: append-only'); END;
CREATE TRIGGER discussion_no_delete BEFORE DELETE ON discussion
BEGIN SELECT RAISE(ABORT, 'comments are kept in the record: append-only'); END;

-- A lead's approval of one checklist answer, pinned to a digest of the answer's content: a later
-- change of the answer voids it.
CREATE TABLE item_approvals (
    assessment_id INTEGER NOT NULL REFERENCES assessments (id),
    item_id TEXT NOT NULL,
    answer_digest TEXT NOT NULL,
    approved_by TEXT NOT NULL,
    approved_at TEXT NOT NULL,
    PRIMARY KEY (assessment_id, item_id)
);
