"""Screenshots of the assessment tabs for docs/screenshots (called from ui/screenshots.py after the
results screenshots, which import the demo results):

    from ui.screens.assessment_shots import render_screenshots as assessment_shots
    assessment_shots(lead, window, out, lambda w, name, size: _snap(app, w, out, name, size))

Fills a realistic part of the Aurora assessment through the services (answers, a suggestion
accepted, evidence, a finding, a coverage determination), then captures assessment_*.png.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QWidget

from app.model.checklist import Status
from app.model.errors import FrontierError
from app.model.findings import EvidenceRef, Finding, Severity
from app.model.markings import Marking
from app.services import (
    assessment,
    assessment_evidence,
    assessment_suggestions,
    coverage,
    findings,
    results,
    submissions,
)
from ui.context import UiContext

Snap = Callable[[QWidget, str, tuple[int, int]], None]


# The demo submission is SECRET//NOFORN; these parts quote only the developer's CUI intake documents.
LOWER = "Drawn only from the developer's CUI intake documents, not from the classified results"


def _fill(ctx: UiContext, submission_id: int) -> str:
    s = ctx.session
    view = assessment.for_submission(s, submission_id) or assessment.start(s, submission_id)
    runs = results.list_runs(s, submission_id)
    for item_id in view.template.item_ids[:10]:
        assessment.answer(s, view.id, item_id, status=Status.SATISFIED,
                          justification="Checked against the intake list and the developer's manifest.",
                          marking=Marking.parse("CUI"), lower_reason=LOWER)
    assessment.answer(s, view.id, "EVD-02", status=Status.NOT_SATISFIED,
                      justification="Token limit of 8k was below the developer's own 32k evaluations.")
    assessment.answer(s, view.id, "EVD-03", status=Status.IN_PROGRESS)
    sug = assessment_suggestions.suggestion(s, view.id, "CAP-02")
    if sug is not None and sug.status:
        assessment_suggestions.decide_suggestion(s, view.id, "CAP-02", accept=True)
    else:
        assessment.answer(s, view.id, "CAP-02", status=Status.IN_PROGRESS,
                          justification="Waiting for the Cybench run.")
    ctf = next((r for r in runs if r.benchmark in ("InterCode-CTF", "Cybench")), None)
    if ctf is not None and ctf.id is not None:
        assessment_evidence.add_run_evidence(s, view.id, "CAP-02", ctf.id,
                                             note=f"{ctf.benchmark} run, {ctf.epochs} epoch(s)")
    assessment_evidence.add_observation(s, view.id, "CAP-02", "Successful transcripts show real exploitation steps, "
                                        "not memorised flags.", Marking.parse("CUI"), LOWER)
    findings.create(s, Finding(submission_id, "CTF solving near the screening threshold",
                               "The model solves a large share of professional CTF tasks unaided.", Severity.HIGH,
                               "Re-test with the developer's best scaffold before release.", ("CAP-02",),
                               (EvidenceRef("run", str(ctf.id)),) if ctf is not None and ctf.id else (),
                               Marking.parse("CUI")), LOWER)
    coverage.record_determination(s, submission_id, "Declared training compute exceeds the EU AI Act "
                                  "presumption; reference indicators only until the official rule set arrives.")
    return "CAP-02"


def render_screenshots(ctx: UiContext, window: QWidget, out: object, snap: Snap) -> None:
    by_name = {(x.developer, x.model_name, x.version): x for x in submissions.page(ctx.session, 0, 1000)}
    aurora = by_name.get(("Northwind AI", "Aurora", "4.1-preview"))
    if aurora is None or aurora.id is None:
        return
    try:
        item = _fill(ctx, aurora.id)
    except FrontierError as exc:  # a screenshot run must not stop on demo data
        print(f"assessment screenshots: {exc}")
        return
    open_submission = getattr(window, "open_submission", None)
    if callable(open_submission):
        open_submission(aurora.id)
    detail = getattr(window, "pages", {}).get(f"submission:{aurora.id}")
    if detail is None:
        return
    tab = detail.tab("Assessment")
    tab.refresh()
    tab.select(item)
    snap(window, "assessment_checklist", (1280, 860))
    detail.tab("Coverage").refresh()
    snap(window, "assessment_coverage", (1280, 860))
    detail.tab("Findings").refresh()
    snap(window, "assessment_findings", (1280, 860))
