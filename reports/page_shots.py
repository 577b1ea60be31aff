"""Render the sample findings report's pages to PNG for docs/screenshots (report_page_*.png):
unsigned, signed by the reviewer, countersigned; signed with a throwaway CA.

    python -m reports.page_shots [docs/screenshots]

Uses poppler's pdftoppm, as the tests do. Offline: the report comes from reports.sample.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from reports import pki
from reports.pdf import build_pdf
from reports.sample import sample_input
from reports.signing import lead_request, reviewer_request, sign_pdf, software_signer


def _page_of(pdf: Path, needle: str) -> int:
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout
    for n, page in enumerate(text.split("\f"), start=1):
        if needle in page:
            return n
    raise LookupError(needle)


def _png(pdf: Path, page: int, out: Path, name: str) -> Path:
    target = out / name
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(["pdftoppm", "-r", "90", "-png", "-singlefile", "-f", str(page), "-l", str(page), str(pdf),
                        str(Path(tmp) / "p")], check=True)
        target.write_bytes((Path(tmp) / "p.png").read_bytes())
    return target


def render(out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    report = sample_input(12)
    built = build_pdf(report)
    now = datetime.now(UTC)
    ca = pki.create_ca("Sample workstation CA", now)
    rev = pki.issue_signing_certificate(ca, "Rita Reviewer", "reviewer", "Reviewer", now)
    lead = pki.issue_signing_certificate(ca, "Lee Lead", "lead", "Lead reviewer", now)
    signed = sign_pdf(built.data, software_signer(rev.key, rev.cert, rev.chain),
                      reviewer_request(built.signature_page, built.signature_boxes))
    both = sign_pdf(signed, software_signer(lead.key, lead.cert, lead.chain),
                    lead_request(built.signature_page, built.signature_boxes))
    shots: list[Path] = []
    with tempfile.TemporaryDirectory() as tmp:
        files = {}
        for name, data in (("built", built.data), ("signed", signed), ("both", both)):
            files[name] = Path(tmp) / f"{name}.pdf"
            files[name].write_bytes(data)
        pdf = files["built"]
        for name, needle in (("report_page_cover.png", "Overall classification of this document"),
                             ("report_page_summary.png", "1.1 Bottom line"),
                             ("report_page_findings.png", "Findings overview, most severe first"),
                             ("report_page_results.png", "Benchmark results: value"),
                             ("report_page_checklist.png", "Checklist statuses by section")):
            shots.append(_png(pdf, _page_of(pdf, needle), out, name))
        sig_page = built.signature_page
        shots.append(_png(files["built"], sig_page, out, "report_page_signatures_unsigned.png"))
        shots.append(_png(files["signed"], sig_page, out, "report_page_signatures_awaiting_lead.png"))
        shots.append(_png(files["both"], sig_page, out, "report_page_signatures.png"))
    return shots


def main(argv: list[str]) -> int:
    for path in render(Path(argv[0]) if argv else Path("docs/screenshots")):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
