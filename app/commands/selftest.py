"""`selftest`: check an installation end to end in a temporary workstation, network blocked."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from app import __version__


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("selftest", help="run the installation self-test (temporary workstation, no network)")
    p.add_argument("--keep", metavar="DIR", help="copy the temporary workstation here afterwards (diagnosis)")
    p.set_defaults(func=_selftest)


def _selftest(args: argparse.Namespace) -> int:
    from app.services import selftest  # imports the whole application; keep `frontier-review --help` fast

    print(f"frontier-review {__version__} self-test", flush=True)
    started = time.perf_counter()
    results = selftest.run(lambda r: print(r.line(), flush=True), Path(args.keep) if args.keep else None)
    failed = [r for r in results if r.status != "PASS"]
    total = time.perf_counter() - started
    if failed:
        print(f"SELF-TEST FAILED: {len(failed)} of {len(results)} steps did not pass ({total:.1f} s)", flush=True)
        return 1
    print(f"self-test passed: {len(results)} steps in {total:.1f} s", flush=True)
    return 0
