"""Printing the dissemination log (banners on every page, egress check) and recalling an entry
(notice packages to everyone who received it or what it superseded; sealed where a certificate is
registered; all or nothing; recorded in the log)."""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path

import pytest

from app.model.dissemination import DisseminationKind, Filters
from app.model.errors import ValidationError
from app.model.markings import Level
from app.model.partners import Partner, PartnerKind
from app.model.vulnerabilities import Tlp
from app.services import dissemination, partners, recall, sealing
from app.services.audit import events as _events
from tests.conftest import PASSPHRASES
from tests.unit.partner_kit import make_cert, receipt_json, write_receipt


def audit_events(session):  # type: ignore[no-untyped-def]
    return _events(session, 50, action_prefix="dissemination.")


UKAISI = Partner(name="UK AI Security Institute", kind=PartnerKind.ALLIED, codes=("GBR", "FVEY"),
                 max_level=Level.SECRET, tlp=Tlp.AMBER)
CISA = Partner(name="CISA", kind=PartnerKind.AGENCY, codes=("USA",), max_level=Level.SECRET, tlp=Tlp.RED)
LAB = Partner(name="Open Lab", kind=PartnerKind.LAB, codes=("USA",), max_level=Level.CUI, tlp=Tlp.GREEN)


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def pdf_pages(path: Path) -> list[str]:
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout
    return [p for p in text.split("\f") if p.strip()]


def send(session, partner_id: int, manifest: str, marking: str, *, object_id: str = "R-1",  # type: ignore[no-untyped-def]
         supersedes: int | None = None, revision: str = "1") -> int:
    with session.transaction() as conn:
        return dissemination.record(session, conn, kind="package", object_type="report", object_id=object_id,
                                    revision=revision, partner_id=partner_id, marking=marking, tlp=None,
                                    embargo_until=None, manifest_sha256=manifest, media_label="SECRET//NOFORN",
                                    approved_by="lead", supersedes=supersedes)


def test_printed_log_carries_the_rollup_banner_on_every_page_and_passes_egress(workstation, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    admin = workstation.session("admin")
    uk, lab = partners.add(admin, UKAISI).id, partners.add(admin, LAB).id
    assert uk is not None and lab is not None
    lead = workstation.session("lead")
    for n in range(60):  # several pages
        send(lead, uk, sha(f"uk{n}"), "SECRET//REL TO USA, GBR", object_id=f"R-{n}")
    send(lead, lab, sha("lab"), "CUI", object_id="R-lab")
    out = tmp_path / "log.pdf"
    pdf = dissemination.save_log_pdf(lead, Filters(), out, "SECRET//NOFORN")
    assert pdf.marking.banner() == "SECRET//REL TO USA, GBR" and pdf.pages >= 2
    pages = pdf_pages(out)
    assert len(pages) == pdf.pages
    for page in pages:
        lines = [x.strip() for x in page.splitlines() if x.strip()]
        assert lines[0] == "SECRET//REL TO USA, GBR" and lines[-1] == "SECRET//REL TO USA, GBR"
    text = "\n".join(pages)
    assert "(S//REL)" in text or "(S//REL TO USA, GBR)" in text
    assert "(CUI)" in text and "Open Lab" in text and "61 entries (61 unacknowledged)" in text
    # Only the lab's CUI entry: a CUI banner; CUI media suffice.
    lab_pdf = dissemination.save_log_pdf(lead, Filters(partner_id=lab), tmp_path / "lab.pdf", "CUI")
    assert lab_pdf.marking.banner() == "CUI" and "partner Open Lab" in pdf_pages(tmp_path / "lab.pdf")[0]
    # Lower media: refused, audited, nothing written.
    low = tmp_path / "low.pdf"
    with pytest.raises(ValidationError, match="labelled UNCLASSIFIED"):
        dissemination.save_log_pdf(lead, Filters(), low, "UNCLASSIFIED")
    assert not low.exists()
    actions = [r[0] for r in lead.db.conn.execute("SELECT action FROM audit_events ORDER BY seq")]
    assert actions.count("dissemination.print") == 2 and actions[-1] == "egress.refused"


def test_recall_reaches_everyone_who_received_the_entry_or_what_it_superseded(workstation, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    admin = workstation.session("admin")
    uk, us, lab = (partners.add(admin, p).id for p in (UKAISI, CISA, LAB))
    assert uk is not None and us is not None and lab is not None
    uk_enc = make_cert(tmp_path / "uk", "UK AISI", "encryption", rsa_bits=3072)
    partners.add_certificate(admin, uk, uk_enc.cert_path, "encryption")
    lead = workstation.session("lead")
    v1_uk = send(lead, uk, sha("v1"), "SECRET//REL TO USA, GBR")
    v1_us = send(lead, us, sha("v1"), "SECRET//REL TO USA, GBR")  # the same package to CISA
    v2_uk = send(lead, uk, sha("v2"), "CONFIDENTIAL//REL TO USA, GBR", supersedes=v1_uk, revision="2")
    other = send(lead, lab, sha("other"), "CUI", object_id="R-9")  # another object: not recalled
    media = tmp_path / "media"
    media.mkdir()
    # Media labelled NOFORN is not handed to a foreign partner (it was: the label only had to be high enough).
    with pytest.raises(ValidationError, match="labelled SECRET//NOFORN, which UK AI Security Institute may not "
                                              "receive .*NOFORN"):
        recall.recall(lead, v2_uk, "Contains a transcript released by mistake", media, "SECRET//NOFORN",
                      PASSPHRASES["lead"])
    assert list(media.iterdir()) == []
    refused = [e for e in audit_events(workstation.session("auditor")) if e.action == "dissemination.recall_refused"]
    assert refused and refused[0].details["to"] == [UKAISI.name]
    notices = recall.recall(lead, v2_uk, "Contains a transcript released by mistake", media,
                            "SECRET//REL TO USA, GBR", PASSPHRASES["lead"])
    by_partner = {n.partner: n for n in notices}
    assert set(by_partner) == {UKAISI.name, CISA.name}
    assert by_partner[UKAISI.name].recalled == (v1_uk, v2_uk) and by_partner[CISA.name].recalled == (v1_us,)
    assert by_partner[UKAISI.name].sealed and not by_partner[CISA.name].sealed
    assert by_partner[UKAISI.name].marking.banner() == "SECRET//REL TO USA, GBR"
    # The sealed notice opens with the partner's key and lists what to destroy.
    (tmp_path / "opened").mkdir()
    opened = sealing.open_to_folder(by_partner[UKAISI.name].path, uk_enc.key, uk_enc.cert, tmp_path / "opened")
    notice = json.loads((opened / "RECALL.json").read_text())
    assert [i["log_entry"] for i in notice["recalled"]] == [v1_uk, v2_uk]
    assert notice["reason"] == "Contains a transcript released by mistake"
    assert (opened / "SHA256SUMS.p7s").exists()
    assert hashlib.sha256((opened / "SHA256SUMS").read_bytes()).hexdigest() == by_partner[UKAISI.name].manifest_sha256
    plain = by_partner[CISA.name].path
    assert (plain / "RECALL.txt").read_text().splitlines()[0] == "SECRET//REL TO USA, GBR"
    subprocess.run(["sha256sum", "-c", "--quiet", "SHA256SUMS"], cwd=plain, check=True)
    # In the log: kind recall, superseding the newest entry each partner received.
    log = {e.id: e for e in dissemination.entries(lead)}
    uk_notice = log[by_partner[UKAISI.name].entry_id]
    assert uk_notice.kind is DisseminationKind.RECALL and uk_notice.supersedes == v2_uk
    assert uk_notice.reason.startswith("Contains") and log[v2_uk].recalled_by == uk_notice.id
    assert log[v1_us].recalled_by == by_partner[CISA.name].entry_id and log[other].recalled_by is None
    assert dissemination.verify_entry(lead, uk_notice) is None
    with pytest.raises(ValidationError, match="already recalled"):
        recall.recall(lead, v2_uk, "again", media, "SECRET//NOFORN", PASSPHRASES["lead"])
    with pytest.raises(ValidationError, match="itself a recall notice"):
        recall.recall(lead, uk_notice.id, "again", media, "SECRET//NOFORN", PASSPHRASES["lead"])
    # A partner acknowledges the notice like any package.
    uk_sig = make_cert(tmp_path / "uksig", "UK AISI")
    partners.add_certificate(admin, uk, uk_sig.cert_path, "receipt")
    from app.services import receipts

    r = receipts.import_receipt(lead, write_receipt(tmp_path / "ack", receipt_json(uk_notice.manifest_sha256,
                                                                                    UKAISI.name), uk_sig))
    assert r.entry_id == uk_notice.id


def test_recall_onto_low_media_or_with_a_wrong_passphrase_writes_and_records_nothing(workstation, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    admin = workstation.session("admin")
    uk, lab = partners.add(admin, UKAISI).id, partners.add(admin, LAB).id
    assert uk is not None and lab is not None
    lead = workstation.session("lead")
    a = send(lead, uk, sha("a"), "SECRET//REL TO USA, GBR")
    media = tmp_path / "media"
    media.mkdir()
    with pytest.raises(ValidationError, match="labelled CUI"):
        recall.recall(lead, a, "mistake", media, "CUI", PASSPHRASES["lead"])
    with pytest.raises(Exception, match="[Pp]assphrase"):
        recall.recall(lead, a, "mistake", media, "SECRET//REL TO USA, GBR", "wrong-passphrase-here")
    with pytest.raises(ValidationError, match="say why"):
        recall.recall(lead, a, "  ", media, "SECRET//NOFORN", PASSPHRASES["lead"])
    assert list(media.iterdir()) == []
    assert [e.kind for e in dissemination.entries(lead)] == [DisseminationKind.PACKAGE]
    auditor = workstation.session("auditor")
    with pytest.raises(Exception, match="does not allow"):
        recall.recall(auditor, a, "mistake", media, "SECRET//NOFORN", PASSPHRASES["auditor"])
