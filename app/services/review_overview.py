"""Where a review stands for the screens: stage, next step, outstanding steps and the actions
this person can take now, with the settings the findings report would still lack.

Above app.services.workflow (the gate every service calls before an action) because finding the
report's missing settings means assembling the report, which reads through services that call the
gate: kept here, the services form no import circle.
"""

from __future__ import annotations

from dataclasses import replace

from app.model.checklist import State
from app.model.errors import ValidationError
from app.model.report_version import StoredReport
from app.model.workflow import Overview, available_actions, next_step, outstanding, stage
from app.services import report_assembly
from app.services.session import Session
from app.services.workflow import actor, work_state


def overview(session: Session, submission_id: int, report: StoredReport | None = None) -> Overview:
    w = work_state(session, submission_id, report)
    if w.assessment is State.APPROVED and w.report_state is None:
        w = replace(w, report_blockers=report_blockers(session, submission_id))
    return Overview(submission_id, stage(w), next_step(w), tuple(outstanding(w)), available_actions(w, actor(session)))


def report_blockers(session: Session, submission_id: int) -> tuple[str, ...]:
    """Settings the report of this submission needs and lacks (its marking decides which)."""
    try:
        report_assembly.assemble(session, submission_id)
    except ValidationError as exc:
        if exc.field in ("classification authority block", "CUI designation block"):
            return (exc.reason,)
        raise
    return ()


def describe(session: Session, submission_id: int) -> str:
    """Plain text for the CLI: stage, next step, and this person's actions with reasons."""
    ov = overview(session, submission_id)
    lines = [ov.next_line, "", f"Actions for {session.account.username} ({session.account.role.label}):"]
    for act, avail in ov.actions.items():
        lines.append(f"  [{'x' if avail.allowed else ' '}] {act.value}" + ("" if avail.allowed else
                                                                        f" — {avail.reason}"))
    return "\n".join(lines)
