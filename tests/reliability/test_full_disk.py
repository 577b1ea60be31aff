"""A full disk (a real tiny tmpfs, or an injected ENOSPC) and media removed mid-write, during
import and export: a clear message, nothing partial, and the workstation still opens intact.
(Backup: tests/reliability/test_backup.py.)"""

from __future__ import annotations

import errno
import os
import shutil
from pathlib import Path

import pytest

from app.model.errors import FrontierError
from app.services import audit, results
from app.services import reports as report_service
from tests.conftest import PASSPHRASES, derive_template, fixture_conditions, restore_template
from tests.reliability.biglog import write_big_inspect_log
from tests.reliability.helpers import add_submission, approved_submission, configure_for_reports
from tests.reliability.tmpfs import mounted_tmpfs


def _rows(session) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    return (session.db.query_one("SELECT count(*) FROM eval_runs")[0],
            session.db.query_one("SELECT count(*) FROM eval_samples")[0])


def _fill(disk: Path, leave: int) -> None:
    st = os.statvfs(disk)
    fd = os.open(disk / "filler", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.posix_fallocate(fd, 0, st.f_bavail * st.f_frsize - leave)
    finally:
        os.close(fd)


@pytest.fixture(scope="module")
def full_disk_import(tmp_path_factory, workstation_template):  # type: ignore[no-untyped-def]
    """A workstation on a real 64 MB tmpfs filled to its last 2 MB, then a 6,000-sample import onto it:
    (workstation, rows before, rows after, the message). Both tests below check this one run."""
    root = tmp_path_factory.mktemp("full-disk")
    with mounted_tmpfs(root) as tmpfs, fixture_conditions(root) as backend:
        disk = tmpfs("data", "64m")
        ws = workstation_template.copy_to(disk / "ws", backend)
        _fill(disk, leave=2 << 20)  # whatever the page size made the workstation take
        log = write_big_inspect_log(root / "big.json", 6000, "full")  # far more than 2 MB once stored
        reviewer = ws.session("reviewer")
        sid = add_submission(reviewer).id
        before = _rows(reviewer)
        try:
            outcome = results.import_files(reviewer, [log], sid)[0]
            assert outcome.status == "failed"
            message = outcome.message
        except FrontierError as exc:  # even the rejection's audit event may not fit on the disk: still clean
            message = str(exc)
        after = _rows(reviewer)
        reviewer.close()
        yield ws, before, after, message


def test_import_onto_a_full_data_disk_stores_nothing(full_disk_import, workstation_template, memory_keyring):
    ws, before, after, message = full_disk_import
    assert after == before
    assert "big.json" in message and "nothing was stored" in message
    memory_keyring.store.update(workstation_template.keyring_store)
    again = ws.session("auditor")  # the workstation opens, intact, once the import is refused
    assert again.db.integrity_check() == []
    assert audit.verify(again).ok
    again.close()


def test_import_onto_a_full_data_disk_says_the_disk_is_full(full_disk_import):
    _ws, _before, _after, message = full_disk_import
    assert "full" in message


def _countersign(ws):  # type: ignore[no-untyped-def]
    configure_for_reports(ws.session("admin"))
    rev, lead = ws.session("reviewer"), ws.session("lead")
    sid = approved_submission(rev, lead)
    rid = report_service.build(rev, sid).id
    report_service.sign(rev, rid, PASSPHRASES["reviewer"])
    report_service.countersign(lead, rid, PASSPHRASES["lead"])
    return rid


@pytest.fixture(scope="module")
def countersigned_template(tmp_path_factory, workstation_template):  # type: ignore[no-untyped-def]
    """A report built, signed and countersigned (~1.5 s of CPU): once per module, with its id."""
    return derive_template(tmp_path_factory.mktemp("countersigned"), workstation_template, _countersign)


@pytest.fixture
def countersigned(workstation, countersigned_template, memory_keyring):  # type: ignore[no-untyped-def]
    template, rid = countersigned_template
    restore_template(workstation, template, memory_keyring)
    return workstation.session("reviewer"), rid


def test_export_onto_full_media_leaves_nothing(countersigned, tmpfs, workstation):
    rev, rid = countersigned
    usb = tmpfs("usb", "48k")  # smaller than the signed PDF
    with pytest.raises(FrontierError) as info:
        report_service.export(rev, rid, usb, "SECRET//NOFORN", PASSPHRASES["reviewer"])
    assert "full" in str(info.value) and str(usb) in str(info.value)
    assert list(usb.iterdir()) == []
    auditor = workstation.session("auditor")
    assert audit.events(auditor, 50, action_prefix="report.export") == []


def test_export_with_injected_enospc_leaves_nothing(countersigned, tmp_path, monkeypatch, workstation):
    import reports.package as package

    rev, rid = countersigned
    usb = tmp_path / "usb"
    usb.mkdir()
    real = package.os.write
    calls = {"n": 0}

    def full(fd: int, data: bytes) -> int:
        calls["n"] += 1
        if calls["n"] > 2:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(fd, data)

    monkeypatch.setattr(package.os, "write", full)
    with pytest.raises(FrontierError, match="full"):
        report_service.export(rev, rid, usb, "SECRET//NOFORN", PASSPHRASES["reviewer"])
    monkeypatch.undo()
    assert list(usb.iterdir()) == []
    assert audit.events(workstation.session("auditor"), 50, action_prefix="report.export") == []


def test_export_media_removed_mid_write(countersigned, tmp_path, workstation):
    rev, rid = countersigned
    usb = tmp_path / "usb"
    usb.mkdir()

    def pull(done: int, total: int, what: str) -> None:
        if usb.exists():
            shutil.rmtree(usb)

    with pytest.raises(FrontierError) as info:
        report_service.export(rev, rid, usb, "SECRET//NOFORN", PASSPHRASES["reviewer"], progress=pull)
    assert str(usb) in str(info.value)
    assert not usb.exists()
    assert audit.events(workstation.session("auditor"), 50, action_prefix="report.export") == []
