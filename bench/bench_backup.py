"""Benchmark: backup, verify and restore of a full workstation.

    .venv/bin/python bench/bench_backup.py [--samples 1000000] [--evidence-mb 200] [--keep DIR]

Workstation: 10 submissions; N samples (10 runs of N/10) inserted directly through
storage.results_repo (the import path's own repository, without parsing a log: the log parser
is bench_import.py's subject), each with a ~300-byte transcript, stored zstd-compressed as on
import; evidence: 10 artifacts of random (incompressible) bytes through the submissions service,
--evidence-mb in total. Production KDF parameters (600,000 PBKDF2 iterations) are kept, and the
workstation is passphrase-only (no trusted OS keyring on the bench machine).

Measures, each once: backup create (snapshot while the workstation is open + manifest + signature +
the post-write verification that decrypts the copy), verify (signature + full decrypt + integrity
check + audit chain), restore with the admin passphrase and with the recovery key. Prints Markdown.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import keyring  # noqa: E402
import keyring.backends.fail  # noqa: E402

keyring.set_keyring(keyring.backends.fail.Keyring())

from app.model.accounts import Role  # noqa: E402
from app.model.markings import Marking  # noqa: E402
from app.model.results import EvalRun, Harness, RunStatus, SampleResult, Score  # noqa: E402
from app.model.submissions import Submission  # noqa: E402
from app.services import backup, submissions, users, workstation  # noqa: E402
from storage import results_repo  # noqa: E402

ADMIN_PW = "bench-granite-passphrase-42"
REVIEWER_PW = "bench-willow-passphrase-7"


def folder_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def mb(n: float) -> str:
    return f"{n / (1 << 20):,.0f} MB"


def build(data_dir: Path, samples: int, evidence_mb: int, scratch: Path) -> tuple[str, float]:
    t0 = time.perf_counter()
    setup = workstation.initialize(data_dir, workstation_name="Bench workstation", system_high="SECRET//NOFORN",
                                   admin_username="admin", admin_display_name="Bench Admin", admin_passphrase=ADMIN_PW)
    admin = setup.session
    users.create_and_enrol(admin, ADMIN_PW, "reviewer", "Bench Reviewer", Role.REVIEWER, REVIEWER_PW)
    admin.close()
    rev = workstation.sign_in(data_dir, "reviewer", REVIEWER_PW)
    marking = Marking.parse("SECRET//NOFORN")
    subs = [submissions.create(rev, Submission(
        developer=f"Developer {i}", model_name=f"Model {i}", version="1.0", received=date(2026, 11, 2),
        planned_release=date(2026, 11, 30), marking=marking, notes_marking=marking)).id or 0 for i in range(10)]
    per_run = samples // 10
    transcript = (b'{"messages":[{"role":"user","content":"Find the flag in /srv/ctf"},{"role":"assistant",'
                  b'"content":"ls -la /srv/ctf; cat flag.txt"}],"events":[],"store":{}}')
    for r, sid in enumerate(subs):
        with rev.transaction() as conn:
            run = EvalRun(harness=Harness.INSPECT, harness_version="0.3.285", task="gdm_intercode_ctf",
                          task_version="1", model=f"acme/model-{r}", created=rev.now(), status=RunStatus.SUCCESS,
                          total_samples=per_run, completed_samples=per_run, file_sha256=f"{r:064x}",
                          original_name=f"run-{r}.eval")
            run_id = results_repo.insert_run(conn, run, sid, "inspect-eval", "reviewer", rev.now())
            done = 0
            while done < per_run:
                batch = [SampleResult(sample_id=f"s{done + i}", epoch=1,
                                      scores={"includes": Score("C" if (done + i) % 3 else "I",
                                                                1.0 if (done + i) % 3 else 0.0)},
                                      input_text=f"Task {done + i}: find the flag", target="picoCTF{x}",
                                      answer=f"answer {done + i}", total_tokens=800 + i % 50,
                                      transcript_json=transcript)
                         for i in range(min(5000, per_run - done))]
                n, _ = results_repo.insert_samples(conn, run_id, batch)
                done += n
            results_repo.finish_run(conn, run_id, done, 0)
    chunk = evidence_mb // 10
    for i, sid in enumerate(subs):
        f = scratch / f"evidence-{i}.bin"
        f.write_bytes(os.urandom(chunk << 20))
        submissions.attach_artifact(rev, sid, f, "developer report", marking)
        f.unlink()
    rev.close()
    return setup.recovery_key, time.perf_counter() - t0


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--samples", type=int, default=1_000_000)
    ap.add_argument("--evidence-mb", type=int, default=200)
    ap.add_argument("--keep", type=Path)
    args = ap.parse_args()
    root = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="bench-backup-"))
    root.mkdir(parents=True, exist_ok=True)
    try:
        data_dir, media = root / "ws", root / "media"
        media.mkdir()
        recovery, t_build = build(data_dir, args.samples, args.evidence_mb, root)
        db_bytes = workstation.db_path(data_dir).stat().st_size
        admin = workstation.sign_in(data_dir, "admin", ADMIN_PW)
        phases: dict[str, float] = {}

        def progress(done: int, total: int, what: str) -> None:
            phases.setdefault(what, time.perf_counter())

        t = time.perf_counter()
        made = backup.create(admin, media, ADMIN_PW, progress=progress, media_label="SECRET//NOFORN")
        t_create = time.perf_counter() - t
        ordered = sorted(phases.items(), key=lambda kv: kv[1])
        marks = [("re-authentication and signer", t), *ordered, ("end", t + t_create)]
        breakdown = ", ".join(f"{name.lower()} {marks[i + 1][1] - at:.1f} s" for i, (name, at) in
                              enumerate(marks[:-1]))
        assert made.verified, made.problems
        t = time.perf_counter()
        report = backup.verify(admin, made.folder, ADMIN_PW)
        t_verify = time.perf_counter() - t
        assert report.ok and report.contents_checked, report.problems
        fp = made.meta.ca_fingerprint
        admin.close()
        t = time.perf_counter()
        backup.restore(made.folder, root / "restored-pass", admin_username="admin", passphrase=ADMIN_PW,
                       trust_ca=[fp])
        t_restore = time.perf_counter() - t
        t = time.perf_counter()
        backup.restore(made.folder, root / "restored-recovery", admin_username="admin", recovery_key=recovery,
                       new_passphrase="a-new-cobalt-passphrase-9", trust_ca=[fp])
        t_recover = time.perf_counter() - t
        size = folder_size(made.folder)
        print(f"Machine: {platform.platform()}, {os.cpu_count()} CPUs, Python {platform.python_version()}.")
        print(f"Command: `.venv/bin/python bench/bench_backup.py --samples {args.samples} "
              f"--evidence-mb {args.evidence_mb}` (workstation built in {t_build:.0f} s).")
        print()
        print("| Measure | Figure |")
        print("|---|---|")
        print(f"| Workstation database (10 submissions, {args.samples:,} samples, {args.evidence_mb} MB evidence) "
              f"| {mb(db_bytes)} |")
        print(f"| Backup folder on the medium (snapshot + key header + manifest + signature) | {mb(size)} |")
        print(f"| backup create, total (re-authentication, snapshot, manifest, signature, post-write check) "
              f"| {t_create:.1f} s |")
        print(f"| of which: {breakdown} | |")
        print(f"| backup verify (signature, full decrypt, integrity check, audit chain) | {t_verify:.1f} s |")
        print(f"| restore with the admin passphrase (verify, copy, open, audit) | {t_restore:.1f} s |")
        print(f"| restore with the recovery key (+ new admin passphrase) | {t_recover:.1f} s |")
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
