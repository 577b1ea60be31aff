"""The demo workstation (`frontier-review --demo`) is built through the real services."""

from __future__ import annotations

from app.model.submissions import WindowState
from app.model.workflow import Stage
from app.services import (
    assessment,
    assignments,
    audit,
    findings,
    results,
    submissions,
    vulnerabilities,
    workstation,
)
from app.services.demo import DEMO_ACCOUNTS, create_demo_workstation
from tests.conftest import FIXED_NOW


def test_demo_has_something_on_every_screen(tmp_path) -> None:  # type: ignore[no-untyped-def]
    demo = create_demo_workstation(tmp_path / "demo", clock=lambda: FIXED_NOW)
    lead = workstation.sign_in(demo.data_dir, "okafor", DEMO_ACCOUNTS["okafor"][2], clock=lambda: FIXED_NOW)
    try:
        board = submissions.dashboard(lead)
        states = {row.window for row in board.rows}
        assert {WindowState.OVERDUE, WindowState.AT_RISK, WindowState.ON_TRACK} <= states
        # Work at several stages: one review released, one withdrawn, both gone from the open reviews.
        assert board.stages[Stage.RELEASED] == 1 and board.stages[Stage.WITHDRAWN] == 1
        assert board.open_total == 6 == sum(board.counts.values())
        assert [r.detail for r in assignments.awaiting_decision(lead)] == ["approve coverage determination"]
        subs = submissions.page(lead, 0, 50)
        assert len(subs) == 8 and all(submissions.artifacts(lead, s.id) for s in subs)
        with_results = [s for s in subs if results.list_runs(lead, s.id)]
        assert len(with_results) == 6
        aurora = next(s for s in subs if s.version == "4.1-preview")
        assert assessment.for_submission(lead, aurora.id) is not None
        assert findings.list_findings(lead, aurora.id)
        # the clearinghouse register: an entry from the Aurora finding affecting three products, marked as
        # its submission, and one in software a model attacked
        register = vulnerabilities.list_all(lead)
        assert len(register) == 2
        several = next(v for v in register if v.more_products)
        assert [p.product for p in several.products] == ["Aurora 4.1-preview", "Aurora 4.0",
                                                          "Aurora agent toolkit 2.3"]
        assert several.context.submission_id == aurora.id and several.context.finding_id
        assert several.marking == aurora.marking and several.severity is not None
        auditor = workstation.sign_in(demo.data_dir, "lindqvist", DEMO_ACCOUNTS["lindqvist"][2])
        assert audit.verify(auditor).ok
        auditor.close()
    finally:
        lead.close()
    assert not list(tmp_path.glob("*.csv")) and not list(tmp_path.glob("*.md")), "scratch files removed"
