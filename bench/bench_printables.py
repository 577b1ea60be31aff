"""The printed vulnerability register at size: build (reportlab), read back (pypdf) and the marking
lint, for registers of increasing size; the lint is also timed the way it was before its word index
(every portion against every value) on the same text, where that finishes in reasonable time.

    QT_QPA_PLATFORM=offscreen python bench/bench_printables.py [--rows 250,1000,4000] [--plain-up-to 1000]

The register is filled through storage in one transaction, as bench_vulnerabilities.py does; the
measured steps go through app.services and reports exactly as the screen and the CLI call them.
"""

from __future__ import annotations

import dataclasses
import os
import platform
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PASSPHRASE = "bench-granite-harbour-42"
VECTOR = "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"


def plain_lint(values: list[Any], text: str) -> list[str]:
    """The lint before the word index: every portion against every value."""
    from app.model.report_markings import _contains, _unique, portions

    problems = []
    for marking, body in portions(text):
        for value, source, where in values:
            if not marking.dominates(source) and _contains(body, value):
                problems.append(f"{marking.portion()} {value} {where}")
    return _unique(problems)


def main(argv: list[str]) -> int:
    sizes = [int(x) for x in (argv[argv.index("--rows") + 1] if "--rows" in argv else "250,1000,4000").split(",")]
    plain_up_to = int(argv[argv.index("--plain-up-to") + 1]) if "--plain-up-to" in argv else 1000

    from app.model.markings import Marking
    from app.model.report_markings import lint_printable, printable_values
    from app.model.vulnerabilities import Tlp, Vulnerability, VulnStatus
    from app.services import printables, report_assembly, workstation
    from reports import marking_lint
    from reports.pdf_printable import build_printable
    from storage import vulns_repo

    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}; "
          f"load {os.getloadavg()}")
    print("| rows | pages | whole register (service) s | build s | read back s | lint s | lint before s |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for rows in sizes:
        tmp = Path(tempfile.mkdtemp(prefix="bench-printables-"))
        init = workstation.initialize(tmp / "ws", workstation_name="Bench", system_high="SECRET//NOFORN",
                                      admin_username="admin", admin_display_name="Admin",
                                      admin_passphrase=PASSPHRASE, use_keyring=False)
        session = init.session
        # a classified register needs its authority block
        workstation.update_settings(session, {"classified_by": "Bench Reviewer", "derived_from": "Multiple Sources",
                                              "declassify_on": "20511231"})
        today = session.today()
        statuses = list(VulnStatus)
        markings = [Marking.parse(m) for m in ("CUI", "UNCLASSIFIED", "SECRET//NOFORN", "CONFIDENTIAL")]
        with session.transaction() as conn:
            for i in range(rows):
                status = statuses[i % 5]
                v = Vulnerability(
                    title=f"Bench vulnerability {i:06d} in component {i % 97}", vendor=f"Vendor {i % 50}",
                    product=f"Product {i % 13}", cwe=f"CWE-{79 + i % 40}", cve=f"CVE-2026-{100000 + i}",
                    cvss_vector=VECTOR, embargo_until=today + timedelta(days=i % 90), tlp=list(Tlp)[i % 5],
                    status=status, discovered=today - timedelta(days=1), marking=markings[i % 4],
                    vendor_notified=today if status is VulnStatus.VENDOR_NOTIFIED else None,
                ).validate()
                vulns_repo.insert(conn, v, "admin", session.now())
        t0 = time.process_time()
        doc = printables.vulnerability_register(session)
        whole = time.process_time() - t0
        # The same document again, step by step (CPU seconds of this process).
        from app.services import vulnerabilities
        rows_ = tuple(printables._row(v) for v in vulnerabilities.list_all(session, None))
        from app.model.printable import DocumentKind, PrintableInput
        pin = PrintableInput(DocumentKind.VULNERABILITIES, "Vulnerability register", Marking.parse("UNCLASSIFIED"),
                             "REF", datetime.now(UTC), "Bench", "admin", vulnerabilities=rows_)
        pin = dataclasses.replace(pin, **report_assembly.authority_blocks(
            pin.overall_marking(), list(pin.portion_markings()), session.settings))
        t0 = time.process_time()
        built = build_printable(pin)
        build = time.process_time() - t0
        t0 = time.process_time()
        text = marking_lint.pdf_text(built.data)
        read = time.process_time() - t0
        t0 = time.process_time()
        lint_printable(pin, text)
        lint = time.process_time() - t0
        before = "-"
        if rows <= plain_up_to:
            t0 = time.process_time()
            plain_lint(printable_values(pin), text)
            before = f"{time.process_time() - t0:.2f}"
        print(f"| {rows:,} | {doc.pages} | {whole:.2f} | {build:.2f} | {read:.2f} | {lint:.3f} | {before} |")
        session.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
