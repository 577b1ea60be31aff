"""Runs one operation in a loop until the parent test kills it with SIGKILL.

    python fault_worker.py DATA_DIR OPERATION USER PASSPHRASE [ARG...]

Prints READY once signed in, then `DONE <n>` after each completed operation (flushed), so the
parent knows how many finished before the kill. The workstation is passphrase-only (no keyring
is shared between processes); the slots carry the test's low KDF iteration count.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import keyring  # noqa: E402
import keyring.backends.fail  # noqa: E402

keyring.set_keyring(keyring.backends.fail.Keyring())

from app.model.checklist import Status  # noqa: E402
from app.services import assessment, backup, reports, results, submissions, workstation  # noqa: E402
from tests.reliability.helpers import add_submission  # noqa: E402


def main(argv: list[str]) -> int:
    data_dir, op, user, passphrase, *rest = argv
    session = workstation.sign_in(Path(data_dir), user, passphrase)
    print("READY", flush=True)
    n = 0
    while True:
        if op == "submission":
            add_submission(session, n)
        elif op == "artifact":
            sub_id, file = int(rest[0]), Path(rest[1])
            submissions.attach_artifact(session, sub_id, file, "model card")  # at the submission's marking
            # the same bytes would be de-duplicated: change one byte for the next round
            data = bytearray(file.read_bytes())
            data[0] = (data[0] + 1) % 256
            file.write_bytes(bytes(data))
        elif op == "import":
            sub_id, file = int(rest[0]), Path(rest[1])
            out = results.import_files(session, [file], sub_id,
                                       progress=lambda d, t, text: print(f"PROGRESS {text}", flush=True))
            print(f"OUTCOME {out[0].status}", flush=True)
            if n == 0:
                print("DONE 1", flush=True)
                while True:  # one import is the operation under test; wait to be killed
                    sys.stdin.readline() or sys.exit(0)
        elif op == "import-unchecked":
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
            backup.create(session, Path(rest[0]), passphrase, media_label="SECRET//NOFORN")
        elif op == "restore":
            backup.restore(Path(rest[0]), Path(rest[1]) / f"restored-{n}", admin_username=user,
                           passphrase=passphrase, trust_ca=[rest[2]])
        elif op == "answer":
            assessment_id, items = int(rest[0]), rest[1].split(",")
            assessment.answer(session, assessment_id, items[n % len(items)],
                              status=Status.SATISFIED if n % 2 else Status.NOT_SATISFIED,
                              justification=f"Round {n}: checked against the evaluation logs.")
        elif op == "sign":
            report = reports.build(session, int(rest[0]))
            reports.sign(session, report.id, passphrase)
        elif op == "export":
            folder = Path(rest[1]) / f"round-{n}"
            folder.mkdir()
            reports.export(session, int(rest[0]), folder, "SECRET//NOFORN", passphrase)
        else:
            raise SystemExit(f"unknown operation {op}")
        n += 1
        print(f"DONE {n}", flush=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
