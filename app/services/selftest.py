"""Installation self-test: a throw-away workstation exercised end to end, with the network blocked.

`frontier-review selftest` runs this after an air-gapped install (build_installer.py install). Each
step really runs the feature through the same services the UI uses, against a temporary workstation
in passphrase-only mode with generated passphrases; nothing touches the real data directory or the
OS keyring. A step whose feature does not exist in this build is not listed (never faked).

Network: an in-process guard replaces socket.socket / create_connection / getaddrinfo so that any
AF_INET/AF_INET6 socket is refused (AF_UNIX stays allowed: asyncio's self-pipe and D-Bus use it).
The first step proves the guard refuses; every later step runs under it.
"""

from __future__ import annotations

import contextlib
import secrets
import shutil
import socket
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from importlib import resources
from pathlib import Path
from typing import Any

from app.model.accounts import Role
from app.model.checklist import State as ChecklistState
from app.model.checklist import Status
from app.model.findings import Finding, Severity
from app.model.markings import Marking
from app.model.submissions import AccessMethod, ComputeEstimate, Modality, Submission, SubmissionStatus
from app.services import (
    assessment,
    assessment_evidence,
    assessment_review,
    audit,
    backup,
    coverage,
    findings,
    results,
    submissions,
    users,
    workstation,
)
from app.services import pki as pki_service
from app.services import reports as report_service
from app.services.session import Session
from storage import pki_repo

FIXTURE_PACKAGE = "app.selftest_data"
FIXTURE_LOG = "inspect_wmdp_cyber.json"  # a real Inspect log (tests/fixtures/inspect/wmdp_cyber_ok.json)


class NetworkBlocked(PermissionError):
    """Raised instead of creating an Internet socket while the guard is installed."""


@contextlib.contextmanager
def network_blocked() -> Iterator[None]:
    """Refuse AF_INET/AF_INET6 sockets, create_connection and name lookups in this process."""
    saved = (socket.socket, socket.create_connection, socket.getaddrinfo)
    base: Any = socket.socket
    internet = (socket.AF_INET, socket.AF_INET6)

    class GuardedSocket(base):
        def __init__(self, family: int = -1, type: int = -1, proto: int = -1, fileno: int | None = None) -> None:
            fam = socket.AF_INET if family == -1 else family  # socket() defaults to AF_INET
            if fileno is None and fam in internet:
                raise NetworkBlocked(f"network access refused by the self-test guard (address family {fam})")
            super().__init__(family, type, proto, fileno)

    def refuse(*args: object, **kwargs: object) -> Any:
        raise NetworkBlocked(f"network access refused by the self-test guard ({args[0] if args else ''})")

    socket.socket = GuardedSocket  # type: ignore[misc]
    socket.create_connection = refuse
    socket.getaddrinfo = refuse
    try:
        yield
    finally:
        socket.socket, socket.create_connection, socket.getaddrinfo = saved  # type: ignore[misc]


def _refused(attempt: Callable[[], object]) -> bool:
    try:
        made = attempt()
    except NetworkBlocked:
        return True
    with contextlib.suppress(Exception):
        made.close()  # type: ignore[attr-defined]
    return False


@dataclass(frozen=True)
class StepResult:
    name: str
    status: str  # PASS | FAIL | SKIP
    seconds: float
    detail: str

    def line(self) -> str:
        return f"{self.status:<4}  {self.name:<26} {self.seconds:7.2f} s  {self.detail}"


@dataclass
class _State:
    root: Path
    data_dir: Path
    passphrases: dict[str, str] = field(default_factory=dict)
    sessions: dict[str, Session] = field(default_factory=dict)
    submission_id: int | None = None
    run_id: int | None = None
    report_id: int | None = None

    def close(self) -> None:
        for s in self.sessions.values():
            with contextlib.suppress(Exception):
                s.close()
        self.sessions.clear()


ADMIN, REVIEWER, LEAD = "selftest-admin", "selftest-reviewer", "selftest-lead"


def _step_network(state: _State) -> str:
    probes = {
        "AF_INET socket": lambda: socket.socket(socket.AF_INET, socket.SOCK_STREAM),
        "AF_INET6 socket": lambda: socket.socket(socket.AF_INET6, socket.SOCK_STREAM),
        # Loopback only: if the guard were missing this must still send nothing off the machine.
        "create_connection": lambda: socket.create_connection(("127.0.0.1", 9), timeout=0.1),
        "name lookup": lambda: socket.getaddrinfo("localhost", 9),
    }
    allowed = [name for name, probe in probes.items() if not _refused(probe)]
    if allowed:
        raise AssertionError("not refused: " + ", ".join(allowed))
    return "refused: " + ", ".join(probes)


def _step_setup(state: _State) -> str:
    for name in (ADMIN, REVIEWER, LEAD):
        state.passphrases[name] = secrets.token_urlsafe(24)
    result = workstation.initialize(
        state.data_dir, workstation_name="Self-test workstation", system_high="SECRET//NOFORN",
        admin_username=ADMIN, admin_display_name="Self-test Administrator",
        admin_passphrase=state.passphrases[ADMIN], use_keyring=False,
    )
    admin = state.sessions[ADMIN] = result.session
    for name, display, role in ((REVIEWER, "Self-test Reviewer", Role.REVIEWER), (LEAD, "Self-test Lead", Role.LEAD)):
        users.create_and_enrol(admin, state.passphrases[ADMIN], name, display, role, state.passphrases[name])
    if pki_repo.get_ca(admin.db.conn) is None:
        raise AssertionError("setup did not create the workstation CA")
    ca = pki_service.workstation_ca(admin)
    return f"{result.keyring_mode} mode, admin + reviewer + lead accounts, workstation CA {ca.subject.rfc4514_string()}"


def _step_sign_in(state: _State) -> str:
    state.sessions[REVIEWER] = workstation.sign_in(state.data_dir, REVIEWER, state.passphrases[REVIEWER])
    state.sessions[LEAD] = workstation.sign_in(state.data_dir, LEAD, state.passphrases[LEAD])
    try:
        workstation.sign_in(state.data_dir, REVIEWER, state.passphrases[REVIEWER] + "x").close()
    except Exception as exc:  # a wrong passphrase must be refused
        return f"reviewer and lead signed in; wrong passphrase refused ({type(exc).__name__})"
    raise AssertionError("a wrong passphrase was accepted")


def _step_submission(state: _State) -> str:
    session = state.sessions[REVIEWER]
    today = session.today()
    marking = Marking.parse("UNCLASSIFIED")  # no CUI designation block needed in the report
    created = submissions.create(session, Submission(
        developer="Self-test Labs", model_name="selftest-model", version="1.0", received=today,
        planned_release=today + timedelta(days=30), modality=Modality.TEXT,
        access_method=AccessMethod.WEIGHTS_ON_MEDIA, training_flop=None, compute_estimate=ComputeEstimate.UNKNOWN,
        status=SubmissionStatus.IN_REVIEW, marking=marking, notes="Installation self-test.", notes_marking=marking,
    ))
    if created.id is None or submissions.get(session, created.id).model_name != "selftest-model":
        raise AssertionError("the stored submission could not be read back")
    state.submission_id = created.id
    return f"submission {created.id} stored and read back"


def _step_import(state: _State) -> str:
    assert state.submission_id is not None
    target = state.root / FIXTURE_LOG
    with resources.as_file(resources.files(FIXTURE_PACKAGE) / FIXTURE_LOG) as src:
        shutil.copyfile(src, target)
    session = state.sessions[REVIEWER]
    [outcome] = results.import_files(session, [target], state.submission_id, media_label="self-test")
    if outcome.status != "imported" or outcome.run_id is None:
        raise AssertionError(f"{FIXTURE_LOG}: {outcome.status}: {outcome.message}")
    stored = results.count_samples(session, outcome.run_id)
    if stored != outcome.samples or stored == 0:
        raise AssertionError(f"{FIXTURE_LOG}: {outcome.samples} samples imported but {stored} stored")
    state.run_id = outcome.run_id
    return f"{FIXTURE_LOG}: task {outcome.task}, {stored} samples"


def _step_assessment(state: _State) -> str:
    assert state.submission_id is not None and state.run_id is not None
    rev, lead = state.sessions[REVIEWER], state.sessions[LEAD]
    view = assessment.start(rev, state.submission_id)
    items = list(view.template.item_ids)
    for item_id in items:
        assessment.answer(rev, view.id, item_id, status=Status.SATISFIED, justification=f"Self-test: {item_id}.")
    assessment_evidence.add_run_evidence(rev, view.id, items[0], state.run_id, note="self-test fixture log")
    finding = findings.create(rev, Finding(state.submission_id, "Self-test finding", "Recorded by the self-test.",
                                           Severity.LOW, "None.", (items[0],)))
    # Coverage: the shipped reference rule set evaluated over the imported run, determination approved.
    cover = coverage.evaluate(rev, state.submission_id)
    if not cover.evaluation.results:
        raise AssertionError("the coverage rule set produced no results")
    det = coverage.record_determination(rev, state.submission_id, "Self-test determination.")
    coverage.approve_determination(lead, det.id)
    assessment_review.submit(rev, view.id)
    approved = assessment_review.approve(lead, view.id, "Self-test approval.")
    if approved.state is not ChecklistState.APPROVED:
        raise AssertionError(f"assessment is {approved.state.label}, not approved")
    return (f"{len(items)} items answered, run evidence, finding {finding.label}, {len(cover.evaluation.results)} "
            f"coverage rules ({cover.evaluation.overall}), submitted, approved by the lead")


def _step_report(state: _State) -> str:
    assert state.submission_id is not None
    rev, lead = state.sessions[REVIEWER], state.sessions[LEAD]
    built = report_service.build(rev, state.submission_id)
    report_service.sign(rev, built.id, state.passphrases[REVIEWER])
    report_service.countersign(lead, built.id, state.passphrases[LEAD])
    check = report_service.verify(rev, built.id)
    if not check.ok or len(check.signatures) != 2:
        raise AssertionError("; ".join(check.lines()))
    state.report_id = built.id
    return f"{built.control_number} ({built.marking}) built, signed, countersigned; both PAdES signatures valid"


def _step_export(state: _State) -> str:
    assert state.report_id is not None
    rev = state.sessions[REVIEWER]
    media = state.root / "media"
    media.mkdir()
    report = report_service.get(rev, state.report_id)
    out = report_service.export(rev, state.report_id, media, report.marking, state.passphrases[REVIEWER])
    check = report_service.verify_path(out.package.path, pki_service.trusted_roots(rev), rev)
    if not check.ok:
        raise AssertionError("; ".join(check.problems) or "package did not verify")
    return f"{out.package.path.name}: {len(out.package.files)} files, signed manifest and PDF verified"


def _step_backup(state: _State) -> str:
    admin = state.sessions[ADMIN]
    dest = state.root / "backup"
    dest.mkdir()
    made = backup.create(admin, dest, state.passphrases[ADMIN], media_label=admin.settings.system_high)
    if not made.verified:
        raise AssertionError("backup written but its own check failed: " + "; ".join(made.problems))
    report = backup.verify(admin, made.folder, state.passphrases[ADMIN])
    if not report.ok or not report.contents_checked:
        raise AssertionError(report.summary())
    return f"signed by {made.signer}; manifest, signature, database and audit chain verified"


def _step_audit(state: _State) -> str:
    result = audit.verify(state.sessions[ADMIN])
    if not result.ok:
        raise AssertionError(f"audit chain broken: {result}")
    return f"hash chain intact over {result.events} events"


# (name, step). Steps are added here as features land; each runs only if every earlier step passed.
STEPS: list[tuple[str, Callable[[_State], str]]] = [
    ("network blocked", _step_network),
    ("setup", _step_setup),
    ("sign-in", _step_sign_in),
    ("submission create", _step_submission),
    ("import fixture log", _step_import),
    ("assessment", _step_assessment),
    ("report build/sign/verify", _step_report),
    ("export package + verify", _step_export),
    ("backup create + verify", _step_backup),
    ("audit verify", _step_audit),
]


def run(echo: Callable[[StepResult], None] | None = None, keep: Path | None = None) -> list[StepResult]:
    """Run every step in a temporary workstation; report each result through `echo` as it finishes."""
    out: list[StepResult] = []
    root = Path(tempfile.mkdtemp(prefix="frontier-review-selftest-"))
    state = _State(root, root / "workstation")
    failed: str | None = None
    try:
        with network_blocked():
            for name, step in STEPS:
                if failed:
                    result = StepResult(name, "SKIP", 0.0, f"not run: '{failed}' failed")
                else:
                    started = time.perf_counter()
                    try:
                        detail, status = step(state), "PASS"
                    except Exception as exc:  # report every failure as a FAIL line, never a traceback
                        detail, status = f"{type(exc).__name__}: {exc}", "FAIL"
                        failed = name
                    result = StepResult(name, status, time.perf_counter() - started, detail)
                out.append(result)
                if echo is not None:
                    echo(result)
    finally:
        state.close()
        if keep is not None:
            shutil.copytree(root, keep, dirs_exist_ok=True)
        shutil.rmtree(root, ignore_errors=True)
    return out
