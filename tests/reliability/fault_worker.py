"""Runs one operation in a loop until the parent test kills it with SIGKILL.

    main([DATA_DIR, OPERATION, USER, PASSPHRASE, ARG...])   (in a child of fork_server.py)
    python fault_worker.py DATA_DIR OPERATION USER PASSPHRASE [ARG...]

Prints READY once signed in, then `DONE <n>` after each completed operation (flushed), so the
parent knows how many finished before the kill. The workstation is passphrase-only (no keyring
is shared between processes); the slots carry the test's low KDF iteration count. Everything an
operation imports (NEEDS, and FIRST_USE: what the services import inside their functions) is loaded
before READY (by the fork server, once), so the parent's seeded delay is spent in the operations.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import keyring  # noqa: E402
import keyring.backends.fail  # noqa: E402

from app.services import workstation  # noqa: E402

NEEDS = {
    "submission": ("tests.reliability.helpers",), "artifact": ("app.services.submissions",),
    "import": ("app.services.results",), "import-unchecked": ("app.services.results",), "backup": ("app.services.backup",),
    "restore": ("app.services.backup",), "answer": ("app.model.checklist", "app.services.assessment"),
    "sign": ("app.services.reports",), "export": ("app.services.reports",),
}

# Imported inside the services' functions on their first call (found by comparing sys.modules before
# and after one round of each operation): pyHanko and lxml when signing, the OSCAL models, pypdf and
# the CVSS parser when building a report, numpy and the statistics when answering.
FIRST_USE = (
    "app.services.assessment_evidence", "app.services.assessment_review", "app.services.assessment_suggestions",
    "app.services.benchmark_evidence", "app.services.coverage", "app.services.findings", "app.services.narrative",
    "app.services.report_profiles", "app.services.rulesets", "app.services.statistics", "app.services.trend",
    "app.services.vulnerabilities", "app.services.workflow", "cvss", "email_validator", "numpy",
    "pyhanko.pdf_utils.filters", "pyhanko.pdf_utils.incremental_writer", "pyhanko.pdf_utils.metadata.xmp_xml",
    "pyhanko.sign", "pyhanko.sign.validation", "pyhanko.stamp", "pyhanko_certvalidator", "pypdf", "pypdf.filters",
    "trestle.oscal.assessment_results",
)


def main(argv: list[str]) -> int:
    keyring.set_keyring(keyring.backends.fail.Keyring())  # passphrase-only, whatever the parent had
    data_dir, op, user, passphrase, *rest = argv
    if op not in NEEDS:
        raise SystemExit(f"unknown operation {op}")
    for module in (*NEEDS[op], *FIRST_USE):
        importlib.import_module(module)  # already loaded in a fork server's child
    session = workstation.sign_in(Path(data_dir), user, passphrase)
    print("READY", flush=True)
    n = 0
    while True:  # the imports in each branch were loaded above: here they are dictionary look-ups
        if op == "submission":
            from tests.reliability.helpers import add_submission

            add_submission(session, n)
        elif op == "artifact":
            from app.services import submissions

            sub_id, file = int(rest[0]), Path(rest[1])
            submissions.attach_artifact(session, sub_id, file, "model card")  # at the submission's marking
            # the same bytes would be de-duplicated: change one byte for the next round
            data = bytearray(file.read_bytes())
            data[0] = (data[0] + 1) % 256
            file.write_bytes(bytes(data))
        elif op == "import":
            from app.services import results

            sub_id, file = int(rest[0]), Path(rest[1])
            out = results.import_files(session, [file], sub_id,
                                       progress=lambda d, t, text: print(f"PROGRESS {text}", flush=True))
            print(f"OUTCOME {out[0].status}", flush=True)
            if n == 0:
                print("DONE 1", flush=True)
                while True:  # one import is the operation under test; wait to be killed
                    sys.stdin.readline() or sys.exit(0)
        elif op == "import-unchecked":
            from app.services import results

            # The import commits; the checkpointer is never woken (threshold out of reach), so the
            # committed data is only in the WAL when the parent kills this process.
            sub_id, file = int(rest[0]), Path(rest[1])
            session.runtime.checkpointer.threshold = 1 << 62
            out = results.import_files(session, [file], sub_id)
            print(f"OUTCOME {out[0].status}", flush=True)
            print(f"COMMITTED wal={session.runtime.writer.wal_bytes()} runs={session.runtime.checkpointer.runs}",
                  flush=True)
            while True:
                sys.stdin.readline() or sys.exit(0)
        elif op == "backup":
            from app.services import backup

            backup.create(session, Path(rest[0]), passphrase, media_label="SECRET//NOFORN")
        elif op == "restore":
            from app.services import backup

            backup.restore(Path(rest[0]), Path(rest[1]) / f"restored-{n}", admin_username=user,
                           passphrase=passphrase, trust_ca=[rest[2]])
        elif op == "answer":
            from app.model.checklist import Status
            from app.services import assessment

            assessment_id, items = int(rest[0]), rest[1].split(",")
            assessment.answer(session, assessment_id, items[n % len(items)],
                              status=Status.SATISFIED if n % 2 else Status.NOT_SATISFIED,
                              justification=f"Round {n}: checked against the evaluation logs.")
        elif op == "sign":
            from app.services import reports

            report = reports.build(session, int(rest[0]))
            reports.sign(session, report.id, passphrase)
        elif op == "export":
            from app.services import reports

            folder = Path(rest[1]) / f"round-{n}"
            folder.mkdir()
            reports.export(session, int(rest[0]), folder, "SECRET//NOFORN", passphrase)
        n += 1
        print(f"DONE {n}", flush=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
