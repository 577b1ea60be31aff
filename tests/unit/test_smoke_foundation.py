from datetime import date

from app.model.submissions import Submission
from app.services import audit, submissions


def test_reviewer_creates_submission_and_chain_verifies(workstation):
    s = workstation.session("reviewer")
    sub = submissions.create(s, Submission("Acme AI", "Falcon", "2.0", date(2026, 11, 1), date(2026, 11, 25)))
    assert sub.id == 1
    a = workstation.session("auditor")
    result = audit.verify(a)
    assert result.ok, result.problems
    assert result.events > 5
