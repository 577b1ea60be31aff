"""Vulnerability register figures: a large register (paging, filters, sorting as the screen asks),
saving one record, CSAF export/validation and import preview/apply.

    QT_QPA_PLATFORM=offscreen python bench/bench_vulnerabilities.py [--rows 20000] [--advisories 200] [--write]

The register is filled through storage (one transaction) so the run stays short; every measured
step goes through app.services exactly as the UI and CLI call it. --write replaces the
"Vulnerability register" section of docs/PERFORMANCE.md.
"""

from __future__ import annotations

import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PASSPHRASE = "bench-granite-harbour-42"
SECTION = "## Vulnerability register"
VECTORS = [
    "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
    "CVSS:4.0/AV:L/AC:L/AT:P/PR:L/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
    "CVSS:4.0/AV:L/AC:L/AT:N/PR:N/UI:A/VC:L/VI:N/VA:N/SC:N/SI:N/SA:N",
    "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:A/VC:N/VI:N/VA:N/SC:L/SI:L/SA:N",
]


def timed(fn: Callable[[], object], runs: int = 5) -> tuple[float, object]:
    times, result = [], None
    for _ in range(runs):
        t0 = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times), result


def main(argv: list[str]) -> int:
    rows = int(argv[argv.index("--rows") + 1]) if "--rows" in argv else 20_000
    advisories = int(argv[argv.index("--advisories") + 1]) if "--advisories" in argv else 200

    from app.model.accounts import Role
    from app.model.markings import Level, Marking
    from app.model.partners import Partner, PartnerKind
    from app.model.vulnerabilities import CvssSeverity, Filters, Tlp, Vulnerability, VulnStatus
    from app.services import csaf_exchange, csaf_merge, partners, users, vuln_signatures, workstation
    from app.services import vulnerabilities as vs
    from storage import vulns_repo

    tmp = Path(tempfile.mkdtemp(prefix="bench-vulns-"))
    init = workstation.initialize(tmp / "ws", workstation_name="Bench", system_high="SECRET//NOFORN",
                                  admin_username="admin", admin_display_name="Admin",
                                  admin_passphrase=PASSPHRASE, use_keyring=False)
    users.create_and_enrol(init.session, PASSPHRASE, "reviewer", "Bench Reviewer", Role.REVIEWER, PASSPHRASE)
    users.create_and_enrol(init.session, PASSPHRASE, "lead", "Bench Lead", Role.LEAD, PASSPHRASE)
    # The advisories go to a partner that accepts every marking and TLP; their embargoes need a lead's override.
    partners.add(init.session, Partner(name="Bench CERT", kind=PartnerKind.CERT, codes=("USA",),
                                       max_level=Level.TOP_SECRET, tlp=Tlp.RED))
    init.session.close()
    lead = workstation.sign_in(tmp / "ws", "lead", PASSPHRASE)
    session = workstation.sign_in(tmp / "ws", "reviewer", PASSPHRASE)
    other = workstation.initialize(tmp / "ws2", workstation_name="Receiver", system_high="SECRET//NOFORN",
                                   admin_username="admin", admin_display_name="Admin",
                                   admin_passphrase=PASSPHRASE, use_keyring=False)
    users.create_and_enrol(other.session, PASSPHRASE, "reviewer", "Bench Reviewer", Role.REVIEWER, PASSPHRASE)
    other.session.close()
    receiver = workstation.sign_in(tmp / "ws2", "reviewer", PASSPHRASE)

    t0 = time.perf_counter()
    today = session.today()
    statuses = list(VulnStatus)
    with session.transaction() as conn:
        for i in range(rows):
            status = statuses[i % 5]  # new .. remediated (published needs a date)
            v = Vulnerability(
                title=f"Bench vulnerability {i:06d} in component {i % 97}", vendor=f"Vendor {i % 50}",
                product=f"Product {i % 13}", cwe=f"CWE-{79 + i % 40}", cve=f"CVE-2026-{100000 + i}",
                cvss_vector=VECTORS[i % len(VECTORS)], embargo_until=today + timedelta(days=i % 90),
                tlp=list(Tlp)[i % 5], status=status, discovered=today - timedelta(days=1),
                vendor_notified=today if status is VulnStatus.VENDOR_NOTIFIED else None,
            ).validate()
            vuln_signatures.sign(session, conn, vulns_repo.insert(conn, v, "reviewer", session.now()))
    fill = time.perf_counter() - t0
    figures: list[tuple[str, str]] = []

    def add(label: str, ms: float) -> None:
        figures.append((label, f"{ms:.1f} ms"))

    f_all = Filters(today=today)
    f_soon = vs.filters(session, embargo_within_days=7)
    f_crit = vs.filters(session, severities=[CvssSeverity.CRITICAL], statuses=[VulnStatus.CONFIRMED])
    add(f"count, no filter ({rows:,} rows)", timed(lambda: vs.count(session, f_all))[0])
    add("first page of 200, sorted by id", timed(lambda: vs.page(session, f_all, 0, 200))[0])
    add("page of 200 at the end, sorted by severity (descending)",
        timed(lambda: vs.page(session, f_all, rows - 200, 200, "severity", True))[0])
    page = vs.page(session, f_all, 0, 200)
    add("signature check of a page of 200 (the register screen flags entries that do not hold)",
        timed(lambda: vuln_signatures.standings(session, page))[0])
    add("page of 200 sorted by embargo date", timed(lambda: vs.page(session, f_all, 0, 200, "embargo"))[0])
    add("count + first page: embargo ending within 7 days",
        timed(lambda: (vs.count(session, f_soon), vs.page(session, f_soon, 0, 200)))[0])
    add("count + first page: critical and confirmed",
        timed(lambda: (vs.count(session, f_crit), vs.page(session, f_crit, 0, 200)))[0])
    add("search 'component 42' (LIKE over title/vendor/product/CVE/CWE)",
        timed(lambda: vs.count(session, vs.filters(session, search="component 42")))[0])

    first = vs.get(session, "FRW-VULN-2026-0001")
    counter = iter(range(1_000_000))
    import dataclasses

    def save() -> object:
        nonlocal first
        first = vs.update(session, dataclasses.replace(first, description=f"edit {next(counter)}"))
        return first

    add("save one edit (validate, update, history row, audit event, commit)", timed(save, 9)[0])

    out = tmp / "out"
    out.mkdir()
    ids = [f"FRW-VULN-2026-{i:04d}" for i in range(1, advisories + 1)]
    t0 = time.perf_counter()
    exported = csaf_exchange.export_csaf(lead, ids, out, media_marking=Marking.parse("SECRET//NOFORN"),
                                         recipient="Bench CERT",
                                         override_reason="Coordinated sharing before the embargo ends")
    export_ms = (time.perf_counter() - t0) * 1000
    figures.append((f"export {advisories} CSAF 2.1 advisories to a partner (sharing check, build, schema-validate, "
                    "atomic write, signed recipients record and dissemination log entries)",
                    f"{export_ms:.0f} ms ({export_ms / advisories:.1f} ms each)"))
    t0 = time.perf_counter()
    preview = csaf_merge.preview_import(receiver, exported.files, Marking.parse("SECRET//NOFORN"))
    preview_ms = (time.perf_counter() - t0) * 1000
    figures.append((f"import preview of {advisories} files on a second workstation (read, validate, diff)",
                    f"{preview_ms:.0f} ms ({preview_ms / advisories:.1f} ms each)"))
    t0 = time.perf_counter()
    result = csaf_merge.apply_import(receiver, preview)
    apply_ms = (time.perf_counter() - t0) * 1000
    assert len(result.created) == advisories
    figures.append((f"apply the import ({advisories} new records, one transaction)", f"{apply_ms:.0f} ms"))

    machine = f"{platform.platform()}, {os.cpu_count()} CPUs ({platform.machine()}), Python {platform.python_version()}"
    lines = [
        SECTION, "",
        f"Machine: {machine}.",
        f"Command: `QT_QPA_PLATFORM=offscreen python bench/bench_vulnerabilities.py --rows {rows} "
        f"--advisories {advisories} --write`",
        f"Data: {rows:,} register entries inserted through storage, each signed as the services sign it, in one "
        f"transaction ({fill:.1f} s); queries are "
        "the service calls the register screen's windowed model makes (median of 5 runs; the save is median "
        "of 9).", "",
        "| Measure | Time |", "|---|---|",
        *[f"| {label} | {value} |" for label, value in figures], "",
    ]
    text = "\n".join(lines)
    from perfdoc import publish

    publish(SECTION, text, argv)
    session.close()
    receiver.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
