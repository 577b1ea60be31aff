-- Issue 11: a run cited as evidence by an approved assessment is what the approval rests on; it
-- can be neither deleted nor moved to another submission while that approval stands. The service
-- refuses with a message first; these triggers hold the same rule for any other writer.

CREATE INDEX evidence_links_run ON evidence_links (run_id) WHERE run_id IS NOT NULL;

CREATE TRIGGER eval_runs_cited_no_delete BEFORE DELETE ON eval_runs
WHEN EXISTS (SELECT 1 FROM evidence_links e JOIN assessments a ON a.id = e.assessment_id
             WHERE e.run_id = OLD.id AND e.removed_at IS NULL AND a.state = 'approved')
BEGIN SELECT RAISE(ABORT, 'run is cited as evidence by an approved assessment'); END;

CREATE TRIGGER eval_runs_cited_no_move BEFORE UPDATE OF submission_id ON eval_runs
WHEN NEW.submission_id IS NOT OLD.submission_id
 AND EXISTS (SELECT 1 FROM evidence_links e JOIN assessments a ON a.id = e.assessment_id
             WHERE e.run_id = OLD.id AND e.removed_at IS NULL AND a.state = 'approved')
BEGIN SELECT RAISE(ABORT, 'run is cited as evidence by an approved assessment'); END;

CREATE TRIGGER eval_samples_cited_no_delete BEFORE DELETE ON eval_samples
WHEN EXISTS (SELECT 1 FROM evidence_links e JOIN assessments a ON a.id = e.assessment_id
             WHERE e.run_id = OLD.run_id AND e.removed_at IS NULL AND a.state = 'approved')
BEGIN SELECT RAISE(ABORT, 'run is cited as evidence by an approved assessment'); END;
