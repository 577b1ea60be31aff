"""The bracket count loads numpy off the import's critical path and counts the same either way."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

from app.ingest import jsonread


def test_numpy_and_byte_counts_agree_across_chunks() -> None:
    jsonread.load_numpy()
    assert jsonread._np is not None
    chunk = jsonread._CHUNK
    for size in (jsonread._NUMPY_FROM, chunk - 1, chunk, chunk + 1, 2 * chunk + 3):
        text = (b"x[y{\x5b\x7b\xdb\xfb" * (size // 8 + 1))[:size]
        assert jsonread._opening_brackets(text) == text.count(b"[") + text.count(b"{"), size


def test_until_numpy_is_loaded_the_byte_method_counts_and_nothing_imports_it() -> None:
    code = textwrap.dedent("""
        import sys
        from app.ingest import jsonread
        text = b'{"a": [1, {"b": [2]}]}' * 1000
        assert jsonread._opening_brackets(text) == 4000
        assert jsonread.too_deep(b"[" * 600 + b"]" * 600) and not jsonread.too_deep(text)
        assert "numpy" not in sys.modules, "counting imported numpy on the caller's thread"
        jsonread.use_numpy(jsonread.NUMPY_IMPORT_FROM - 1)  # a small log does not pay for the import
        assert "numpy" not in sys.modules and jsonread._np is None
        jsonread.use_numpy(jsonread.NUMPY_IMPORT_FROM)
        jsonread.load_numpy_in_background()  # a second call starts no second thread
        import threading
        loaders = [t for t in threading.enumerate() if t.name == "load-numpy"]
        assert len(loaders) <= 1
        for t in loaders:
            t.join(60)
        assert jsonread._np is not None and jsonread._opening_brackets(text) == 4000
        print("ok")
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.stdout.strip() == "ok", out.stderr


def test_numpy_already_loaded_is_used_for_any_size() -> None:
    code = textwrap.dedent("""
        import numpy
        from app.ingest import jsonread
        jsonread.use_numpy(1)
        assert jsonread._np is numpy
        print("ok")
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.stdout.strip() == "ok", out.stderr


def test_numpy_starts_no_blas_threads_in_the_product() -> None:
    """OpenBLAS's per-core threads spun 0.09 s of CPU after each import of numpy, beside an import's
    reader and writer: the product asks for one BLAS thread before anything loads numpy."""
    code = textwrap.dedent("""
        import os
        import app
        import numpy
        numpy.ones((64, 64)) @ numpy.ones((64, 64))  # a BLAS call: a threaded BLAS has started its pool
        print(os.environ["OPENBLAS_NUM_THREADS"], len(os.listdir("/proc/self/task")))
    """)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENBLAS", "OMP_"))}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    assert out.stdout.split() == ["1", "1"], out.stdout + out.stderr
