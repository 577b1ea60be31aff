"""Run in a subprocess by test_real_scale.py: the main window on a real scaled screen.

The platform (offscreen with a 1920x1080 screen from a config file, or xcb under Xvfb) and
QT_SCALE_FACTOR are set by the caller's environment before Qt starts, which is why this is a
process of its own. For every role it opens the main window, visits every screen and submission tab
and writes what it measured (scale, screen, minimum size, where the window and both banners are)
as JSON to the path given as the first argument (on a copy of the caller's template workstation
with --template=file, see describe_template; else on one set up here); with --f1 also whether F1 opens the shortcut sheet
with the focus in each list, table and tree (real key events through the platform's shortcut map).
"""

from __future__ import annotations

import atexit
import json
import shutil
import sys
import tempfile
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import keyring  # noqa: E402
from PySide6.QtCore import QPoint  # noqa: E402
from PySide6.QtWidgets import QApplication, QWidget  # noqa: E402

import storage.keys  # noqa: E402
from tests.conftest import (  # noqa: E402 (also refuses network sockets)
    MemoryKeyring,
    Workstation,
    WorkstationTemplate,
    make_workstation,
)


def _rect(w: QWidget) -> list[int]:
    top_left = w.mapToGlobal(QPoint(0, 0))
    return [top_left.x(), top_left.y(), w.width(), w.height()]


def copy_template(described: Path, dest: Path, backend: MemoryKeyring) -> Workstation:
    """A copy of the caller's template workstation (what `describe_template` wrote), as the test
    suite's workstation fixture makes one: setting one up anew costs more than a screen walk."""
    facts = json.loads(described.read_text())
    template = WorkstationTemplate(Path(facts["data_dir"]), facts["recovery_key"],
                                   {(service, user): secret for service, user, secret in facts["keyring"]})
    return template.copy_to(dest, backend)


def describe_template(template: WorkstationTemplate, path: Path) -> None:
    """Written by the test for `--template=path` (the keyring secrets only ever go to its tmp_path)."""
    path.write_text(json.dumps({"data_dir": str(template.data_dir), "recovery_key": template.recovery_key,
                                "keyring": [[s, u, p] for (s, u), p in template.keyring_store.items()]}))


def main(out: Path) -> int:
    import os

    from app.model.submissions import Submission
    from app.services import submissions
    from ui import theme
    from ui.context import UiContext
    from ui.jobs import JobRunner
    from ui.main_window import MainWindow
    from ui.screens.submission_detail import SUBMISSION_TABS

    tmp = Path(tempfile.mkdtemp(prefix="frw-scale-"))
    atexit.register(shutil.rmtree, tmp, True)  # the workstation copy is not needed after the report
    os.environ["FRW_STATE_DIR"] = str(tmp / "state")
    storage.keys.DEFAULT_ITERATIONS = 1000  # as in the test suite: the probe measures layout, not the KDF
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    app = QApplication.instance() or QApplication(sys.argv)
    assert isinstance(app, QApplication)
    theme.apply(app)
    template = next((a.split("=", 1)[1] for a in sys.argv if a.startswith("--template=")), None)
    ws = copy_template(Path(template), tmp / "ws", backend) if template else make_workstation(tmp / "ws")
    reviewer = ws.session("reviewer")
    today = reviewer.today()
    sid = submissions.create(reviewer, Submission("Dev", "Model", "1", today, today + timedelta(days=20))).id
    screen = app.primaryScreen()
    report: dict[str, object] = {
        "platform": app.platformName(),
        "dpr": screen.devicePixelRatio(),
        "screen": [screen.geometry().x(), screen.geometry().y(), screen.geometry().width(),
                   screen.geometry().height()],
        "available": [screen.availableGeometry().width(), screen.availableGeometry().height()],
        "roles": {},
    }
    roles = next((a.split("=", 1)[1].split(",") for a in sys.argv if a.startswith("--roles=")),
                 ["admin", "reviewer", "lead", "auditor"])
    for role in roles:
        ctx = UiContext(session=ws.session(role), jobs=JobRunner(synchronous=True),
                        error_sink=lambda _p, exc: print(f"error shown: {exc}", file=sys.stderr))
        w = MainWindow(ctx)
        w.show()
        for key in list(w.specs):
            w.show_screen(key)
        if "submissions" in w.specs and sid is not None:
            w.open_submission(sid)
            detail = w.pages[f"submission:{sid}"]
            for spec in SUBMISSION_TABS:
                detail.tab(spec.title)  # type: ignore[attr-defined]
        for _ in range(20):  # the window at the size it opens with (no window manager trims it)
            app.processEvents()
        hint = w.minimumSizeHint()
        report["roles"][role] = {  # type: ignore[index]
            "min": [hint.width(), hint.height()],
            "window": _rect(w),
            "top_banner": _rect(w.top_banner),
            "bottom_banner": _rect(w.bottom_banner),
            "banners_visible": w.top_banner.isVisible() and w.bottom_banner.isVisible(),
        }
        w.close()
        w.deleteLater()
        app.processEvents()
    if "--f1" in sys.argv:
        from app.services import results

        results.import_files(reviewer, [ROOT / "tests" / "fixtures" / "inspect" / "intercode_ok.eval"], int(sid or 0))
        f1_ctx = UiContext(session=ws.session("reviewer"), jobs=JobRunner(synchronous=True))
        report["f1"] = f1_in_lists(app, f1_ctx, sid)
    out.write_text(json.dumps(report, indent=1))
    return 0


def f1_in_lists(app: QApplication, ctx: object, sid: int | None) -> dict[str, dict[str, object]]:
    """F1 pressed (QTest key events through the platform's shortcut map) with the focus in each list,
    table and tree a reviewer works in: does the shortcut sheet open?"""
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    from ui.main_window import MainWindow

    w = MainWindow(ctx)  # type: ignore[arg-type]
    w.show()
    targets: dict[str, tuple[str, str]] = {
        "navigation list": ("dashboard", "nav"), "dashboard table": ("dashboard", "table"),
        "submissions table": ("submissions", "table"), "assessment item tree": ("assessment", "tree"),
        "results runs table": ("results", "runs_page.table"),
    }
    found: dict[str, dict[str, object]] = {}
    for name, (where, attr) in targets.items():
        if where in ("assessment", "results"):
            w.open_submission(int(sid or 0))
            detail = w.pages[f"submission:{sid}"]
            tab = detail.tab("Assessment" if where == "assessment" else "Results")  # type: ignore[attr-defined]
            if where == "assessment" and getattr(tab, "view", None) is None:
                tab.start()  # type: ignore[attr-defined]
            widget = tab
            for part in attr.split("."):
                widget = getattr(widget, part)
        else:
            page = w.show_screen(where)
            widget = w.nav if attr == "nav" else getattr(page, attr)
        w.activateWindow()
        active = QTest.qWaitForWindowActive(w, 5000)
        widget.setFocus()
        for _ in range(5):
            app.processEvents()
        focus = app.focusWidget()
        QTest.keyClick(widget, Qt.Key.Key_F1)
        for _ in range(5):
            app.processEvents()
        sheet = w._help.get("shortcuts")
        found[name] = {"active": active, "focus_in_target": focus is widget,
                       "sheet_open": bool(sheet is not None and sheet.isVisible())}
        if sheet is not None:
            sheet.close()
    w.close()
    return found


if __name__ == "__main__":
    raise SystemExit(main(Path(sys.argv[1])))
