"""Render every screen offscreen with a demo workstation: `python -m ui.screenshots docs/screenshots`.

Uses the real services and a real (temporary) demo workstation, so the pictures show what a
reviewer sees. Nothing is written outside the output folder and a temporary directory.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtWidgets import QApplication, QWidget

from app.model.markings import Marking
from app.services import audit, submissions, workstation
from app.services.demo import create_demo_workstation
from ui import theme
from ui.context import UiContext
from ui.jobs import JobRunner
from ui.unsaved import Choice

SIZE = (1280, 800)

MODEL_CARD = """Aurora 4.1-preview — Model card (developer-supplied)

Intended use: general-purpose agentic assistant with tool use (shell, browser sandbox).
Training compute: 4.2e26 FLOP (developer declared; hardware-hours estimate attached).
Evaluations run by the developer: Cybench (40 tasks), InterCode-CTF, internal red-team suite.
Known limitations: long-horizon planning degrades beyond ~200 tool calls.
"""


ERRORS: list[str] = []  # what the screens showed as errors: a picture of an error is not a screenshot


def _quiet_error(_parent: QWidget | None, exc: BaseException) -> None:
    ERRORS.append(str(exc))
    print(f"screenshot: error shown: {exc}", file=sys.stderr)


def _ctx(data_dir: Path, username: str, passphrase: str, jobs: JobRunner) -> UiContext:
    session = workstation.sign_in(data_dir, username, passphrase)
    # Nobody answers questions in an offscreen run: confirm, and discard unsaved demo edits.
    return UiContext(session=session, jobs=jobs, error_sink=_quiet_error,
                     confirmer=lambda _p, _t, _x, _o: True, unsaved_prompt=lambda _p, _w: Choice.DISCARD)


def _snap(app: QApplication, widget: QWidget, out: Path, name: str, size: tuple[int, int] = SIZE) -> None:
    widget.resize(*size)
    widget.show()
    for _ in range(3):
        app.processEvents()
    path = out / f"{name}.png"
    widget.grab().save(str(path))
    print(f"wrote {path}")


def _narrative_shot(ctx: UiContext, window: QWidget, submission_id: int,
                    snap: Callable[[QWidget, str], None]) -> None:
    """The Narrative tab with a bottom line, two key judgments and recommendations."""
    from app.model.errors import FrontierError
    from app.model.narrative import Confidence, KeyJudgment, Narrative
    from app.services import narrative

    text = Narrative(
        "Aurora 4.1 can *autonomously* exploit known vulnerability classes in realistic targets.\n\n"
        "- It solved most InterCode-CTF tasks.\n- It escalated privileges without human help.", Marking.parse("CUI"),
        (KeyJudgment("The model gives meaningful uplift to a low-skilled attacker.", Confidence.HIGH),
         KeyJudgment("Safeguards held against direct requests but not against agentic misuse.",
                     Confidence.MODERATE, Marking.parse("CUI"))),
        "- Delay agentic tool access until the safeguards are re-tested.\n- Share V-1 through the clearinghouse.")
    try:
        narrative.save(ctx.session, submission_id, text)
    except FrontierError:
        pass  # a locked (approved) review keeps what it has
    window.open_submission(submission_id)  # type: ignore[attr-defined]
    detail = window.pages[f"submission:{submission_id}"]  # type: ignore[attr-defined]
    detail.tab("Narrative")
    snap(window, "narrative_editor")


def _partner_shots(app: QApplication, out: Path, sign_in: Callable[[str], UiContext], folder: Path) -> None:
    """partners_*.png: the register (administrator), the dissemination log and the dashboard's
    overdue-receipts card, ten days after the demo packages left. Each window gets its own sign-in:
    closing a window signs its session out."""
    from datetime import timedelta

    from app.services import demo_partners
    from ui.main_window import MainWindow

    admin, lead = sign_in("admin"), sign_in("okafor")
    demo_partners.populate(admin.session, lead.session, folder)
    window = MainWindow(admin)
    window.show_screen("partners")
    page = window.pages["partners"]
    page.table.selectRow(0)  # type: ignore[attr-defined]
    _snap(app, window, out, "partners_register")
    window.close()
    from ui.screens.vulnerability_shots import render_sharing_screenshot

    window = MainWindow(lead)
    window.show_screen("vulnerabilities")
    render_sharing_screenshot(lead, window, lambda w, name, size: _snap(app, w, out, name, size))
    window.close()
    lead = sign_in("okafor")
    now = lead.session.clock
    lead.session.clock = lambda: now() + timedelta(days=10)
    window = MainWindow(lead)
    _snap(app, window, out, "partners_dashboard_overdue_receipts")
    window.show_screen("dissemination")
    _snap(app, window, out, "partners_dissemination_log")
    window.close()


def render_partners(out: Path) -> list[Path]:
    """Only the partner screens, on a fresh demo workstation: `python -c 'from ui.screenshots import
    render_partners; render_partners(Path("docs/screenshots"))'`."""
    app = QApplication.instance() or QApplication(sys.argv)
    assert isinstance(app, QApplication)
    theme.apply(app)
    out.mkdir(parents=True, exist_ok=True)
    jobs = JobRunner(synchronous=True)
    tmp = Path(tempfile.mkdtemp(prefix="frontier-shots-"))
    demo = create_demo_workstation(tmp / "demo")
    passphrases = {name: p for name, (_d, _r, p) in demo.accounts.items()}
    _partner_shots(app, out, lambda name: _ctx(demo.data_dir, name, passphrases[name], jobs), tmp / "partners")
    return sorted(out.glob("partners_*.png"))


def _print_shots(ctx: UiContext, window: QWidget, submission_id: int,
                 snap: Callable[[QWidget, str, tuple[int, int]], None]) -> None:
    """The checklist's print preview and the print dialog listing the registered printers."""
    from app.services import printables
    from app.services import printers as printers_service
    from ui.dialogs.printable_preview import PrintablePreview
    from ui.printing import PrinterChoiceDialog, options

    doc = printables.checklist(ctx.session, submission_id)
    preview = PrintablePreview(ctx, doc, window)
    preview.resize(900, 1000)
    preview.show()
    for _ in range(40):  # QPdfView renders pages on its own thread
        QApplication.processEvents()
        time.sleep(0.025)
    snap(preview, "22_print_preview_checklist", (900, 1000))
    rows = options(printers_service.list_printers(ctx.session), ["hallway-copier", "room3-laser", "vault-mfp"])
    chooser = PrinterChoiceDialog(doc.what, doc.marking, rows, doc.pages, preview)
    snap(chooser, "23_print_dialog_registered_printers", (760, 400))
    chooser.close()
    preview.close()


def render_all(out: Path) -> list[Path]:
    from ui.main_window import MainWindow
    from ui.screens.setup_wizard import SetupWizard
    from ui.screens.sign_in import SignInWindow

    app = QApplication.instance() or QApplication(sys.argv)
    assert isinstance(app, QApplication)
    theme.apply(app)
    out.mkdir(parents=True, exist_ok=True)
    jobs = JobRunner(synchronous=True)
    tmp = Path(tempfile.mkdtemp(prefix="frontier-shots-"))
    shots: list[Callable[[], None]] = []

    # -- setup wizard (its own empty folder) ------------------------------------------------------
    wizard = SetupWizard(tmp / "new-workstation")
    wizard.name_page.name.setText("Cyber Evaluation Cell 3")
    _snap(app, wizard, out, "01_setup_name", (760, 580))
    wizard.next()
    _snap(app, wizard, out, "02_setup_classification", (760, 580))
    wizard.next()
    for key, value in (("classified_by", "J. Smith, Director, Cyber Evaluation Cell"),
                       ("derived_from", "AI Cyber Evaluation SCG, 2026-06"), ("declassify_on", "20510601"),
                       ("cui_controlled_by", "Cyber Evaluation Cell"), ("cui_category", "CTI")):
        wizard.authority_page.edits[key].setText(value)
    _snap(app, wizard, out, "02b_setup_authority", (760, 580))
    wizard.next()
    wizard.admin_page.display.setText("Dana Administrator")
    wizard.admin_page.passphrase.setText("short")
    _snap(app, wizard, out, "03_setup_admin_policy", (760, 580))
    wizard.admin_page.passphrase.setText("granite-harbour-42-lantern")
    wizard.admin_page.repeat.setText("granite-harbour-42-lantern")
    wizard.next()
    _snap(app, wizard, out, "04_setup_key_protection", (760, 580))
    wizard.next()
    _snap(app, wizard, out, "05_setup_recovery_key", (760, 580))
    if wizard.result_ is not None:
        wizard.result_.session.close()
    wizard.close()

    # -- demo workstation --------------------------------------------------------------------------
    demo = create_demo_workstation(tmp / "demo")
    passphrases = {name: p for name, (_d, _r, p) in demo.accounts.items()}
    sign_in = SignInWindow(demo.data_dir, jobs)
    _snap(app, sign_in, out, "06_sign_in_consent", (900, 620))
    sign_in.acknowledge()
    sign_in.username.setText("rivera")
    sign_in.passphrase.setText("not-my-passphrase")
    sign_in.submit()
    _snap(app, sign_in, out, "07_sign_in_wrong_passphrase", (900, 620))
    sign_in.close()

    lead = _ctx(demo.data_dir, "okafor", passphrases["okafor"], jobs)
    first = submissions.page(lead.session, 0, 1, search="4.1-preview")[0]
    assert first.id is not None
    card = tmp / "aurora-model-card.txt"
    card.write_text(MODEL_CARD, encoding="utf-8")
    submissions.attach_artifact(lead.session, first.id, card, "model card", Marking.parse("CUI"),
                                lower_reason="the developer's model card, as supplied")
    window = MainWindow(lead)
    _snap(app, window, out, "10_dashboard")
    window.show_screen("submissions")
    _snap(app, window, out, "11_submissions")
    window.open_submission(first.id)
    _snap(app, window, out, "12_submission_overview")
    detail = window.pages[f"submission:{first.id}"]
    detail.tab("Artifacts")  # type: ignore[attr-defined]
    _snap(app, window, out, "13_submission_artifacts")
    artifacts = detail.tab("Artifacts")  # type: ignore[attr-defined]
    artifacts.table.selectRow(0)
    viewer = artifacts.view_selected()
    if viewer is not None:
        _snap(app, viewer, out, "13b_artifact_viewer", (900, 520))
        viewer.close()
    window.show_screen("submissions")
    dialog = window.pages["submissions"].new_submission()  # type: ignore[attr-defined]
    dialog.editor.model_name.setText("Tern")
    dialog.editor.version.setText("0.1")
    dialog.editor.received.setDate(dialog.editor.received.date().addDays(-3))
    dialog.editor.planned_release.setDate(dialog.editor.received.date().addDays(41))
    dialog.editor.save()
    _snap(app, dialog, out, "13c_new_submission_validation", (1000, 760))
    dialog.editor.discard()  # nobody is there to answer "Save / Discard / Cancel"
    dialog.close()
    from ui.screens.results_tab import render_screenshots as results_shots  # results_*.png
    results_shots(lead, window, out, lambda w, name, size: _snap(app, w, out, name, size))
    from ui.screens.assessment_shots import render_screenshots as assessment_shots  # assessment_*.png
    assessment_shots(lead, window, out, lambda w, name, size: _snap(app, w, out, name, size))
    _narrative_shot(lead, window, first.id, lambda w, name: _snap(app, w, out, name))
    from ui.screens.workflow_shots import render_screenshots as workflow_shots  # workflow_*.png
    workflow_shots(lead, window, lambda w, name, size: _snap(app, w, out, name, size))
    from ui.screens.vulnerability_shots import render_screenshots as vulnerability_shots  # vuln_*.png
    vulnerability_shots(lead, window, lambda w, name, size: _snap(app, w, out, name, size))
    from ui.dialogs.evidence_picker import EvidencePicker

    picker = EvidencePicker(lead, first.id, window)
    picker.runs.setCurrentRow(0)
    _snap(app, picker, out, "18_evidence_picker", (1000, 560))
    picker.close()
    reports = window.show_screen("reports")  # the submission is picked from a list, not typed
    if reports.pick(first.id):  # type: ignore[attr-defined]
        _snap(app, window, out, "21_reports_submission_picker")
    sheet = window.show_shortcuts()
    if sheet is not None:
        _snap(app, sheet, out, "19_help_shortcuts", (760, 600))
        sheet.close()
    _print_shots(lead, window, first.id, lambda w, name, size: _snap(app, w, out, name, size))
    window.show_screen("vulnerabilities")
    _snap(app, window, out, "20_window_1280x650", (1280, 650))  # the smallest size the layout is tested at
    window.lock("on demand")
    _snap(app, window, out, "14_locked")
    window.try_unlock(passphrases["okafor"])
    window.close()

    admin = _ctx(demo.data_dir, "admin", passphrases["admin"], jobs)
    audit.verify(admin.session)
    admin_window = MainWindow(admin)
    admin_window.show_screen("audit")
    admin_window.pages["audit"].verify()  # type: ignore[attr-defined]
    _snap(app, admin_window, out, "15_audit_trail")
    admin_window.show_screen("users")
    _snap(app, admin_window, out, "16_accounts_admin")
    admin_window.show_screen("settings")
    _snap(app, admin_window, out, "17_settings_admin")
    admin_window.show_screen("printers")
    _snap(app, admin_window, out, "21_printers_admin")
    admin_window.close()
    # closing a window signs its session out: the partner shots sign in afresh
    _partner_shots(app, out, lambda name: _ctx(demo.data_dir, name, passphrases[name], jobs), tmp / "partners")
    from ui.screens.release_shots import render_screenshots as release_shots  # release, preview, sealed packages
    release_shots(_ctx(demo.data_dir, "rivera", passphrases["rivera"], jobs),
                  _ctx(demo.data_dir, "okafor", passphrases["okafor"], jobs), passphrases, tmp / "partners",
                  lambda w, name, size: _snap(app, w, out, name, size))
    for s in shots:
        s()
    return sorted(out.glob("*.png"))


def main(argv: list[str]) -> int:
    out = Path(argv[0]) if argv else Path("docs/screenshots")
    render_all(out)
    if ERRORS:
        print(f"screenshot: {len(ERRORS)} error(s) were shown while rendering; the pictures may show them",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
