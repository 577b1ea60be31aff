-- Schema 27: Zstandard dictionaries for transcripts (issue 19 point 3, docs/PERFORMANCE.md
-- "Zstandard dictionary for lm-eval transcripts"). An lm-eval samples line is 2-3 KB: compressed
-- alone it gets ratio 5, compressed with a 32 KiB dictionary trained on the file's first lines
-- far more, and three times faster. The dictionary is stored once (deduplicated by its SHA-256)
-- and named by every transcript compressed with it.
CREATE TABLE transcript_dictionaries (
    id INTEGER PRIMARY KEY,
    sha256 TEXT NOT NULL UNIQUE,
    data BLOB NOT NULL,
    created TEXT NOT NULL
);

-- A transcript names its dictionary exactly when its codec needs one; the foreign key refuses to
-- delete a dictionary that a transcript still uses (never a transcript without its dictionary).
ALTER TABLE eval_transcripts ADD COLUMN dict_id INTEGER REFERENCES transcript_dictionaries (id)
    CHECK ((dict_id IS NOT NULL) = (codec = 'zstd-dict-json'));
CREATE INDEX eval_transcripts_dict ON eval_transcripts (dict_id) WHERE dict_id IS NOT NULL;

-- No orphan dictionary: when the last transcript using one goes (a run deleted, by any path,
-- including the cascade from eval_samples), the dictionary goes with it in the same transaction.
CREATE TRIGGER eval_transcripts_dict_release AFTER DELETE ON eval_transcripts
WHEN OLD.dict_id IS NOT NULL
 AND NOT EXISTS (SELECT 1 FROM eval_transcripts WHERE dict_id = OLD.dict_id)
BEGIN
    DELETE FROM transcript_dictionaries WHERE id = OLD.dict_id;
END;
