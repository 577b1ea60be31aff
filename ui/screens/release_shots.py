"""Screenshots of reports leaving the workstation, for docs/screenshots (called from ui/screenshots.py
once the demo's partners are registered, with fresh sign-ins; `passphrases` are the demo's):

    from ui.screens.release_shots import render_screenshots as release_shots
    release_shots(reviewer, lead, passphrases, tmp / "partners", lambda w, name, size: _snap(app, w, out, name, size))

- report_page_in_app_preview.png: the Reports screen previewing the demo's countersigned Aurora 4.0
  report, verified.
- sealed_package_seal_dialog.png / sealed_package_open_dialog.png: that report exported, the seal
  dialog choosing a partner for it, and the open dialog filled with the package really sealed to
  that partner and the partner's own key and certificate (written by app/services/demo_partners.py).
- release_side_by_side.png: the Helix-Coder 2.0 review finished with two NOFORN portions, and the
  release built for the allied UK partner compared side by side in the Release tab (as the lead
  who approves it sees it).

Everything goes through the real services; the folders are under `scratch` (a temporary folder).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtWidgets import QApplication, QWidget

from app.model.checklist import Status
from app.model.errors import FrontierError
from app.model.findings import Finding, Severity
from app.model.markings import Marking
from app.model.submissions import Submission
from app.services import (
    assessment,
    assessment_review,
    coverage,
    findings,
    partners,
    releases,
    reports,
    sealing,
    submissions,
)
from ui.context import UiContext

Snap = Callable[[QWidget, str, tuple[int, int]], None]
ALLIED = "UK AI Security Institute"  # demo partners (app/services/demo_partners.py)
AGENCY = "CISA"
NOFORN = Marking.parse("CUI//NOFORN")


def _find(ctx: UiContext, model: str, version: str) -> Submission | None:
    found = submissions.page(ctx.session, 0, 50, search=model)
    return next((s for s in found if s.model_name == model and s.version == version and s.id is not None), None)


def _settle(seconds: float = 1.0) -> None:
    """Let QPdfView render its pages (it does so on its own thread)."""
    for _ in range(int(seconds / 0.025)):
        QApplication.processEvents()
        time.sleep(0.025)


def _report_preview(lead: UiContext, window: QWidget, submission_id: int, report_id: int, snap: Snap) -> None:
    screen = window.show_screen("reports")  # type: ignore[attr-defined]
    screen.pick(submission_id)
    screen.select(report_id)
    screen.verify()
    window.resize(1280, 800)
    window.show()
    _settle()
    snap(window, "report_page_in_app_preview", (1280, 800))


def _sealed_package_shots(ctx: UiContext, window: QWidget, report_id: int, passphrase: str, scratch: Path,
                          snap: Snap) -> None:
    from ui.dialogs.sealed_package import OpenSealedDialog, SealDialog, partner_names
    from ui.screens.report_screen import MEDIA_LABELS

    report = reports.get(ctx.session, report_id)
    usb = scratch / "usb"
    usb.mkdir(parents=True, exist_ok=True)
    package = reports.export(ctx.session, report_id, usb, report.marking, passphrase).package.path
    dialog = SealDialog(partner_names(ctx), MEDIA_LABELS, package, window)
    dialog.check(AGENCY)
    destination = scratch / "cisa-usb"
    destination.mkdir(exist_ok=True)
    dialog.destination.setText(str(destination))
    snap(dialog, "sealed_package_seal_dialog", (760, 480))
    request = dialog.request()
    dialog.close()
    if request is None:
        return
    sealed = sealing.seal_folder(ctx.session, request.folder, request.partners, request.destination,
                                 request.media).result.path
    # What the partner holds: its own key, and the certificate registered for it here.
    own = scratch / f"{AGENCY}_encryption"
    opener = OpenSealedDialog(window)
    opener.sealed.setText(str(sealed))
    opener.key.setText(str(own.with_suffix(".key")))
    opener.cert.setText(str(own.with_suffix(".pem")))
    opener.destination.setText(str(scratch / "received"))
    snap(opener, "sealed_package_open_dialog", (760, opener.sizeHint().height()))
    opener.close()


def _finish_review(reviewer: UiContext, lead: UiContext, submission_id: int) -> None:
    """The Helix-Coder 2.0 review answered, a determination recorded and both approved by the lead;
    the exploit details are marked NOFORN."""
    rev = reviewer.session
    view = assessment.for_submission(rev, submission_id) or assessment.start(rev, submission_id)
    for item_id in view.template.item_ids:
        assessment.answer(rev, view.id, item_id, status=Status.SATISFIED,
                          justification=f"{item_id}: checked against the developer's reports and our own runs.")
    assessment.answer(rev, view.id, "CAP-03", status=Status.NOT_SATISFIED, marking=NOFORN,
                      justification="From the library's source alone the model wrote a working exploit for the "
                                    "TIFF strip decoder's heap overflow.")
    findings.create(rev, Finding(submission_id, "Exploit development from source",
                                 "The model turned a crashing input into a working heap-overflow exploit.",
                                 Severity.HIGH, "Withhold exploit-writing tools from the hosted release.",
                                 ("CAP-03",), marking=NOFORN))
    findings.create(rev, Finding(submission_id, "Secure code generation adequate",
                                 "Generated code passed the secure-coding suite at the developer's rate.",
                                 Severity.LOW, "None.", ("SAF-04",), marking=Marking.parse("CUI")))
    assessment_review.submit(rev, view.id)
    det = coverage.record_determination(rev, submission_id, "Declared training compute 9.5e25 is below the "
                                        "reference presumptions; the exploitation screen is what matters.")
    coverage.approve_determination(lead.session, det.id)
    assessment_review.approve(lead.session, view.id, "Agreed; share with allies without the exploit details.")


def _release_side_by_side(reviewer: UiContext, lead: UiContext, passphrase: str, snap: Snap) -> None:
    from ui.screens.release_tab import ReleaseTab

    helix = _find(reviewer, "Helix-Coder", "2.0")
    uk = next((p for p in partners.list_all(reviewer.session) if p.name == ALLIED), None)
    if helix is None or helix.id is None or uk is None or uk.id is None:
        return
    _finish_review(reviewer, lead, helix.id)
    built = releases.build(reviewer.session, helix.id, uk.id, passphrase)
    tab = ReleaseTab(lead, helix.id)
    tab.partner_box.setCurrentIndex(max(tab.partner_box.findData(uk.id), 0))  # the partner it was built for
    tab.resize(1280, 800)
    tab.show()
    tab.select(built.id)  # laid out now: the full side opens at the first withheld portion
    snap(tab, "release_side_by_side", (1280, 800))
    tab.close()


def render_screenshots(reviewer: UiContext, lead: UiContext, passphrases: dict[str, str], scratch: Path,
                       snap: Snap) -> None:
    from ui.main_window import MainWindow

    aurora = _find(lead, "Aurora", "4.0")
    signed = None
    if aurora is not None and aurora.id is not None:
        signed = next((r for r in reports.for_submission(lead.session, aurora.id) if r.countersigned_by), None)
    window = MainWindow(lead)
    try:
        if aurora is not None and aurora.id is not None and signed is not None:
            _report_preview(lead, window, aurora.id, signed.id, snap)
            _sealed_package_shots(lead, window, signed.id, passphrases[lead.session.account.username], scratch,
                                  snap)
        _release_side_by_side(reviewer, lead, passphrases[reviewer.session.account.username], snap)
    except FrontierError as exc:  # a screenshot run must not stop on demo data
        print(f"release screenshots: {exc}")
    finally:
        window.close()
