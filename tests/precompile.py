"""Write the bytecode caches `make test` needs once, on both cores, before the xdist workers start.

Each worker imports every module and every test file at collection; in a fresh clone (CI) there is no
cache, so each of them compiled the product (~2 s of CPU) and rewrote the asserts of all the test
files (~7 s: pytest's rewrite is far slower than a compile), the same work twice. Here the product is
compiled by compileall and the test files are rewritten by pytest's own functions into the files its
import hook reads (checked-hash pycs: valid whatever the mtimes). With warm caches this only reads and
checks the caches (~0.2 s). Anything pytest's private API no longer offers is left to the workers.
"""

from __future__ import annotations

import compileall
import importlib.util
import os
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("app", "ui", "storage", "reports", "tests")


def _pytest_pyc(source: Path) -> Path:
    from _pytest.assertion.rewrite import PYC_TAIL

    return source.parent / "__pycache__" / (source.name[:-3] + PYC_TAIL)


def _rewritten(path: Path) -> bool:
    """Whether pytest's import hook rewrites it: a test file (python_files default) or a conftest."""
    return path.name.startswith("test_") or path.name.endswith("_test.py") or path.name == "conftest.py"


def _fresh(source: Path) -> bool:
    """The cache the importer would use is there and matches the source (by the pyc header only)."""
    try:
        if _rewritten(source):  # checked-hash pyc: flags 3, then the source hash
            header = _pytest_pyc(source).read_bytes()[:16]
            return header[4:8] == b"\x03\x00\x00\x00" and \
                header[8:] == importlib.util.source_hash(source.read_bytes())[:8]
        st = source.stat()  # timestamp pyc: flags 0, mtime, size
        header = Path(importlib.util.cache_from_source(str(source))).read_bytes()[:16]
        return header[4:8] == b"\0\0\0\0" and header[8:16] == \
            (int(st.st_mtime) & 0xFFFFFFFF).to_bytes(4, "little") + (st.st_size & 0xFFFFFFFF).to_bytes(4, "little")
    except OSError:
        return False


def _job(source: Path) -> None:
    if not _rewritten(source):
        compileall.compile_file(source, quiet=1)
        return
    from _pytest.assertion.rewrite import _rewrite_test, _write_pyc_fp

    pyc = _pytest_pyc(source)
    try:
        source_hash, code = _rewrite_test(source, None)  # type: ignore[arg-type]  # config: only for a hook we do not use
    except (SyntaxError, ValueError):
        return  # pytest's collection reports it, with its test context
    pyc.parent.mkdir(exist_ok=True)
    partial = pyc.with_name(f"{pyc.name}.{os.getpid()}")
    with open(partial, "wb") as fp:
        _write_pyc_fp(fp, source_hash, code)
    os.replace(partial, pyc)  # atomic, as pytest does: a worker never reads half a file


def main() -> int:
    if sys.dont_write_bytecode:
        return 0  # the workers would not read the caches either
    try:
        import _pytest.assertion.rewrite as rewrite

        usable = all(hasattr(rewrite, n) for n in ("PYC_TAIL", "_rewrite_test", "_write_pyc_fp"))
    except ImportError:
        usable = False
    sources = [p for package in PACKAGES for p in sorted((ROOT / package).rglob("*.py"))
               if (usable or not _rewritten(p)) and not _fresh(p)]
    if sources:
        with ProcessPoolExecutor(max_workers=min(len(sources), os.cpu_count() or 1)) as pool:
            list(pool.map(_job, sources, chunksize=4))
    return 0  # a file that does not compile is reported by pytest's collection, with its test context


if __name__ == "__main__":
    sys.exit(main())
