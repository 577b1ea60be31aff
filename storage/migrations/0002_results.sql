-- Schema 2: benchmark results (evaluation runs, metrics, per-sample results, transcripts, FTS).
CREATE TABLE benchmark_map (
    task TEXT PRIMARY KEY,
    benchmark TEXT NOT NULL,
    mapped_by TEXT NOT NULL,
    mapped_at TEXT NOT NULL
);

CREATE TABLE eval_runs (
    id INTEGER PRIMARY KEY,
    submission_id INTEGER NOT NULL REFERENCES submissions (id),
    file_sha256 TEXT NOT NULL,
    original_name TEXT NOT NULL,
    file_size INTEGER NOT NULL,
    format TEXT NOT NULL,
    media_label TEXT NOT NULL DEFAULT '',
    harness TEXT NOT NULL,
    harness_version TEXT NOT NULL DEFAULT '',
    task TEXT NOT NULL,
    task_version TEXT NOT NULL DEFAULT '',
    model TEXT NOT NULL,
    created TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL,
    epochs INTEGER NOT NULL DEFAULT 1,
    total_samples INTEGER,
    completed_samples INTEGER,
    errored_samples INTEGER NOT NULL DEFAULT 0,
    sample_count INTEGER NOT NULL DEFAULT 0,
    incomplete INTEGER NOT NULL DEFAULT 0,
    error_message TEXT NOT NULL DEFAULT '',
    eval_id TEXT NOT NULL DEFAULT '',
    eval_run_id TEXT NOT NULL DEFAULT '',
    dataset TEXT NOT NULL DEFAULT '',
    notes TEXT NOT NULL DEFAULT '[]',
    imported_by TEXT NOT NULL,
    imported_at TEXT NOT NULL,
    UNIQUE (file_sha256, task, model)
);
CREATE INDEX eval_runs_submission ON eval_runs (submission_id, id);
CREATE INDEX eval_runs_task ON eval_runs (task);

CREATE TABLE eval_metrics (
    run_id INTEGER NOT NULL REFERENCES eval_runs (id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    scorer TEXT NOT NULL DEFAULT '',
    metric TEXT NOT NULL,
    filter TEXT NOT NULL DEFAULT '',
    reducer TEXT NOT NULL DEFAULT '',
    value REAL,
    stderr REAL,
    direction TEXT NOT NULL DEFAULT 'unknown',
    PRIMARY KEY (run_id, seq)
);

-- Large text columns last: paging reads the small columns without following overflow pages.
CREATE TABLE eval_samples (
    id INTEGER PRIMARY KEY,
    run_id INTEGER NOT NULL REFERENCES eval_runs (id) ON DELETE CASCADE,
    sample_id TEXT NOT NULL,
    epoch INTEGER NOT NULL DEFAULT 1,
    score REAL,
    has_error INTEGER NOT NULL DEFAULT 0,
    total_time REAL,
    working_time REAL,
    input_tokens INTEGER,
    output_tokens INTEGER,
    total_tokens INTEGER,
    scores TEXT NOT NULL DEFAULT '{}',
    error TEXT NOT NULL DEFAULT '',
    target TEXT NOT NULL DEFAULT '',
    answer TEXT NOT NULL DEFAULT '',
    input TEXT NOT NULL DEFAULT ''
);
CREATE INDEX eval_samples_run ON eval_samples (run_id, id);
CREATE INDEX eval_samples_run_score ON eval_samples (run_id, score, id);
CREATE INDEX eval_samples_run_epoch ON eval_samples (run_id, epoch, id);
CREATE INDEX eval_samples_run_error ON eval_samples (run_id, has_error, id);
CREATE INDEX eval_samples_run_sample ON eval_samples (run_id, sample_id, epoch);

-- One zstd-compressed JSON document per sample: messages, tool calls, events, attachments.
CREATE TABLE eval_transcripts (
    sample_pk INTEGER PRIMARY KEY REFERENCES eval_samples (id) ON DELETE CASCADE,
    codec TEXT NOT NULL,
    raw_size INTEGER NOT NULL,
    data BLOB NOT NULL
);

-- Full-text search over what the model was asked and answered (external content: no copy).
CREATE VIRTUAL TABLE eval_samples_fts USING fts5 (
    input, target, answer,
    content = 'eval_samples', content_rowid = 'id', tokenize = 'unicode61 remove_diacritics 2'
);
CREATE TRIGGER eval_samples_fts_insert AFTER INSERT ON eval_samples BEGIN
    INSERT INTO eval_samples_fts (rowid, input, target, answer) VALUES (new.id, new.input, new.target, new.answer);
END;
CREATE TRIGGER eval_samples_fts_delete AFTER DELETE ON eval_samples BEGIN
    INSERT INTO eval_samples_fts (eval_samples_fts, rowid, input, target, answer)
    VALUES ('delete', old.id, old.input, old.target, old.answer);
END;
