-- Schema 20: a lead's record of why a flagged coverage determination stands (issue 17, point 6).
-- The flags it answers are kept (and hashed): a later, different change flags the determination again.
CREATE TABLE determination_reviews (
    id INTEGER PRIMARY KEY,
    determination_id INTEGER NOT NULL REFERENCES coverage_determinations (id),
    flags_sha256 TEXT NOT NULL,
    flags TEXT NOT NULL,
    reason TEXT NOT NULL,
    reviewed_by TEXT NOT NULL,
    reviewed_at TEXT NOT NULL
);
CREATE INDEX determination_reviews_determination ON determination_reviews (determination_id, id);
