"""Benchmark: findings reports.

    QT_QPA_PLATFORM=offscreen python bench/bench_reports.py [--findings 500] [--runs 3] [--write]

1. build    - reports.pdf.build_pdf for a report with N findings (each with a three-paragraph
              description, impact, recommendation, five evidence references - two runs, two samples,
              one artifact, each with its SHA-256 - and linked checklist items; every fourth with a
              linked vulnerability), the narrative, 40 checklist items (matrix, attention rows and
              the full annex), 8 runs (two flagged) with table and chart; best of --runs. Issue 13's
              figure: under 3 s. The findings JSON and OSCAL companions are timed too.
2. sign     - one PAdES B-B signature (ECDSA P-256, software key) on that PDF once pyHanko is
              loaded (a first, untimed signature warms the imports), then the countersignature.
3. verify   - reports.verify.verify_pdf of the countersigned PDF (both signatures).
4. preview  - QPdfDocument.load of the bytes and render of page 1 at 96 dpi, offscreen
              (what the report screen does for the first page).
Results are printed as Markdown; --write replaces the "Reports" section of docs/PERFORMANCE.md.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import platform
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from reports import pki
from reports.pdf import build_pdf
from reports.sample import sample_input
from reports.signing import lead_request, reviewer_request, sign_pdf, software_signer
from reports.verify import verify_pdf


def _input(findings: int):  # type: ignore[no-untyped-def]
    base = sample_input(findings)
    longer = tuple(
        dataclasses.replace(f, description="\n\n".join(
            [f.description, f.description.replace("During", "In a repeat run"),
             "Reproduction: the same behaviour was observed on the reviewer's own harness with identical limits, "
             "and again with the developer's scaffold after raising its tool-call budget to fifty calls per "
             "attempt; transcripts and scores are attached as evidence to the linked checklist item."]))
        for f in base.findings
    )
    return dataclasses.replace(base, findings=longer)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--findings", type=int, default=500)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--write", action="store_true")
    args = ap.parse_args()
    report = _input(args.findings)

    times, cpu = [], []
    built = None
    for _ in range(args.runs):
        t, c = time.perf_counter(), time.process_time()
        built = build_pdf(report)
        times.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
    assert built is not None

    now = datetime.now(UTC)
    ca = pki.create_ca("Bench", now)
    rev = pki.issue_signing_certificate(ca, "Rita Reviewer", "reviewer", "Reviewer", now)
    lead = pki.issue_signing_certificate(ca, "Lee Lead", "lead", "Lead reviewer", now)

    first, second = (reviewer_request(built.signature_page, built.signature_boxes),
                     lead_request(built.signature_page, built.signature_boxes))
    sign_pdf(built.data, software_signer(rev.key, rev.cert, rev.chain), first)  # warm
    t = time.perf_counter()
    signed = sign_pdf(built.data, software_signer(rev.key, rev.cert, rev.chain), first)
    t_sign = time.perf_counter() - t
    t = time.perf_counter()
    both = sign_pdf(signed, software_signer(lead.key, lead.cert, lead.chain), second)
    t_counter = time.perf_counter() - t
    t = time.perf_counter()
    result = verify_pdf(both, [ca.cert])
    t_verify = time.perf_counter() - t
    assert result.ok, result.lines()

    from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QSize
    from PySide6.QtGui import QGuiApplication
    from PySide6.QtPdf import QPdfDocument

    app = QGuiApplication.instance() or QGuiApplication([])
    t = time.perf_counter()
    data = QByteArray(both)
    buf = QBuffer(data)
    buf.open(QIODevice.OpenModeFlag.ReadOnly)
    doc = QPdfDocument()
    doc.load(buf)
    size = doc.pagePointSize(0)
    image = doc.render(0, QSize(int(size.width() * 96 / 72), int(size.height() * 96 / 72)))
    t_preview = time.perf_counter() - t
    assert not image.isNull() and doc.pageCount() == built.pages
    del app

    t = time.perf_counter()
    from reports import findings_json, oscal

    findings_json.to_json(report)
    oscal.to_json(report)
    t_companions = time.perf_counter() - t
    evidence = sum(len(f.evidence) for f in report.findings)
    load = os.getloadavg()[0]
    lines = [
        "## Reports",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"{platform.system()} {platform.release()}; load average {load:.1f} when measuring (other work was running).",
        f"Command: `QT_QPA_PLATFORM=offscreen python bench/bench_reports.py --findings {args.findings} "
        f"--runs {args.runs} --write`",
        "",
        "| Step | Figure | Target |",
        "|---|---|---|",
        f"| Build PDF, {args.findings} findings with {evidence:,} evidence references, {built.pages} pages, "
        f"{len(built.data) / 1e6:.2f} MB (best of {args.runs}; wall clock, and CPU time of the process) | "
        f"{min(times):.2f} s wall, {min(cpu):.2f} s CPU | < 3 s |",
        f"| findings.json + OSCAL (validated) from the same input | {t_companions:.2f} s | |",
        f"| Reviewer signature (PAdES B-B, P-256), pyHanko loaded | {t_sign * 1000:.0f} ms | < 300 ms |",
        f"| Lead countersignature (incremental update) | {t_counter * 1000:.0f} ms | < 300 ms |",
        f"| Verify both signatures (offline) | {t_verify * 1000:.0f} ms | |",
        f"| First preview page (QPdfDocument load + render page 1 at 96 dpi) | {t_preview * 1000:.0f} ms | < 100 ms |",
        "",
        "Notes: the PDF is laid out in one pass (page furniture and the contents are drawn when the",
        "document is saved, so \"Page X of Y\" needs no second pass). Plain text (descriptions, evidence",
        "references) is wrapped and drawn by a small flowable (reports/pdf_textblock.py) instead of",
        "reportlab's markup Paragraph, and table cells that fit on one line are drawn as strings: together",
        "they took this build from 2.7 s to 1.6 s of CPU. rl-accel supplies reportlab's C text widths.",
        "The machine is shared by about nine developers (2 CPUs): wall-clock figures vary by 2-5x with",
        "the load; the CPU time of the build is the steadier figure.",
        "",
    ]
    from perfdoc import publish

    publish("## Reports", "\n".join(lines), ["--write"] if args.write else [])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
