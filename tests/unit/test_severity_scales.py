"""Two severity scales, one of each: a finding's Severity (the reviewer's judgement, used by the
register and the report alike) and a vulnerability's CvssSeverity (the rating of its CVSS score).
The values stored in the database are unchanged by the rename, so existing rows still load."""

from __future__ import annotations

from datetime import date

from app.model import findings as findings_model
from app.model import report as report_model
from app.model.findings import Finding, Severity
from app.model.markings import Marking
from app.model.submissions import Submission
from app.model.vulnerabilities import CvssSeverity, DiscoveryContext, Vulnerability
from app.services import findings, submissions
from app.services import vulnerabilities as vs
from tests.conftest import tamper

CRIT = "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"  # 9.3


def test_the_report_uses_the_findings_scale() -> None:
    assert report_model.ReportFinding.__annotations__["severity"] == "Severity"
    assert vars(report_model)["Severity"] is findings_model.Severity  # one enum, not a copy
    assert [s.value for s in Severity] == ["critical", "high", "medium", "low", "informational"]
    assert Severity.CRITICAL.rank < Severity.INFORMATIONAL.rank  # rank 0 is the most severe
    assert [s.value for s in CvssSeverity] == ["None", "Low", "Medium", "High", "Critical"]
    assert CvssSeverity.CRITICAL.rank > CvssSeverity.NONE.rank  # the CVSS scale ranks the other way


def test_rows_written_before_the_rename_still_load(workstation) -> None:  # type: ignore[no-untyped-def]
    s = workstation.session("reviewer")
    sub = submissions.create(s, Submission("Acme AI", "Falcon", "2", date(2026, 11, 10), date(2026, 12, 5),
                                           marking=Marking.parse("SECRET")))
    assert sub.id is not None
    made = findings.create(s, Finding(sub.id, "Exploit chain", "details", Severity.HIGH, marking=sub.marking))
    v = vs.create(s, Vulnerability(title="Sandbox escape", cvss_vector=CRIT, marking=sub.marking,
                                   context=DiscoveryContext(submission_id=sub.id)))
    conn = s.db.conn
    assert conn.execute("SELECT severity FROM findings WHERE id = ?", (made.id,)).fetchone()[0] == "high"
    assert tuple(conn.execute("SELECT severity, severity_rank FROM vulnerabilities WHERE id = ?",
                              (v.id,)).fetchone()) == ("Critical", 4)
    # every stored spelling of a finding's severity loads (rows as an earlier version wrote them)
    for stored in ("critical", "high", "medium", "low", "informational"):
        with tamper(s) as c:
            c.execute("UPDATE findings SET severity = ? WHERE id = ?", (stored, made.id))
        assert findings.list_findings(s, sub.id)[0].severity is Severity(stored)
    # the register filters on the stored CVSS rating
    hits = vs.list_all(s, vs.filters(s, [CvssSeverity.CRITICAL]))
    assert [h.id for h in hits] == [v.id] and hits[0].severity is CvssSeverity.CRITICAL
    assert vs.list_all(s, vs.filters(s, [CvssSeverity.HIGH])) == []
