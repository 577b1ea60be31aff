"""SafeZip's central directory: selected members kept packed (an .eval's samples), read in pieces, the
last entry of a name winning in its first place, and what the directory costs per member."""

from __future__ import annotations

import tracemalloc
import zipfile
from pathlib import Path

import pytest

from app.ingest import safezip
from app.ingest.safezip import MARK, PackedEntries, SafeZip
from app.model.errors import IngestError

SAMPLE = "samples/{}_epoch_1.json"


def _is_sample(name: str) -> bool:
    return name.startswith("samples/")


def _archive(path: Path, members: list[tuple[str, bytes]]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members:
            with pytest.warns(UserWarning) if name in z.NameToInfo else _nothing():  # a rewrite
                z.writestr(name, data)
    return path


class _nothing:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


def test_selected_members_are_packed_in_directory_order_and_read_back(tmp_path: Path) -> None:
    names = [SAMPLE.format(i) for i in (3, 1, 11, 2)]
    log = _archive(tmp_path / "a.zip", [("header.json", b"{}"), *((n, n.encode() * 3) for n in names),
                                        ("reductions.json", b"[]")])
    with SafeZip(str(log), 1 << 20, select=_is_sample) as z:
        assert isinstance(z.selected, PackedEntries) and sorted(z.members) == ["header.json", "reductions.json"]
        assert [z.selected[i].name for i in range(len(z.selected))] == names
        assert [z.read_entry(z.selected[i])[0] for i in range(4)] == [n.encode() * 3 for n in names]
        assert z.names() == [*names, "header.json", "reductions.json"]
        # by name too: "samples/1_epoch_1.json" lies inside "samples/11_epoch_1.json" and is told apart
        assert z.read(SAMPLE.format(1)) == SAMPLE.format(1).encode() * 3
        assert z.read(SAMPLE.format(11)) == SAMPLE.format(11).encode() * 3
        assert SAMPLE.format(4) not in z and "header.json" in z
        with pytest.raises(IngestError, match="missing from the archive"):
            z.read(SAMPLE.format(4))
    assert len(z.selected) == 0 and z.members == {}  # dropped on close


def test_a_name_listed_again_keeps_its_first_place_and_takes_its_last_entry(tmp_path: Path) -> None:
    """An append-mode rewrite (inspect-ai rewrites members so): the last central-directory entry wins,
    for packed samples as for the other members."""
    log = _archive(tmp_path / "a.zip", [
        ("header.json", b'{"v": 1}'), (SAMPLE.format(1), b"first"), (SAMPLE.format(2), b"two"),
        (SAMPLE.format(1), b"rewritten"), ("header.json", b'{"v": 2}')])
    with SafeZip(str(log), 1 << 20, select=_is_sample) as z:
        assert [z.selected[i].name for i in range(len(z.selected))] == [SAMPLE.format(1), SAMPLE.format(2)]
        assert z.read_entry(z.selected[0])[0] == b"rewritten" and z.read(SAMPLE.format(1)) == b"rewritten"
        assert z.read("header.json") == b'{"v": 2}'
    with SafeZip(str(log), 1 << 20) as z:  # without `select`: the same answer
        assert z.read(SAMPLE.format(1)) == b"rewritten" and z.names()[:2] == ["header.json", SAMPLE.format(1)]


def test_a_directory_read_in_pieces_reads_as_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    names = [SAMPLE.format(f"task-{i:05d}") for i in range(300)]
    log = _archive(tmp_path / "a.zip", [("header.json", b"{}"), *((n, b"x" * (i % 7)) for i, n in enumerate(names))])
    with SafeZip(str(log), 1 << 20, select=_is_sample) as z:
        whole = [z.selected[i] for i in range(len(z.selected))]
    for piece in (61, 97, 1000):  # entries cut at every place across the pieces
        monkeypatch.setattr(safezip, "_DIRECTORY_PIECE", piece)
        with SafeZip(str(log), 1 << 20, select=_is_sample) as z:
            assert [z.selected[i] for i in range(len(z.selected))] == whole and "header.json" in z


def test_a_directory_cut_short_is_named_damaged(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    log = _archive(tmp_path / "a.zip", [(SAMPLE.format(i), b"x") for i in range(20)])
    data = bytearray(log.read_bytes())
    eocd = data.rfind(b"PK\x05\x06")
    count, size = int.from_bytes(data[eocd + 10:eocd + 12], "little"), int.from_bytes(data[eocd + 12:eocd + 16], "little")
    data[eocd + 8:eocd + 12] = (count + 1).to_bytes(2, "little") * 2  # one entry more than the directory holds
    log.write_bytes(bytes(data))
    monkeypatch.setattr(safezip, "_DIRECTORY_PIECE", 64)
    with pytest.raises(IngestError, match="central directory entry 20 is damaged"):
        SafeZip(str(log), 1 << 20, select=_is_sample)
    assert size > 64


def test_the_directory_costs_under_100_bytes_a_sample(tmp_path: Path) -> None:
    """The importing process holds the directory for the whole import: as Member objects it cost about
    330 bytes a member (53 MB at 160,000 samples), the figure that made memory grow with the log."""
    n = 20_000
    log = tmp_path / "big.zip"
    with zipfile.ZipFile(log, "w", zipfile.ZIP_STORED) as z:
        for i in range(n):
            z.writestr(SAMPLE.format(f"ctf-{i % 24}-{i:06d}"), b"{}")
        z.writestr("header.json", b"{}")
    tracemalloc.start()
    try:
        base, _ = tracemalloc.get_traced_memory()
        with SafeZip(str(log), 1 << 20, select=_is_sample) as z:
            now, peak = tracemalloc.get_traced_memory()
            held, peak = now - base, peak - base
            assert len(z.selected) == n
    finally:
        tracemalloc.stop()
    assert held < 100 * n, f"{held / n:.0f} bytes a member"  # 84 (Member objects: 260)
    # while reading: the piece of the directory read (1 MiB, whatever its size) and the names' hashes
    assert peak < 300 * n, f"{peak / n:.0f} bytes a member at the peak of reading the directory"


def test_closing_an_eval_log_frees_its_sample_entries() -> None:
    """Parser processes are handed the sample members and the log is closed at once: nothing of the
    open log (a closure of its readers) may keep the packed members alive for the rest of the import."""
    import gc
    import weakref

    from app.ingest import inspect_log

    fixture = Path(__file__).resolve().parents[1] / "fixtures" / "inspect" / "intercode_ok.eval"
    log = inspect_log.open_eval(str(fixture))
    run = log.runs[0]
    assert run.sample_range is not None
    z = log.close.__self__  # type: ignore[attr-defined]
    assert isinstance(z, SafeZip) and len(z.selected) == run.sample_estimate == 6
    ref = weakref.ref(z.selected)
    log.close()
    gc.collect()
    assert ref() is None
    with pytest.raises(ValueError, match="read after the log was closed"):
        next(run.sample_range(0, 6))


def _walked(z: SafeZip, first: int, n: int) -> list[object]:
    d = z.directory
    return list(z.read_selected(d, first, n, _is_sample, d.marks[first // MARK]))


def test_a_parser_process_finds_any_chunk_from_the_marks_as_the_whole_listing_has_it(tmp_path: Path) -> None:
    """keep=False (parser processes will read the samples): the members are only counted and every
    MARK-th one's directory entry marked; any run of them read from the mark at or before it is the
    same as the packed listing's, repeats included (first place, last entry)."""
    members = [("header.json", b"{}")]
    for i in range(130):
        members.append((SAMPLE.format(i), b"v1 %d" % i))
        if i % 40 == 39:
            members.append((f"_journal/summaries/{i}.json", b"[]"))
    members += [(SAMPLE.format(7), b"v2 7"), (SAMPLE.format(100), b"v2 100"), (SAMPLE.format(7), b"v3 7")]
    log = _archive(tmp_path / "a.zip", members)
    with SafeZip(str(log), 1 << 20, select=_is_sample) as whole, \
            SafeZip(str(log), 1 << 20, select=_is_sample, keep=False) as counted:
        listed = [whole.selected[i] for i in range(len(whole.selected))]
        assert len(counted.selected) == 0 and counted.directory.count == len(listed) == 130
        assert len(counted.directory.marks) == 6 and counted.directory.skip and counted.directory.replace
        for first, n in ((0, 130), (0, 25), (24, 2), (25, 25), (33, 60), (125, 5), (129, 1)):
            assert _walked(counted, first, n) == listed[first:first + n], (first, n)
        assert whole.read_entry(listed[7])[0] == b"v3 7" and whole.read_entry(listed[100])[0] == b"v2 100"
        with pytest.raises(IngestError, match="central directory ends before sample member 131 of 130"):
            _walked(counted, 125, 6)


def test_a_parser_process_share_holds_no_list_of_members(tmp_path: Path) -> None:
    """keep=False holds a mark per MARK members (8 bytes) and nothing per member, however long the log."""
    n = 20_000
    log = tmp_path / "big.zip"
    with zipfile.ZipFile(log, "w", zipfile.ZIP_STORED) as z:
        for i in range(n):
            z.writestr(SAMPLE.format(f"ctf-{i % 24}-{i:06d}"), b"{}")
    tracemalloc.start()
    try:
        base, _ = tracemalloc.get_traced_memory()
        with SafeZip(str(log), 1 << 20, select=_is_sample, keep=False) as z:
            held = tracemalloc.get_traced_memory()[0] - base
            assert z.directory.count == n and len(z.directory.marks) == n // MARK
            walked = sum(1 for _ in z.read_selected(z.directory, 0, n, _is_sample, z.directory.marks[0]))
            assert walked == n and tracemalloc.get_traced_memory()[1] - base < (4 << 20)  # pieces of 1 MiB
    finally:
        tracemalloc.stop()
    assert held < 4 * n, f"{held / n:.1f} bytes a member"
