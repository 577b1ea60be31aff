"""A demo workstation with realistic sample submissions, in a temporary directory.

`frontier-review --demo` / `make demo`: nothing here touches the real data directory.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

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
     SubmissionStatus.CLOSED, "CUI"),
    ("Quill & Lantern", "QL-Agent", "0.9", 2, 40, Modality.AGENTIC, AccessMethod.HOSTED, None,
     SubmissionStatus.RECEIVED, "UNCLASSIFIED"),
]


@dataclass(frozen=True)
class DemoWorkstation:
    data_dir: Path
    accounts: dict[str, tuple[str, Role, str]]
    recovery_key: str


def create_demo_workstation(path: Path | None = None, clock: Clock = utc_now) -> DemoWorkstation:
    data_dir = Path(path) if path else Path(tempfile.mkdtemp(prefix="frontier-review-demo-")) / "workstation"
    admin_name, _, admin_pass = DEMO_ACCOUNTS["admin"]
    result = workstation.initialize(
        data_dir, workstation_name="DEMO - Cyber Evaluation Cell 3", system_high="SECRET//NOFORN",
        admin_username="admin", admin_display_name=admin_name, admin_passphrase=admin_pass,
        use_keyring=False, clock=clock,
    )
    admin = result.session
    for username, (display, role, passphrase) in DEMO_ACCOUNTS.items():
        if username != "admin":
            users.add_user(admin, admin_pass, username, display, role, passphrase)
    admin.close()
    reviewer = workstation.sign_in(data_dir, "rivera", DEMO_ACCOUNTS["rivera"][2], clock)
    try:
        populate(reviewer)
    finally:
        reviewer.close()
    return DemoWorkstation(data_dir, DEMO_ACCOUNTS, result.recovery_key)


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
