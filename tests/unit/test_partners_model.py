"""The releasability rule: what each kind of partner may receive (issue 16)."""

from __future__ import annotations

from datetime import date

import pytest

from app.model.errors import ValidationError
from app.model.markings import Level, Marking
from app.model.partners import Partner, PartnerKind, releasable, tlp_allows, withholding
from app.model.vulnerabilities import Tlp

M = Marking.parse
UK = Partner("UK AI Security Institute", PartnerKind.ALLIED, ("GBR",), Level.SECRET, Tlp.AMBER)
NATO = Partner("NATO cyber centre", PartnerKind.ALLIED, ("NATO",), Level.SECRET, Tlp.AMBER)
NSA = Partner("NSA", PartnerKind.AGENCY, ("USA",), Level.TOP_SECRET, Tlp.RED, accesses=("SI", "TK"))
DEV = Partner("Northwind AI", PartnerKind.DEVELOPER, ("USA",), Level.CUI, Tlp.AMBER)
TODAY = date(2026, 12, 2)


@pytest.mark.parametrize(("partner", "marking", "ok"), [
    (UK, "SECRET//REL TO USA, GBR", True),
    (UK, "SECRET//REL TO USA, FVEY", True),  # GBR is a Five Eyes member
    (UK, "SECRET//REL TO USA, CAN", False),
    (UK, "SECRET//NOFORN", False),
    (UK, "SECRET", False),  # classified without a foreign release decision
    (UK, "TOP SECRET//REL TO USA, GBR", False),  # above the partner's level
    (UK, "UNCLASSIFIED", True),
    (UK, "CUI//SP-CTI//NOFORN", False),
    (NATO, "SECRET//REL TO USA, FVEY", False),  # NATO is not a Five Eyes member
    (NATO, "SECRET//REL TO USA, NATO", True),
    (NSA, "TOP SECRET//SI-G/TK//NOFORN", False),  # G compartment not held (system SI is: SI-G is a compartment)
    (NSA, "TOP SECRET//TK//NOFORN", True),
    (NSA, "SECRET//ORCON//NOFORN", False),
    (DEV, "SECRET//NOFORN", False),
    (DEV, "CUI//SP-PROPIN", True),
    (DEV, "CUI//SP-CTI//FEDCON", False),  # the developer is not a federal contractor for this
    (DEV, "UNCLASSIFIED", True),
])
def test_releasable_by_marking(partner: Partner, marking: str, ok: bool) -> None:
    reasons = withholding(partner, M(marking))
    assert (not reasons) == ok, reasons
    assert all(isinstance(r, str) and r for r in reasons)


def test_reasons_name_what_holds_back() -> None:
    reasons = withholding(UK, M("TOP SECRET//NOFORN"))
    assert any("above the SECRET" in r for r in reasons)
    assert any(r.startswith("NOFORN") for r in reasons)


def test_tlp_and_embargo() -> None:
    assert tlp_allows(Tlp.AMBER, Tlp.GREEN) and not tlp_allows(Tlp.AMBER, Tlp.RED)
    assert withholding(UK, M("UNCLASSIFIED"), tlp=Tlp.RED) != ()
    assert releasable(UK, M("UNCLASSIFIED"), tlp=Tlp.AMBER)
    later = date(2027, 1, 15)
    held = withholding(UK, M("UNCLASSIFIED"), embargo_until=later, today=TODAY)
    assert held == ("under embargo until 2027-01-15",)
    assert releasable(DEV, M("UNCLASSIFIED"), embargo_until=later, today=TODAY, own=True)  # the vendor knows
    assert releasable(UK, M("UNCLASSIFIED"), embargo_until=TODAY, today=TODAY)  # the embargo ended today
    with pytest.raises(ValueError):
        withholding(UK, M("UNCLASSIFIED"), embargo_until=later)


def test_fgi_goes_only_back_to_its_source() -> None:
    fgi = Marking(level=Level.SECRET, fgi=("GBR",), rel_to=("USA", "GBR"))
    assert releasable(UK, fgi)
    canada = Partner("Canadian Centre for Cyber Security", PartnerKind.ALLIED, ("CAN",), Level.SECRET)
    assert not releasable(canada, Marking(level=Level.SECRET, fgi=("GBR",), rel_to=("USA", "CAN", "GBR")))


def test_proprietary_content_only_to_its_owner() -> None:
    lab = Partner("Testing lab", PartnerKind.LAB, ("USA",), Level.CUI, Tlp.AMBER)
    assert not releasable(lab, M("CUI//SP-PROPIN//FEDCON"))
    assert releasable(DEV, M("UNCLASSIFIED//PROPIN"), own=True)
    assert not releasable(lab, M("UNCLASSIFIED//PROPIN"))


def test_partner_validation() -> None:
    with pytest.raises(ValidationError, match="unknown country"):
        Partner("X", PartnerKind.LAB, ("XXX",))
    with pytest.raises(ValidationError, match="country code"):
        Partner("X", PartnerKind.LAB, ())
    with pytest.raises(ValidationError, match="name"):
        Partner("  ", PartnerKind.LAB, ("USA",))
    p = Partner("Acme", "developer", ("usa",))  # type: ignore[arg-type]
    assert p.kind is PartnerKind.DEVELOPER and p.codes == ("USA",) and p.developer == "Acme" and not p.foreign
