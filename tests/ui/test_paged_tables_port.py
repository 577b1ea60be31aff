"""The samples, submissions and vulnerabilities tables show exactly what they showed before they moved
onto the paged columns model (issue 18 point 4).

tests/ui/golden/paged_tables.json was recorded from the models as they were before the port
(commit 9d292c2), on the fixture data built here: every header,
every cell's display text, tooltip, foreground, background, alignment and id roles, read page by
page across the table, in every sort order each model offers and under its filters, plus the page
reads the samples model asked its source for (keyset after the page before, else by offset).
Re-record only on purpose: FRW_RECORD_GOLDEN=1 pytest tests/ui/test_paged_tables_port.py.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from datetime import timedelta
from pathlib import Path
from typing import Any

from PySide6.QtCore import QAbstractItemModel, Qt
from PySide6.QtGui import QBrush, QColor

from app.model.markings import Marking
from app.model.results import EvalRun, Harness, MetricValue, RunStatus, SampleFilter, SampleResult, Score
from app.model.submissions import Submission, SubmissionStatus
from app.model.vulnerabilities import CvssSeverity, Tlp, Vulnerability, VulnStatus
from app.model.workflow import Stage
from app.services import submissions
from app.services import vulnerabilities as vs
from storage import results_repo
from tests.conftest import tamper
from ui.models.samples_model import SamplesModel
from ui.models.submissions_model import SubmissionsModel
from ui.models.vulns_model import VulnTableModel
from ui.screens.run_detail import ServiceSamples

GOLDEN = Path(__file__).with_name("golden") / "paged_tables.json"
RECORD = os.environ.get("FRW_RECORD_GOLDEN") == "1"
USER = int(Qt.ItemDataRole.UserRole)
ROLES = {"display": int(Qt.ItemDataRole.DisplayRole), "tooltip": int(Qt.ItemDataRole.ToolTipRole),
         "foreground": int(Qt.ItemDataRole.ForegroundRole), "background": int(Qt.ItemDataRole.BackgroundRole),
         "align": int(Qt.ItemDataRole.TextAlignmentRole), "user": USER, "user1": USER + 1, "user2": USER + 2}
ORDERS = (Qt.SortOrder.AscendingOrder, Qt.SortOrder.DescendingOrder)


# -- fixture data -----------------------------------------------------------------------------------
def _samples(session, n: int = 23) -> int:  # type: ignore[no-untyped-def]
    """A run whose rows cover every cell rule: letter, numeric, missing and NaN scores, several
    scorers, errors, long and multi-line texts, token totals present or summed or missing."""
    today = session.today()
    sid = submissions.create(session, Submission("Dev", "Model", "1", today, today + timedelta(days=9))).id
    run = EvalRun(Harness.INSPECT, "0.3.285", "task", "1", "m/model", "2026-11-01", RunStatus.SUCCESS,
                  metrics=(MetricValue("includes", "accuracy", 0.4, 0.01),), file_sha256="a" * 64,
                  original_name="golden.eval", total_samples=n, completed_samples=n, epochs=2)
    values: list[Any] = ["C", "I", "P", 0.25, None, math.nan, 1, 0, "C", 0.75, "I"]
    rows = []
    for i in range(n):
        v = values[i % len(values)]
        scores = {} if v is None else {"includes": Score.of(v)}
        if i % 4 == 1:
            scores["judge"] = Score.of({"value": "I"} if i % 8 == 1 else 0.5)
        long = " ".join(f"word{j}\twith\nbreak" for j in range(i * 7))
        rows.append(SampleResult(
            sample_id=f"s{i % 12:03d}" + ("-" + "x" * 150 if i == 5 else ""), epoch=1 + i // 12, scores=scores,
            input_text=f"Challenge {i}: {long}", target=f"flag{{{i:x}}}" * (1 + i % 3),
            answer=f"answer <b>{i}</b> & more" if i % 3 else "", error="timeout\nafter 60 s" if i % 6 == 2 else "",
            total_time=None if i % 5 == 0 else i * 1.37, input_tokens=None if i % 7 == 0 else 100 + i,
            output_tokens=None if i % 7 in (0, 3) else 10 * i, total_tokens=(1000 * i) if i % 2 else None))
    with tamper(session) as conn:
        run_id = results_repo.insert_run(conn, run, int(sid or 0), "inspect-eval", "reviewer", "2026-11-01")
        results_repo.insert_samples(conn, run_id, rows)
        results_repo.finish_run(conn, run_id, n, sum(1 for r in rows if r.error))
    return run_id


def _submissions(session) -> None:  # type: ignore[no-untyped-def]
    """Windows that are done, overdue, at risk and on track; stored statuses the stage overrides."""
    today = session.today()
    statuses = list(SubmissionStatus)
    markings = ["CUI", "UNCLASSIFIED", "SECRET//NOFORN", "CUI//SP-PRVCY"]
    for i in range(17):
        submissions.create(session, Submission(
            developer=["Northwind AI", "Helix Labs", "Meridian", "cobalt"][i % 4], model_name=f"Model-{(i * 7) % 17:02d}",
            version=f"v{i % 3}", received=today - timedelta(days=40 - i),
            planned_release=today + timedelta(days=(i * 5) % 37 - 12), status=statuses[i % len(statuses)],
            marking=Marking.parse(markings[i % len(markings)])))


def _vulnerabilities(session) -> None:  # type: ignore[no-untyped-def]
    vectors = ["CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
               "CVSS:4.0/AV:L/AC:L/AT:P/PR:L/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
               "CVSS:4.0/AV:L/AC:L/AT:N/PR:N/UI:A/VC:L/VI:N/VA:N/SC:N/SI:N/SA:N", ""]
    today = session.today()
    embargoes = [today + timedelta(days=2), today + timedelta(days=100), None, today - timedelta(days=3),
                 today + timedelta(days=7)]
    statuses = list(VulnStatus)
    tlps = list(Tlp)
    for i in range(15):
        vs.create(session, Vulnerability(
            title=f"Finding {(i * 4) % 15:02d}" + (" with\na second line " + "long " * 60 if i % 6 == 1 else ""),
            cvss_vector=vectors[i % 4], embargo_until=embargoes[i % 5], status=statuses[i % len(statuses)],
            tlp=tlps[i % len(tlps)], vendor=["Acme", "", "zeta corp"][i % 3], product=f"prod{i % 4}" if i % 2 else "",
            cve=f"CVE-2026-{1000 + (i * 7) % 15}" if i % 3 else "", cwe=f"CWE-{79 + i % 4}" if i % 2 else "",
            marking=Marking.parse(["CUI", "UNCLASSIFIED", "SECRET//NOFORN"][i % 3]),
            discovered=today - timedelta(days=30), vendor_notified=today - timedelta(days=20),
            published=today - timedelta(days=10)))


# -- reading a model ----------------------------------------------------------------------------------
def _value(v: Any) -> Any:
    if isinstance(v, QBrush):
        return "QBrush(" + v.color().name(QColor.NameFormat.HexArgb) + ")"
    if isinstance(v, QColor):
        return "QColor(" + v.name(QColor.NameFormat.HexArgb) + ")"
    if v is None or isinstance(v, str | bool):
        return v
    if isinstance(v, int):
        return v
    ident = getattr(v, "id", None)  # a row object: its id is what identifies it
    return f"{type(v).__name__}#{ident}"


def _table(model: QAbstractItemModel) -> dict[str, Any]:
    """Every row from the top, a page at a time (what scrolling down does)."""
    cols = model.columnCount()
    rows = []
    for r in range(model.rowCount()):
        rows.append([{name: _value(model.data(model.index(r, c), role)) for name, role in ROLES.items()}
                     for c in range(cols)])
    return {"count": model.rowCount(),
            "headers": [model.headerData(c, Qt.Orientation.Horizontal) for c in range(cols)],
            "row_headers": [model.headerData(r, Qt.Orientation.Vertical) for r in range(min(3, model.rowCount()))],
            "rows": rows}


def _digest(model: QAbstractItemModel) -> dict[str, Any]:
    """The table read as `_table` does, kept as the row ids in order and a digest of every cell (the
    cells are those of the full table recorded once, in another order or subset)."""
    t = _table(model)
    ids = [row[0]["user"] if row[0]["user"] is not None else row[0]["user1"] for row in t["rows"]]
    return {"ids": ids, "sha256": hashlib.sha256(json.dumps(t, sort_keys=True).encode()).hexdigest()}


def _sorted(model: QAbstractItemModel) -> dict[str, Any]:
    """Each column, both orders, in that sequence (a click on an unsortable column keeps or resets
    the order as each model did)."""
    out = {}
    for c in range(model.columnCount()):
        for order in ORDERS:
            model.sort(c, order)
            out[f"{c}:{order.name}"] = _digest(model)
    return out


def _fetches(model: Any) -> int:
    """Pages read so far (the old models counted them as an int, `fetches` or `pages_fetched`)."""
    n = getattr(model, "fetches", None)
    return len(n) if isinstance(n, list) else int(n if n is not None else model.pages_fetched)


class RecordingSource(ServiceSamples):
    """The real service, with each page read written down: (offset, after row id, sort, descending)."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.reads: list[list[Any]] = []
        self.counts: list[str] = []

    def count(self, flt: SampleFilter) -> int:
        self.counts.append(repr(flt))
        return super().count(flt)

    def page(self, flt, offset, limit, sort, descending, after=None):  # type: ignore[no-untyped-def]
        self.reads.append([offset, None if after is None else after.id, sort, descending])
        return super().page(flt, offset, limit, sort, descending, after)


def record_samples(session) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    run_id = _samples(session)
    src = RecordingSource(session, run_id)
    model = SamplesModel(src, unfiltered_count=23, page_size=5, max_pages=3)
    out: dict[str, Any] = {"table": _table(model), "reads": list(src.reads)}
    src.reads.clear()
    out["sorted"] = _sorted(model)
    out["sorted_reads"] = list(src.reads)
    filters = {"errors": SampleFilter(errors_only=True), "correct": SampleFilter(min_score=1.0),
               "epoch2": SampleFilter(epoch=2), "search": SampleFilter(search="answer"),
               "none": SampleFilter(search="nothingmatches")}
    model.sort(2, Qt.SortOrder.DescendingOrder)
    for name, flt in filters.items():
        model.set_filter(flt)
        out[f"filter:{name}"] = _digest(model)
    model.set_filter(SampleFilter())
    model.set_filter(filters["errors"])  # counted before: no second count
    model.refresh(23)
    out["after_refresh"] = _digest(model)
    out["counts"] = list(src.counts)
    model.apply(SampleFilter(epoch=1), 12, src.page(SampleFilter(epoch=1), 0, 5, "score", False), "score", False)
    out["applied"] = _digest(model)
    return out


def record_submissions(ctx) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    _submissions(ctx.session)
    model = SubmissionsModel(ctx, page_size=4, cache_pages=2)
    out: dict[str, Any] = {"table": _table(model), "fetches": _fetches(model)}
    out["sorted"] = _sorted(model)
    model.sort(1, Qt.SortOrder.AscendingOrder)
    for name, kwargs in {"search": {"search": "helix"}, "id search": {"search": " 1 "},
                         "withdrawn": {"search": "", "status": Stage.WITHDRAWN.value},
                         "open": {"status": None, "open_only": True}, "all": {"open_only": False}}.items():
        model.set_filter(**kwargs)
        out[f"filter:{name}"] = _digest(model)
    return out


def record_vulnerabilities(ctx) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    session = ctx.session
    _vulnerabilities(session)
    model = VulnTableModel(session, page_size=4)
    out: dict[str, Any] = {"table": _table(model), "fetches": _fetches(model)}
    out["sorted"] = _sorted(model)
    model.sort(4, Qt.SortOrder.DescendingOrder)
    model.soon_days = 10
    for name, flt in {"high": vs.filters(session, (CvssSeverity.CRITICAL, CvssSeverity.HIGH)),
                      "status": vs.filters(session, (), (VulnStatus.NEW, VulnStatus.CLOSED)),
                      "embargo": vs.filters(session, embargo_within_days=10), "search": vs.filters(session, search="acme"),
                      "none": vs.filters(session, search="no such thing")}.items():
        model.set_filters(flt)
        out[f"filter:{name}"] = _digest(model)
    return out


def _check(name: str, got: dict[str, Any]) -> None:
    golden = json.loads(GOLDEN.read_text(encoding="utf-8")) if GOLDEN.exists() else {}
    got = json.loads(json.dumps(got))  # tuples as lists, as the file has them
    if RECORD:
        golden[name] = got
        GOLDEN.parent.mkdir(exist_ok=True)
        GOLDEN.write_text(json.dumps(golden, indent=0, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")
        return
    want = golden[name]
    assert sorted(got) == sorted(want)
    for key in sorted(want):  # one part at a time, so a failure names the table, sort or filter
        assert got[key] == want[key], f"{name}: {key} differs from the recorded output"


def test_samples_table_shows_what_it_showed_before(ctx) -> None:  # type: ignore[no-untyped-def]
    _check("samples", record_samples(ctx.session))


def test_submissions_table_shows_what_it_showed_before(ctx) -> None:  # type: ignore[no-untyped-def]
    _check("submissions", record_submissions(ctx))


def test_vulnerabilities_table_shows_what_it_showed_before(ctx) -> None:  # type: ignore[no-untyped-def]
    _check("vulnerabilities", record_vulnerabilities(ctx))


def test_the_fixture_covers_each_cell_rule(ctx) -> None:  # type: ignore[no-untyped-def]
    """The recording is only worth something if the data reaches every branch: checked here."""
    golden = json.loads(GOLDEN.read_text(encoding="utf-8"))

    def cells(table: dict[str, Any], col: int, role: str) -> set[Any]:
        return {row[col][role] for row in table["rows"]}

    s = golden["samples"]["table"]
    assert {"QColor(#ff1a7f37)", "QColor(#ffcf222e)", None} <= cells(s, 2, "foreground")  # pass, fail, partial
    assert "—" in cells(s, 2, "display") and "QColor(#ffa40e26)" in cells(s, 4, "foreground")
    assert any(r[0]["background"] for r in s["rows"]) and any(r[0]["background"] is None for r in s["rows"])
    assert any(str(t).endswith("…") for t in cells(s, 9, "display"))  # long input cut
    assert "" in cells(s, 7, "display") and len(cells(s, 7, "display")) > 5  # tokens missing, summed, total
    assert [r[0] for r in golden["samples"]["reads"]] == [0, 5, 10, 15, 20]
    assert all(r[1] is not None for r in golden["samples"]["reads"][1:])  # keyset after the page before
    sub = golden["submissions"]["table"]
    assert {"—"} < cells(sub, 7, "display") and len(cells(sub, 7, "foreground")) >= 3
    vul = golden["vulnerabilities"]["table"]
    assert len(cells(vul, 3, "background")) >= 3 and "QColor(#fffff8c5)" in cells(vul, 7, "background")
    assert "embargo has ended" in cells(vul, 7, "tooltip") and "—" in cells(vul, 4, "display")


def test_reload_shows_the_same_rows_in_the_same_filter_and_order(ctx) -> None:  # type: ignore[no-untyped-def]
    """What a screen's refresh does after a change elsewhere (not part of the recording)."""
    session = ctx.session
    run_id = _samples(session)
    _submissions(session)
    _vulnerabilities(session)
    samples = SamplesModel(ServiceSamples(session, run_id), unfiltered_count=23, page_size=5, max_pages=3)
    samples.set_filter(SampleFilter(epoch=1))
    samples.sort(2, Qt.SortOrder.DescendingOrder)
    subs = SubmissionsModel(ctx, page_size=4, cache_pages=2)
    subs.set_filter(search="a", open_only=True)
    subs.sort(2, Qt.SortOrder.DescendingOrder)
    vulns = VulnTableModel(session, vs.filters(session, search="finding"), page_size=4)
    vulns.sort(5, Qt.SortOrder.DescendingOrder)
    for model, reload in ((samples, lambda: samples.refresh(23)), (subs, subs.reload), (vulns, vulns.reload)):
        before = _table(model)
        assert before["count"] > 0
        reload()
        assert _table(model) == before
    assert subs.search == "a" and subs.open_only and vulns.filters.search == "finding"
