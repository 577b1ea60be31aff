"""narrative_repo and releases_repo read by column name into app.model types (issue 18 point 3):
what goes in comes back field for field, and a renamed or missing column fails loudly instead of
shifting values."""

from __future__ import annotations

from datetime import date

import pytest

from app.model.markings import Marking
from app.model.narrative import Confidence, KeyJudgment, Narrative, NarrativeComment, StoredNarrative
from app.model.release_record import StoredRelease
from app.model.submissions import Submission
from storage import narrative_repo, releases_repo, submissions_repo
from tests.conftest import tamper

NOW = "2026-11-07T12:00:00"
CUI = Marking.parse("CUI")
NARRATIVE = Narrative("Uplift is limited.", CUI, (KeyJudgment("No novel capability.", Confidence.HIGH, CUI),
                                                  KeyJudgment("Agentic gains.", Confidence.LOW, Marking.parse("U"))),
                      "Re-test in 90 days.", Marking.parse("U"))


@pytest.fixture
def stored(workstation):  # type: ignore[no-untyped-def]
    s = workstation.session("reviewer")
    conn = s.db.conn
    # The rows referenced here (accounts, partners) are not what is tested.
    with tamper(s, foreign_keys=False) as c:
        sid = submissions_repo.insert(c, Submission(developer="D", model_name="M", version="1",
                                                    received=date(2026, 11, 1), planned_release=date(2026, 11, 20)),
                                      "rita", NOW)
        narrative_repo.save(c, sid, NARRATIVE, "rita", NOW)
        cid = narrative_repo.add_comment(c, sid, "judgments", "return", "Source for the second?", "lena", NOW)
        rid = releases_repo.insert(
            c, submission_id=sid, partner_id=4, partner_name="Ally", own=False, control_number="FR-2026-0007-R1",
            marking="CUI//REL TO ALLY", title="Findings", full_sha256="f1" * 32, full_json=b"{}", full_text="[]",
            released_text="[\"x\"]", withheld={"F-2": "NOFORN"}, pdf=b"%PDF", sha256="a1" * 32, findings_json=b"{}",
            signature_layout={}, actor="rita", now=NOW)
        releases_repo.record_export(c, rid, "/media/usb/r1", "b2" * 32, "USB 9", 12, "lena", NOW)
    return conn, sid, cid, rid


def test_narrative_comments_and_releases_come_back_field_for_field(stored) -> None:  # type: ignore[no-untyped-def]
    conn, sid, cid, rid = stored
    assert narrative_repo.get(conn, sid) == StoredNarrative(NARRATIVE, "rita", NOW)
    assert narrative_repo.get(conn, sid + 1) is None
    assert narrative_repo.comments(conn, sid) == [
        NarrativeComment(cid, "judgments", "return", "Source for the second?", "lena", NOW, "", "")]
    release = StoredRelease(
        rid, sid, 4, "Ally", False, "FR-2026-0007-R1", "exported", "CUI//REL TO ALLY", "Findings", "f1" * 32,
        {"F-2": "NOFORN"}, "a1" * 32, "a1" * 32, "rita", NOW, None, None, "lena", NOW, "/media/usb/r1", "b2" * 32,
        "USB 9", 12)
    assert releases_repo.get(conn, rid) == release and releases_repo.listing(conn, sid) == [release]
    assert type(release.own) is bool
    assert releases_repo.texts(conn, rid) == ("[]", "[\"x\"]")


def test_a_renamed_or_missing_column_fails_loudly(stored, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    conn, sid, _, rid = stored
    with monkeypatch.context() as m:
        m.setattr(narrative_repo, "_NARRATIVE_COLS", narrative_repo._NARRATIVE_COLS.replace(
            "recommendations,", "recommendations AS advice,"))
        with pytest.raises(TypeError, match="Narrative has no field for column.*advice"):
            narrative_repo.get(conn, sid)
    with monkeypatch.context() as m:  # a default field: only the complete check notices it gone
        m.setattr(narrative_repo, "_NARRATIVE_COLS", narrative_repo._NARRATIVE_COLS.replace(" judgments,", ""))
        with pytest.raises(TypeError, match="Narrative has no column for field.*judgments"):
            narrative_repo.get(conn, sid)
    with monkeypatch.context() as m:
        m.setattr(narrative_repo, "_COMMENT_COLS", narrative_repo._COMMENT_COLS.replace(", resolved_at", ""))
        with pytest.raises(TypeError, match="NarrativeComment has no column for field.*resolved_at"):
            narrative_repo.comments(conn, sid)
    with monkeypatch.context() as m:
        m.setattr(releases_repo, "_COLS", releases_repo._COLS.replace("partner_name,", "partner_name AS partner,"))
        with pytest.raises(TypeError, match="StoredRelease has no field for column.*partner"):
            releases_repo.get(conn, rid)
    with monkeypatch.context() as m:
        m.setattr(releases_repo, "_COLS", releases_repo._COLS.replace(" media_label,", ""))
        with pytest.raises(TypeError, match="StoredRelease has no column for field.*media_label"):
            releases_repo.listing(conn)
