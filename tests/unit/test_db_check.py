"""Sign-in checks every table but the imported results' bulk; the whole check runs after it.

The damage planted here is what SQLite's quick_check reports (a NULL in a NOT NULL column, written
by someone holding the data key, through a schema edited for the purpose): the bulk's damage is
found by the check after sign-in (and `storage check`), anything else's still refuses the sign-in.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from app import cli
from app.model.errors import StorageError
from app.services import db_check, results
from app.services import workstation as ws_service
from storage import db as storage_db
from tests.conftest import PASSPHRASES, plant_null, reviewer_with_submission

INSPECT = Path(__file__).parents[1] / "fixtures" / "inspect"


@pytest.fixture
def imported(workstation):  # type: ignore[no-untyped-def]
    s, sid = reviewer_with_submission(workstation)
    out = results.import_files(s, [INSPECT / "intercode_ok.eval"], sid)
    assert out[0].status == "imported"
    return s


def test_a_sound_database_passes_and_the_check_can_be_stopped(imported, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    assert db_check.check(imported) == []
    looks: list[int] = []
    monkeypatch.setattr(db_check, "STEPS", 1)  # this small database is checked in fewer than 10,000 steps
    assert db_check.check(imported, cancelled=lambda: looks.append(1) or len(looks) > 3) is None
    assert 4 <= len(looks) < 20  # SQLite stopped soon after the first true answer


def test_damage_in_the_results_bulk_is_found_after_sign_in(workstation, imported, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    plant_null(imported, "eval_samples", "sample_id")
    imported.close()
    s = workstation.session("reviewer")  # sign-in does not read the bulk
    problems = db_check.check(s)
    assert problems and any("eval_samples" in p and "NULL" in p for p in problems), problems
    text = db_check.describe(problems, s)
    assert "fails its integrity check" in text and "restore it from a backup" in text
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSPHRASES["reviewer"] + "\n"))
    code = cli.main(["--data-dir", str(workstation.data_dir), "--user", "reviewer", "storage", "check"])
    err = capsys.readouterr().err
    assert code == 1 and "eval_samples" in err and "fails its integrity check" in err


def test_damage_anywhere_else_still_refuses_sign_in(workstation, imported) -> None:  # type: ignore[no-untyped-def]
    plant_null(imported, "submissions", "developer")
    imported.close()
    with pytest.raises(StorageError, match="fails its integrity check: NULL value in submissions.developer"):
        ws_service.sign_in(workstation.data_dir, "reviewer", PASSPHRASES["reviewer"])


def test_the_deferred_tables_are_the_results_bulk_only(workstation) -> None:  # type: ignore[no-untyped-def]
    s = workstation.session("reviewer")
    tables = [r[0] for r in s.db.query("SELECT name FROM sqlite_schema WHERE type = 'table'")]
    deferred = sorted(t for t in tables if storage_db._deferred(t))
    assert deferred == ["eval_samples", "eval_samples_fts", "eval_samples_fts_config", "eval_samples_fts_data",
                        "eval_samples_fts_docsize", "eval_samples_fts_idx", "eval_transcripts"], deferred


def test_storage_check_says_sound(workstation, imported, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSPHRASES["reviewer"] + "\n"))
    code = cli.main(["--data-dir", str(workstation.data_dir), "--user", "reviewer", "storage", "check"])
    assert code == 0 and "sound" in capsys.readouterr().out
