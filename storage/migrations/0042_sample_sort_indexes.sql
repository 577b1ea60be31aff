-- Schema 42: an index for every sort order of a run's sample table that had none (time, tokens and
-- the natural sample-id order, an expression index on the very terms results_repo.SAMPLE_SORTS
-- orders by), the id last as in the others. Without them every page of a run sorted by one of
-- these columns sorted the whole run again on the GUI thread: 0.4-0.5 s for a page deep in a
-- 40,000-sample run (and growing with the run); with them a page is an index walk (1-14 ms).
CREATE INDEX eval_samples_run_time ON eval_samples (run_id, total_time, id);
CREATE INDEX eval_samples_run_tokens ON eval_samples (run_id, total_tokens, id);
CREATE INDEX eval_samples_run_natural_id ON eval_samples
    (run_id, rtrim(sample_id, '0123456789'), length(sample_id), sample_id, id);
