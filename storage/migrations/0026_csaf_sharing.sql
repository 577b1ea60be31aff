-- Schema 26: CSAF sharing (issue 16 point 6).
-- Remediations and partner notes become lists of entries (a partner's vendor fix next to our
-- "none available" is a second entry, not text appended to ours). The single remediation of each
-- existing record becomes one entry; the exchange baselines are converted the same way so the next
-- three-way merge compares like with like. Empty text was exported as the "none available" sentence.
ALTER TABLE vulnerabilities ADD COLUMN remediations TEXT NOT NULL DEFAULT '[]';
ALTER TABLE vulnerabilities ADD COLUMN notes TEXT NOT NULL DEFAULT '[]';
UPDATE vulnerabilities SET remediations = json_array(json_object(
    'category', remediation_category,
    'details', CASE WHEN trim(remediation) = '' THEN 'No remediation is available yet.' ELSE remediation END,
    'product_ids', json_array(), 'date', '', 'url', ''));
UPDATE vulnerabilities SET exchange_baseline = json_remove(json_set(exchange_baseline,
    '$.remediations', json_array(json_object(
        'category', coalesce(json_extract(exchange_baseline, '$.remediation_category'), 'none_available'),
        'details', CASE WHEN trim(coalesce(json_extract(exchange_baseline, '$.remediation'), '')) = ''
                        THEN 'No remediation is available yet.'
                        ELSE json_extract(exchange_baseline, '$.remediation') END,
        'product_ids', json_array(), 'date', '', 'url', '')),
    '$.notes', json_array()), '$.remediation_category', '$.remediation')
WHERE exchange_baseline IS NOT NULL;
ALTER TABLE vulnerabilities DROP COLUMN remediation_category;
ALTER TABLE vulnerabilities DROP COLUMN remediation;

-- Who received which revision of which advisory, at which TLP and marking (issue 16 points 4 and 6).
-- A row is written in the same transaction as the export it records; it is never changed afterwards.
CREATE TABLE csaf_recipients (
    id INTEGER PRIMARY KEY,
    vuln_id TEXT NOT NULL REFERENCES vulnerabilities (id),
    tracking_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    recipient TEXT NOT NULL,
    partner_id INTEGER,
    tlp TEXT NOT NULL,
    marking TEXT NOT NULL,
    embargo_until TEXT,
    media_marking TEXT NOT NULL,
    destination TEXT NOT NULL,
    file TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    manifest_sha256 TEXT NOT NULL DEFAULT '',
    override_reason TEXT NOT NULL DEFAULT '',
    override_by TEXT NOT NULL DEFAULT '',
    -- the signed decision (csaf.share or csaf.share_override) this row must agree with
    decision_id INTEGER NOT NULL,
    exported_by TEXT NOT NULL,
    exported_at TEXT NOT NULL
);
CREATE INDEX csaf_recipients_vuln ON csaf_recipients (vuln_id, version);
CREATE TRIGGER csaf_recipients_no_update BEFORE UPDATE ON csaf_recipients
BEGIN SELECT RAISE(ABORT, 'the CSAF recipients log is append-only'); END;
CREATE TRIGGER csaf_recipients_no_delete BEFORE DELETE ON csaf_recipients
BEGIN SELECT RAISE(ABORT, 'the CSAF recipients log is append-only'); END;
