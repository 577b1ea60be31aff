-- Schema 34: a release carries the OSCAL assessment results of what it releases, as the full report
-- does (reports/oscal.py over the released portions only). NULL for releases built before: their
-- signed build decisions do not cover an OSCAL document, and their packages go out without one.
ALTER TABLE releases ADD COLUMN oscal_json BLOB;
