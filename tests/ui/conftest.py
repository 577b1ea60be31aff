"""UI test fixtures: a UiContext on the shared `workstation` fixture, synchronous jobs, and
recorded dialogs (errors, passphrase prompts, confirmations) so nothing modal blocks offscreen;
each test's folders on a memory-backed file system."""

from __future__ import annotations

import contextlib
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from PySide6.QtWidgets import QWidget

from app.services.session import Session
from tests import memory_fs
from tests.conftest import MemoryKeyring, Workstation, WorkstationTemplate, derive_template
from ui.context import UiContext
from ui.jobs import JobRunner
from ui.unsaved import Choice


@dataclass
class DialogRecorder:
    errors: list[BaseException] = field(default_factory=list)
    prompts: list[str] = field(default_factory=list)
    passphrases: list[str | None] = field(default_factory=list)  # answers, consumed in order
    confirmations: list[str] = field(default_factory=list)
    confirm_answer: bool = True
    texts: list[str | None] = field(default_factory=list)  # answers for ask_text, consumed in order
    unsaved: list[str] = field(default_factory=list)  # titles of editors asked Save / Discard / Cancel
    unsaved_answer: Choice = Choice.CANCEL

    def error(self, _parent: QWidget | None, exc: BaseException) -> None:
        self.errors.append(exc)

    def passphrase(self, _parent: QWidget | None, reason: str) -> str | None:
        self.prompts.append(reason)
        return self.passphrases.pop(0) if self.passphrases else None

    def confirm(self, _parent: QWidget | None, title: str, _text: str, _ok: str) -> bool:
        self.confirmations.append(title)
        return self.confirm_answer

    def text(self, _parent: QWidget | None, _title: str, label: str) -> str | None:
        self.prompts.append(label)
        return self.texts.pop(0) if self.texts else None

    def unsaved_prompt(self, _parent: QWidget | None, what: str) -> Choice:
        self.unsaved.append(what)
        return self.unsaved_answer

    def error_text(self) -> str:
        return "\n".join(str(e) for e in self.errors)


def ui_context(session: Session, dialogs: DialogRecorder) -> UiContext:
    """A UiContext on `session`: synchronous jobs, every dialog answered by the recorder."""
    return UiContext(
        session=session,
        jobs=JobRunner(synchronous=True),
        error_sink=dialogs.error,
        passphrase_prompt=dialogs.passphrase,
        confirmer=dialogs.confirm,
        text_prompt=dialogs.text,
        unsaved_prompt=dialogs.unsaved_prompt,
    )


# The product makes every write durable: each sign-in, transaction and key-header rewrite fsyncs
# (~20 per UI test, 2-15 ms each on this disk, idle time on a 2-core machine). UI tests prove what
# the screens do, not durability (tests/reliability does: SIGKILL, full disk, torn writes), so their
# folders live on tmpfs where the same fsync calls return at once. Elsewhere: pytest's own tmp_path.
MEMORY_FS = memory_fs.MEMORY_FS
MEMORY_FS_MIN_FREE = 1 << 30  # per test: a few MB; two workers


@contextlib.contextmanager
def _memory_folder(prefix: str) -> Iterator[Path | None]:
    """A new folder on MEMORY_FS, removed afterwards; None where there is no such file system."""
    if not memory_fs.usable(MEMORY_FS, MEMORY_FS_MIN_FREE):
        yield None
        return
    path = Path(tempfile.mkdtemp(prefix=prefix, dir=MEMORY_FS))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)  # tmpfs is memory: nothing kept after the test


@pytest.fixture
def tmp_path(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Overrides pytest's tmp_path for tests/ui (the `workstation` copies go here)."""
    with _memory_folder("frw-ui-test-") as path:
        yield path if path is not None else tmp_path_factory.mktemp("test", numbered=True)


@pytest.fixture(autouse=True)
def own_state_dir(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """As tests/conftest.py's (a state folder per test: the people's signed audit-head records), on
    the memory file system: every transaction rewrites a record there."""
    with _memory_folder("frw-ui-state-") as path:
        monkeypatch.setenv("FRW_STATE_DIR", str(path if path is not None else tmp_path_factory.mktemp("state")))
        yield


@pytest.fixture(autouse=True)
def widgets_freed_between_tests(qapp) -> Iterator[None]:  # type: ignore[no-untyped-def]
    """Frees each test's widgets when it ends. pytest-qt closes them and calls deleteLater(), but a
    deferred delete posted outside an event loop waits for the next loop some later test starts (a
    waitSignal, a modal dialog) and runs inside it. On one pytest-xdist worker's order of files the
    widgets test_review_journey left were still alive in test_setup_wizard, and the worker died of a
    segfault while Qt polished the wizard (pytest-xdist then waited for it for ever); with this fixture
    that order passes. Here they go at the test's end. A tooltip a test showed is hidden first: Qt's
    one tooltip label keeps a plain pointer to the widget it was shown for (its style sheet parent),
    which that test's widgets no longer are once freed.
    """
    yield
    from PySide6.QtCore import QCoreApplication, QEvent
    from PySide6.QtWidgets import QToolTip

    if QToolTip.isVisible():
        QToolTip.hideText()
        for _ in range(20):  # the label hides on a short timer
            if not QToolTip.isVisible():
                break
            QCoreApplication.processEvents()
            time.sleep(0.02)
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)


@pytest.fixture(autouse=True)
def plain_text_guard(qapp) -> None:  # type: ignore[no-untyped-def]
    """As in the application (ui/app.py): labels plain text, tooltips escaped."""
    from ui import plain_text

    plain_text.install(qapp)


@pytest.fixture(scope="module")
def approved_template(workstation_template: WorkstationTemplate,
                      tmp_path_factory: pytest.TempPathFactory) -> tuple[WorkstationTemplate, int]:
    """The fixture workstation configured for reports (_configure) with a submission whose review the
    lead approved (_approved_submission: 40 answers, two findings, the determination), built once per
    module: a test that asks for `approved` (test_report_screen, test_printables_ui) starts from a copy
    of it and gets that submission's id."""
    from tests.unit.test_signing_service import _approved_submission, _configure

    def prepare(ws: Workstation) -> int:
        _configure(ws.session("admin"))
        return _approved_submission(ws)

    return derive_template(tmp_path_factory.mktemp("report-approved"), workstation_template, prepare)


def copy_for_test(request: pytest.FixtureRequest, tmp_path: Path, plain: WorkstationTemplate,
                  memory_keyring: MemoryKeyring, marker: str, prepared: str) -> Iterator[Workstation]:
    """A `workstation` override: a test that asks for the fixture `marker` gets a copy of the
    prepared template (the fixture `prepared`, a (template, id) pair), any other the plain one."""
    template = request.getfixturevalue(prepared)[0] if marker in request.fixturenames else plain
    ws = template.copy_to(tmp_path / "ws", memory_keyring)
    yield ws
    for s in ws.sessions:
        s.close()


@pytest.fixture
def workstation(request: pytest.FixtureRequest, tmp_path: Path, workstation_template: WorkstationTemplate,
                memory_keyring: MemoryKeyring) -> Iterator[Workstation]:
    """As tests/conftest.py's, but a test that asks for `approved` gets a copy of the approved workstation."""
    yield from copy_for_test(request, tmp_path, workstation_template, memory_keyring, "approved", "approved_template")


@pytest.fixture
def approved(workstation: Workstation, approved_template: tuple[WorkstationTemplate, int]) -> int:
    """The id of the approved submission on this test's copy."""
    return approved_template[1]


@pytest.fixture
def dialogs() -> DialogRecorder:
    return DialogRecorder()


@pytest.fixture
def make_ctx(workstation, qtbot, dialogs: DialogRecorder) -> Iterator[Callable[[str], UiContext]]:  # type: ignore[no-untyped-def]
    """make_ctx("admin") -> a UiContext signed in as that fixture account."""

    def build(name: str = "reviewer") -> UiContext:
        return ui_context(workstation.session(name), dialogs)

    yield build


@pytest.fixture
def ctx(make_ctx: Callable[[str], UiContext]) -> UiContext:
    return make_ctx("reviewer")
