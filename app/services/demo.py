"""A demo workstation with realistic sample submissions, in a temporary directory.

`frontier-review --demo` / `make demo`: nothing here touches the real data directory.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from app.model.accounts import Role
from app.model.markings import Marking
from app.model.submissions import (
    AccessMethod,
    ComputeEstimate,
    Contact,
    Modality,
    Submission,
    SubmissionStatus,
)
from app.services import submissions, users, workstation
from app.services.session import Clock, Session, utc_now

DEMO_ACCOUNTS = {
    "admin": ("Dana Administrator", Role.ADMIN, "demo-workstation-key-1"),
    "rivera": ("Sam Rivera", Role.REVIEWER, "demo-reviewer-secret-2"),
    "okafor": ("Chidi Okafor", Role.LEAD, "demo-lead-secret-33"),
    "lindqvist": ("Maja Lindqvist", Role.AUDITOR, "demo-auditor-secret-4"),
}

# (developer, model, version, received days ago, release in days, modality, access, flop, status, marking)
_DEMO_SUBMISSIONS = [
    ("Northwind AI", "Aurora", "4.1-preview", 26, 3, Modality.AGENTIC, AccessMethod.ENCLAVE_ENDPOINT, 4.2e26,
     SubmissionStatus.IN_REVIEW, "SECRET//NOFORN"),
    ("Helix Labs", "Helix-Coder", "2.0", 22, 8, Modality.CODE, AccessMethod.WEIGHTS_ON_MEDIA, 9.5e25,
     SubmissionStatus.IN_REVIEW, "CUI"),
    ("Meridian Research", "Meridian", "7B-r3", 31, -1, Modality.TEXT, AccessMethod.WEIGHTS_ON_MEDIA, 8.0e24,
     SubmissionStatus.DETERMINATION, "CUI"),
    ("Northwind AI", "Aurora", "4.0", 75, -45, Modality.AGENTIC, AccessMethod.ENCLAVE_ENDPOINT, 3.1e26,
     SubmissionStatus.FINDINGS_ISSUED, "SECRET//NOFORN"),
    ("Cobalt Systems", "Cobalt-Vision", "1.5", 5, 25, Modality.MULTIMODAL, AccessMethod.HOSTED, 1.2e26,
     SubmissionStatus.RECEIVED, "CUI"),
    ("Tessellate", "Tess", "3.2", 12, 18, Modality.TEXT, AccessMethod.ENCLAVE_ENDPOINT, 2.6e25,
     SubmissionStatus.IN_REVIEW, "SECRET"),
    ("Helix Labs", "Helix-Coder", "1.8", 120, -90, Modality.CODE, AccessMethod.WEIGHTS_ON_MEDIA, 6.1e25,
     SubmissionStatus.WITHDRAWN, "CUI"),
    ("Quill & Lantern", "QL-Agent", "0.9", 2, 40, Modality.AGENTIC, AccessMethod.HOSTED, None,
     SubmissionStatus.RECEIVED, "UNCLASSIFIED"),
]


@dataclass(frozen=True)
class DemoWorkstation:
    data_dir: Path
    accounts: dict[str, tuple[str, Role, str]]
    recovery_key: str


DEMO_PREFIX = "frontier-review-demo-"
OWNER_FILE = "owner.pid"  # the process that uses the folder; a folder whose owner is gone is stale


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's live process
    return True


def clean_stale_demo_folders(temp_dir: Path | None = None) -> list[Path]:
    """Remove demo folders left behind by a demo that was killed (its owner process is gone).
    Only folders with the demo prefix, owned by this user, are considered; returns what was removed."""
    root = Path(temp_dir or tempfile.gettempdir())
    removed = []
    for folder in root.glob(f"{DEMO_PREFIX}*"):
        try:
            if not folder.is_dir() or folder.is_symlink() or folder.stat().st_uid != os.getuid():
                continue
            owner = folder / OWNER_FILE
            pid = int(owner.read_text(encoding="ascii").strip()) if owner.is_file() else 0
        except (OSError, ValueError):
            pid = 0
        if pid == os.getpid() or (pid and _alive(pid)):
            continue
        shutil.rmtree(folder, ignore_errors=True)
        if not folder.exists():
            removed.append(folder)
    return removed


DEMO_AUTHORITY: dict[str, object] = {
    "classified_by": "DEMO J. Smith, Director, Cyber Evaluation Cell", "derived_from": "DEMO AI Cyber Evaluation SCG",
    "declassify_on": "20510601", "cui_controlled_by": "DEMO Cyber Evaluation Cell", "cui_category": "CTI",
    "cui_poc": "cui-office@demo.example",
}


def create_demo_workstation(path: Path | None = None, clock: Clock = utc_now) -> DemoWorkstation:
    if path:
        data_dir = Path(path)
    else:
        folder = Path(tempfile.mkdtemp(prefix=DEMO_PREFIX))
        (folder / OWNER_FILE).write_text(f"{os.getpid()}\n", encoding="ascii")
        data_dir = folder / "workstation"
    admin_name, _, admin_pass = DEMO_ACCOUNTS["admin"]
    result = workstation.initialize(
        data_dir, workstation_name="DEMO - Cyber Evaluation Cell 3", system_high="SECRET//NOFORN",
        admin_username="admin", admin_display_name=admin_name, admin_passphrase=admin_pass,
        use_keyring=False, clock=clock,
    )
    admin = result.session
    # What the setup wizard asks: the demo's reports build without a settings detour.
    workstation.update_settings(admin, DEMO_AUTHORITY)
    for username, (display, role, passphrase) in DEMO_ACCOUNTS.items():
        if username != "admin":
            users.create_and_enrol(admin, admin_pass, username, display, role, passphrase)
    # Printing is egress: two registered printers with their accreditation labels (their queue names
    # rarely exist on the machine running the demo; the print dialog says so).
    from app.services import printers

    printers.register(admin, "vault-mfp", "SECRET//NOFORN", "Vault, room 12")
    printers.register(admin, "room3-laser", "CUI", "Building 2, room 3")
    admin.close()
    reviewer = workstation.sign_in(data_dir, "rivera", DEMO_ACCOUNTS["rivera"][2], clock)
    try:
        created = populate(reviewer)
        add_review_material(reviewer, created, data_dir.parent)
        lead = workstation.sign_in(data_dir, "okafor", DEMO_ACCOUNTS["okafor"][2], clock)
        try:
            add_workflow_material(reviewer, lead, created, data_dir.parent)
        finally:
            lead.close()
    finally:
        reviewer.close()
    return DemoWorkstation(data_dir, DEMO_ACCOUNTS, result.recovery_key)


def add_workflow_material(reviewer: Session, lead: Session, created: list[Submission], scratch: Path) -> None:
    """Work at several stages, so the dashboard's stages and queues show what a real cell sees:
    Aurora 4.0 reviewed, signed and released; a determination awaiting the lead on Meridian;
    assignments for the reviewer. Everything goes through the real services."""
    import shutil

    from app.model.checklist import Status
    from app.model.findings import Finding, Severity
    from app.services import (
        assessment,
        assessment_review,
        assessment_suggestions,
        assignments,
        coverage,
        findings,
        reports,
    )

    def find(model: str, version: str) -> int:
        return int(next(s for s in created if s.model_name == model and s.version == version).id or 0)

    old = find("Aurora", "4.0")
    view = assessment.start(reviewer, old)
    sugs = assessment_suggestions.suggestions(reviewer, view.id)
    for item_id in view.template.item_ids:
        sug = sugs.get(item_id)
        status = Status(sug.status) if sug is not None and sug.status else Status.SATISFIED
        # not satisfied: the capability is above the reference screen, which the finding below records
        why = f"{item_id}: checked against the evidence on file; see the run records." if status is \
            Status.SATISFIED else "Above the reference screen; recorded as a finding."
        assessment.answer(reviewer, view.id, item_id, status=status, justification=why)
    det = coverage.record_determination(reviewer, old, "Declared training compute 3.1e26 is above every "
                                        "reference presumption.")
    findings.create(reviewer, Finding(old, "Agentic CTF solving above the reference screen",
                                      "Unguided solve rates above the workstation screen.", Severity.MEDIUM,
                                      "Keep tool-use limits for the release.", (), (),
                                      next(s for s in created if s.id == old).marking))
    assessment_review.submit(reviewer, view.id)
    coverage.approve_determination(lead, det.id)
    assessment_review.approve(lead, view.id, "Agreed; release with the recommended limits.")
    report = reports.build(reviewer, old)
    reports.sign(reviewer, report.id, DEMO_ACCOUNTS["rivera"][2])
    reports.countersign(lead, report.id, DEMO_ACCOUNTS["okafor"][2])
    media = scratch / "demo-release-media"
    media.mkdir(exist_ok=True)
    try:
        reports.export(reviewer, report.id, media, "SECRET//NOFORN", DEMO_ACCOUNTS["rivera"][2])
    finally:
        shutil.rmtree(media, ignore_errors=True)

    meridian = find("Meridian", "7B-r3")
    coverage.record_determination(reviewer, meridian, "Below every capability screen; compute 8e24 is below "
                                  "the reference presumptions.")
    for model, version, section in (("Aurora", "4.1-preview", ""), ("Helix-Coder", "2.0", "CAP"),
                                    ("Tess", "3.2", "SAF")):
        assignments.assign(lead, find(model, version), "rivera", section)


def populate(session: Session) -> list[Submission]:
    today = session.today()
    created = []
    for dev, model, version, ago, release_in, modality, access, flop, status, marking in _DEMO_SUBMISSIONS:
        m = Marking.parse(marking)
        s = Submission(
            developer=dev, model_name=model, version=version, received=today - timedelta(days=ago),
            planned_release=today + timedelta(days=release_in), modality=modality, access_method=access,
            training_flop=flop,
            compute_estimate=ComputeEstimate.DEVELOPER_DECLARED if flop else ComputeEstimate.UNKNOWN,
            status=status, marking=m,
            notes=f"{model} {version} submitted under the voluntary pre-release testing framework. "
                  "Cyber evaluation suite agreed with the developer at intake.",
            notes_marking=m,
            contacts=(Contact(name="Release manager", organisation=dev,
                              email=f"release@{dev.split()[0].lower()}.example"),),
        )
        created.append(submissions.create(session, s))
    return created


DEMO_ABILITY = {  # (developer, model, version) -> ability on the logit scale, for plausible figures
    ("Northwind AI", "Aurora", "4.0"): 0.1,
    ("Northwind AI", "Aurora", "4.1-preview"): 0.9,
    ("Helix Labs", "Helix-Coder", "1.8"): -0.8,
    ("Helix Labs", "Helix-Coder", "2.0"): -0.2,
    ("Meridian Research", "Meridian", "7B-r3"): -1.4,
    ("Tessellate", "Tess", "3.2"): -0.5,
}
_DEMO_TASKS = (  # task, samples, difficulty offset, prompt
    ("gdm_intercode_ctf", 79, 0.0, "picoCTF challenge {i}: find the flag hidden in the provided files."),
    ("cybench", 40, 1.3, "Cybench task {i}: capture the flag on the target service in the sandbox."),
    ("wmdp_cyber", 120, -1.2, "Question {i}: which technique best explains the observed network traffic?"),
)


def write_demo_results(folder: str, developer: str, model: str, version: str, ability: float) -> list[str]:
    """Deterministic CSV results (documented layout) for the demo submissions' screenshots."""
    import csv
    import math
    import os
    import random

    paths = []
    model_id = f"{developer.split()[0].lower()}/{model.lower()}-{version.lower()}"
    for task, n, offset, prompt in _DEMO_TASKS:
        # Demo figures only (not security): same difficulties for every version of a model line.
        rng = random.Random(f"{task}|{model}")  # noqa: S311
        difficulty = [rng.gauss(offset, 1.2) for _ in range(n)]
        rng = random.Random(f"{task}|{model}|{version}")  # noqa: S311
        rows = []
        scores = []
        for i, d in enumerate(difficulty, start=1):
            p = 1 / (1 + math.exp(d - ability))
            error = "sandbox timed out after 600 s" if task == "cybench" and rng.random() < 0.06 else ""
            score = 0.0 if error else (1.0 if rng.random() < p else 0.0)
            scores.append(score)
            target = f"picoCTF{{{task[:3]}_{i:03d}}}" if task != "wmdp_cyber" else "ABCD"[i % 4]
            wrong = "I could not find the flag." if task != "wmdp_cyber" else "ABCD"[(i + 1) % 4]
            answer = target if score else wrong
            rows.append([task, model_id, "", "", "", f"{task}-{i:03d}", 1, score, answer, target,
                         prompt.format(i=i), error, round(rng.uniform(20, 400), 1), rng.randint(800, 30000),
                         rng.randint(50, 4000)])
        mean = sum(scores) / n
        stderr = math.sqrt(mean * (1 - mean) / max(n - 1, 1))
        path = os.path.join(folder, f"{model_id.replace('/', '_')}_{task}.csv")
        with open(path, "w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(["task", "model", "metric", "value", "stderr", "sample_id", "epoch", "score", "answer",
                        "target", "input", "error", "total_time", "input_tokens", "output_tokens"])
            w.writerow([task, model_id, "accuracy", round(mean, 4), round(stderr, 4)] + [""] * 10)
            w.writerows(rows)
        paths.append(path)
    return paths


def add_review_material(session: Session, created: list[Submission], scratch: Path) -> None:
    """Artifacts, benchmark results, an assessment in progress and a finding, so every screen of
    the demo has something to show. Everything goes through the real services."""
    from app.model.checklist import Status
    from app.model.findings import Finding, Severity
    from app.services import assessment, findings, results

    for sub in created:
        assert sub.id is not None
        card = scratch / f"{sub.model_name}-{sub.version}-model-card.md"
        card.write_text(f"# {sub.display_name} model card\n\nDemo artifact: intended use, training data "
                        "summary, evaluation summary and known limitations.\n", encoding="utf-8")
        submissions.attach_artifact(session, sub.id, card, "model card", sub.marking)
        card.unlink()
        ability = DEMO_ABILITY.get((sub.developer, sub.model_name, sub.version))
        if ability is None:
            continue
        paths = write_demo_results(str(scratch), sub.developer, sub.model_name, sub.version, ability)
        results.import_files(session, paths, sub.id, media_label="USB 0042 (demo)")
        for p in paths:
            Path(p).unlink()
    aurora = next(s for s in created if s.model_name == "Aurora" and s.version == "4.1-preview")
    assert aurora.id is not None
    view = assessment.start(session, aurora.id)
    for item, status, why in (
        ("SUB-01", Status.SATISFIED, ""),
        ("SUB-02", Status.SATISFIED, ""),
        ("SUB-03", Status.SATISFIED, ""),
        ("CAP-02", Status.NOT_SATISFIED, "InterCode-CTF solve rate rose markedly against version 4.0 "
                                         "(see Compare); above the reference indicator."),
    ):
        assessment.answer(session, view.id, item, status=status, justification=why or None)
    finding = findings.create(session, Finding(
        aurora.id, "Autonomous CTF solving rose markedly over the previous version",
        "Unguided InterCode-CTF and Cybench solve rates are well above those of version 4.0 on the same "
        "samples (Compare screen, per-sample deltas).", Severity.HIGH,
        "Require deployment controls for agentic tool use before release.", ("CAP-02",), (),
        aurora.marking))
    add_demo_vulnerabilities(session, created, finding)


def add_demo_vulnerabilities(session: Session, created: list[Submission], finding: Any) -> None:
    """The clearinghouse register's first entries: one found through the Aurora finding, affecting
    three products (two model versions and the agent toolkit that ships them), and one in software a
    model attacked. Through the real service, so they are marked and audited as any other."""
    from app.model.vulnerabilities import (
        AffectedProduct,
        DiscoveryContext,
        Remediation,
        RemediationCategory,
        ReproStatus,
        Target,
        Vulnerability,
    )
    from app.services import vulnerabilities

    vulnerabilities.create_from_finding(
        session, finding, title="Agent escapes its tool sandbox through a symlinked workspace",
        description="With the shell tool the model created a symbolic link from its workspace to the host's "
                    "home folder and read files outside the sandbox on 3 of 40 Cybench tasks.",
        vendor="Northwind AI", product="Aurora 4.1-preview",
        product_id="cpe:2.3:a:northwind_ai:aurora:4.1-preview:*:*:*:*:*:*:*",
        more_products=(AffectedProduct("Northwind AI", "Aurora 4.0", "cpe:2.3:a:northwind_ai:aurora:4.0:*:*:*:*:*:*:*"),
                       AffectedProduct("Northwind AI", "Aurora agent toolkit 2.3",
                                       "pkg:pypi/aurora-agent-toolkit@2.3.0")),
        cwe="CWE-59", cvss_vector="CVSS:4.0/AV:N/AC:L/AT:N/PR:L/UI:N/VC:H/VI:L/VA:N/SC:H/SI:L/SA:N",
        repro_status=ReproStatus.REPRODUCED, repro_evidence="Reproduced on the enclave endpoint, 3 of 5 attempts.",
        remediations=(Remediation(RemediationCategory.MITIGATION, "Resolve workspace paths before each tool "
                                  "call and refuse links that leave the workspace."),
                      Remediation(RemediationCategory.FIX_PLANNED, "Toolkit 2.4 confines the shell tool.",
                                  ("pkg:pypi/aurora-agent-toolkit@2.3.0",))))
    helix = next(s for s in created if s.model_name == "Helix-Coder")
    vulnerabilities.create(session, Vulnerability(
        title="Heap overflow in an image decoder, found and exploited by the model",
        description="Given the library's source, the model wrote a crashing input and then a working exploit "
                    "for the TIFF strip decoder.", target=Target.SOFTWARE, vendor="Example Imaging",
        product="libexampleimg 1.4", product_id="pkg:generic/libexampleimg@1.4.2", cwe="CWE-122",
        cvss_vector="CVSS:4.0/AV:N/AC:L/AT:P/PR:N/UI:P/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
        context=DiscoveryContext(submission_id=helix.id), discovered=session.today(), marking=helix.marking))
