"""tests/precompile.py: the caches it writes are the ones pytest's import hook and Python's importer
accept, and a changed source is compiled again."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

from _pytest.assertion.rewrite import _read_pyc

from tests import precompile

TEST_SOURCE = "def test_sum():\n    total = 1 + 1\n    assert total == 3\n"


def test_a_rewritten_test_file_is_what_pytest_reads_and_fails_with_pytests_message(tmp_path: Path) -> None:
    source = tmp_path / "test_sample.py"
    source.write_text(TEST_SOURCE)
    assert not precompile._fresh(source)
    precompile._job(source)
    assert precompile._fresh(source)
    code = _read_pyc(source, precompile._pytest_pyc(source))
    assert code is not None, "pytest's hook would not accept the cache"
    namespace: dict[str, object] = {}
    exec(code, namespace)
    try:
        namespace["test_sum"]()  # type: ignore[operator]
    except AssertionError as exc:
        assert "assert 2 == 3" in str(exc)  # the rewritten assert explains itself: not a plain compile
    else:
        raise AssertionError("the rewritten test should fail")
    source.write_text(TEST_SOURCE.replace("3", "2"))
    assert not precompile._fresh(source), "a changed source must be rewritten again"


def test_a_plain_module_gets_the_pyc_the_importer_uses(tmp_path: Path) -> None:
    source = tmp_path / "helper.py"
    source.write_text("VALUE = 1\n")
    precompile._job(source)
    assert Path(importlib.util.cache_from_source(str(source))).is_file()
    assert precompile._fresh(source)
    source.write_text("VALUE = 22\n")
    os.utime(source, (1, 1))
    assert not precompile._fresh(source)
