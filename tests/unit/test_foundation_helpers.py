"""app.foundation: the one untrusted-text policy, durable writes, file digests, bounded reads, OS errors."""

from __future__ import annotations

import errno
import hashlib
import os
import stat
from pathlib import Path

import pytest

from app.foundation import files
from app.foundation.oserrors import is_full, os_error_problem
from app.foundation.text import untrusted_text
from app.model.errors import IngestError

# -- untrusted text -------------------------------------------------------------------------------


def test_untrusted_text_removes_controls_and_escapes_and_shows_bidi() -> None:
    hostile = "a\x00b\x07c\r\nd\te\x1b[1mf\u202eg\x1b]0;title\x07h\ud800"
    assert untrusted_text(hostile) == "abc\nd\tef⟨U+202E⟩gh"


def test_untrusted_text_single_line_and_line_endings() -> None:
    assert untrusted_text("one\r\ntwo\rthree\u2028four\tfive", single_line=True) == "one two three four five"
    assert untrusted_text("one\r\ntwo\rthree") == "one\ntwo\nthree"


def test_untrusted_text_bounds_length_and_says_how_much_was_cut() -> None:
    assert untrusted_text("x" * 50, 10) == "x" * 10 + "\n[… 40 more characters not shown]"
    assert untrusted_text("short", 10) == "short"


def test_untrusted_text_skips_the_character_rules_only_where_they_change_nothing() -> None:
    # untrusted_text returns a printable string without the per-character rules: for every
    # printable character they must keep it as it is (and still apply to the rest: see above).
    from app.foundation.text import _cleaned

    printable = "".join(ch for code in range(0x20000) if (ch := chr(code)).isprintable())
    assert len(printable) > 60_000  # the BMP and plane 1: every script, symbol and emoji
    assert _cleaned(printable, False) == printable and _cleaned(printable, True) == printable
    assert untrusted_text("plain, ünïcode 漢字 " * 3, 20) == "plain, ünïcode 漢字 pl\n[… 34 more characters not shown]"


def test_untrusted_text_accepts_anything() -> None:
    assert untrusted_text(None) == ""
    assert untrusted_text(42) == "42"
    assert untrusted_text(ValueError("bad\x1b[31m name")) == "bad name"


# -- durable writes -----------------------------------------------------------------------------


def test_replace_durably_creates_with_mode_and_replaces(tmp_path: Path) -> None:
    target = tmp_path / "settings.json"
    files.replace_durably(target, b"one", 0o600)
    assert target.read_bytes() == b"one" and stat.S_IMODE(target.stat().st_mode) == 0o600
    files.replace_durably(target, b"two")
    assert target.read_bytes() == b"two"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["settings.json"]


def test_replace_durably_failure_keeps_the_old_file_and_leaves_no_temp(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "header.json"
    files.replace_durably(target, b"old")

    def full(_fd: int, _data: object) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "write", full)
    with pytest.raises(OSError) as info:
        files.replace_durably(target, b"new")
    assert is_full(info.value)
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["header.json"]


def test_write_new_file_never_overwrites(tmp_path: Path) -> None:
    path = tmp_path / "report.pdf"
    files.write_new_file(path, b"%PDF", 0o640)
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    with pytest.raises(FileExistsError):
        files.write_new_file(path, b"other")
    assert path.read_bytes() == b"%PDF"


# -- digests and bounded reads ------------------------------------------------------------------


def test_sha256_file_matches_hashlib_across_blocks(tmp_path: Path) -> None:
    data = os.urandom(files.BLOCK * 2 + 123)
    path = tmp_path / "blob"
    path.write_bytes(data)
    assert files.sha256_file(path) == (hashlib.sha256(data).hexdigest(), len(data))


def test_sha256_file_stops_when_cancelled(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(files, "BLOCK", 16)  # a cancel check every 64 blocks of 16 bytes
    path = tmp_path / "big"
    path.write_bytes(b"x" * 16 * 200)
    _digest, size = files.sha256_file(path, cancel=lambda: True)
    assert size == 16 * 64


def test_read_bounded_names_the_file_and_what_it_should_be(tmp_path: Path) -> None:
    path = tmp_path / "rules.json"
    path.write_bytes(b"x" * 100)
    assert files.read_bounded(path, 100, "rule set") == b"x" * 100
    with pytest.raises(IngestError, match=r"rules\.json: is larger than 99 bytes; not a rule set"):
        files.read_bounded(path, 99, "rule set")
    with pytest.raises(IngestError, match=r"missing\.json: cannot be read \(No such file or directory\)"):
        files.read_bounded(tmp_path / "missing.json", 100, "rule set")
    path.write_bytes(b"x" * ((2 << 20) + 1))
    with pytest.raises(IngestError, match="is larger than 2 MB; not a rule set"):
        files.read_bounded(path, 2 << 20, "rule set")


# -- OS errors in words ------------------------------------------------------------------------


@pytest.mark.parametrize(("code", "words"), [
    (errno.ENOSPC, "the medium holding /media/usb is full"),
    (errno.EDQUOT, "the medium holding /media/usb is full"),
    (errno.ENOENT, "/media/usb disappeared or failed during the write (medium removed?)"),
    (errno.EIO, "/media/usb disappeared or failed during the write (medium removed?)"),
    (errno.EROFS, "/media/usb is not writable (read-only media or no permission)"),
    (errno.EACCES, "/media/usb is not writable (read-only media or no permission)"),
    (errno.EMFILE, "/media/usb: Too many open files"),
])
def test_os_error_problem_names_the_path_and_the_cause(code: int, words: str) -> None:
    assert os_error_problem(OSError(code, os.strerror(code)), Path("/media/usb")) == words


def test_sha256_file_reports_bytes_hashed_every_8_blocks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(files, "BLOCK", 16)
    path = tmp_path / "big"
    path.write_bytes(b"x" * 16 * 20)
    seen: list[int] = []
    assert files.sha256_file(path, progress=seen.append)[1] == 16 * 20
    assert seen == [16 * 8, 16 * 16]


def test_read_bounded_refuses_a_fifo_instead_of_waiting_for_a_writer(tmp_path: Path) -> None:
    """A named pipe picked as a CSAF advisory or signed definition blocked open() for ever."""
    from app.model.errors import IngestError

    fifo = tmp_path / "advisory.json"
    os.mkfifo(fifo)
    with pytest.raises(IngestError, match=r"advisory\.json: is not a regular file; not a CSAF advisory"):
        files.read_bounded(fifo, 1 << 20, "CSAF advisory")


def test_folder_problem_tells_missing_file_and_unwritable_apart(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """Walk 2 (s31) #7: the words every writer to media uses before it starts."""
    from app.foundation.oserrors import folder_problem

    assert folder_problem(tmp_path) is None
    assert folder_problem(tmp_path / "usb") == f"{tmp_path / 'usb'} does not exist (or the media is not mounted)"
    (tmp_path / "f").write_text("x")
    assert folder_problem(tmp_path / "f") == f"{tmp_path / 'f'} is not a folder"
    monkeypatch.setattr(os, "access", lambda _p, _m: False)
    assert folder_problem(tmp_path) == f"{tmp_path} is not writable (read-only media or no permission)"
