-- Schema 41: an index for every sort order of the submissions and vulnerabilities registers, the
-- record's id last, so the tables read the page after a row by seeking its key
-- (storage/keyset.py) instead of walking OFFSET rows. A submissions index ends with the rowid (its
-- id) by itself; the register's id is a TEXT key, so it is named. "status" of submissions is
-- computed from other tables and has no index.
CREATE INDEX submissions_developer_nocase ON submissions (developer COLLATE NOCASE);
CREATE INDEX submissions_model_nocase ON submissions (model_name COLLATE NOCASE);
CREATE INDEX submissions_version_nocase ON submissions (version COLLATE NOCASE);
CREATE INDEX submissions_received ON submissions (received);
CREATE INDEX submissions_marking ON submissions (marking);

-- These three become prefixes of the sort indexes below.
DROP INDEX vulnerabilities_severity;
DROP INDEX vulnerabilities_status;
DROP INDEX vulnerabilities_embargo;
CREATE INDEX vulnerabilities_title_sort ON vulnerabilities (title COLLATE NOCASE, id);
CREATE INDEX vulnerabilities_severity_sort ON vulnerabilities (severity_rank, score, id);
CREATE INDEX vulnerabilities_score_sort ON vulnerabilities (score, id);
CREATE INDEX vulnerabilities_status_sort ON vulnerabilities (status, id);
CREATE INDEX vulnerabilities_embargo_sort ON vulnerabilities (embargo_until, id);
CREATE INDEX vulnerabilities_vendor_sort ON vulnerabilities (vendor COLLATE NOCASE, product COLLATE NOCASE, id);
CREATE INDEX vulnerabilities_cve_sort ON vulnerabilities (cve, id);
CREATE INDEX vulnerabilities_tlp_sort ON vulnerabilities (tlp, id);
CREATE INDEX vulnerabilities_updated_sort ON vulnerabilities (updated_at, id);
