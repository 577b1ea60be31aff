"""Test helpers for CSAF sharing: a partner in the register to share advisories with."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from app.model.markings import Level
from app.model.partners import Partner, PartnerKind
from app.model.vulnerabilities import Tlp
from app.services import partners, workstation
from tests.conftest import FIXED_NOW, PASSPHRASES, WorkstationTemplate, derive_template

# Accepts everything a US clearinghouse shares: the neutral recipient of tests about other things.
CERT = Partner(name="National CERT", kind=PartnerKind.CERT, codes=("USA",), max_level=Level.TOP_SECRET, tlp=Tlp.RED)


def partner_for(session: Any, partner: Partner = CERT) -> str:
    """Register `partner` on the session's workstation (signed by its administrator) once; its name."""
    if partner.name not in {p.name for p in partners.list_all(session)}:
        admin = workstation.sign_in(session.data_dir, "admin", PASSPHRASES["admin"], clock=lambda: FIXED_NOW)
        try:
            partners.add(admin, partner)
        finally:
            admin.close()
    return partner.name


def partnered_template(root: Path, base: WorkstationTemplate) -> WorkstationTemplate:
    """`base` with the neutral recipient already registered: for a module whose every test exports
    to it, partner_for then finds it instead of signing the administrator in to add it (a sign-in
    and a signed write, ~0.25 s of CPU per test)."""
    template, _ = derive_template(root, base, lambda ws: partner_for(ws.session("reviewer")))
    return template
