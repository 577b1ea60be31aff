"""Shared pieces of the hostile-input (property-based) tests.

Budget (documented in docs/SECURITY.md and docs/PERFORMANCE.md): every reader gets
FUZZ_EXAMPLES examples per property (50 in CI, derandomized so CI is reproducible); set
FRW_FUZZ_EXAMPLES=2000 (say) for a longer local campaign. Each example must finish within
FUZZ_DEADLINE_MS (a hang is a failure), and pytest-timeout bounds each test as a whole.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from typing import Any

from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st

from app.model.errors import FrontierError

FUZZ_EXAMPLES = int(os.environ.get("FRW_FUZZ_EXAMPLES", "50"))
FUZZ_DEADLINE_MS = 5000

HOSTILE = settings(
    max_examples=FUZZ_EXAMPLES,
    derandomize=os.environ.get("FRW_FUZZ_EXAMPLES") is None,
    deadline=FUZZ_DEADLINE_MS,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture, HealthCheck.data_too_large],
)


@st.composite
def mutated(draw: st.DrawFn, base: bytes, max_ops: int = 4) -> bytes:
    """Byte-level damage to a real file: flips, truncation, insertion, deletion, duplication."""
    data = bytearray(base)
    for _ in range(draw(st.integers(1, max_ops))):
        if not data:
            data += draw(st.binary(min_size=1, max_size=64))
            continue
        kind = draw(st.sampled_from(["flip", "truncate", "insert", "delete", "duplicate", "overwrite"]))
        pos = draw(st.integers(0, len(data) - 1))
        if kind == "flip":
            data[pos] ^= draw(st.integers(1, 255))
        elif kind == "truncate":
            del data[pos:]
        elif kind == "insert":
            data[pos:pos] = draw(st.binary(min_size=1, max_size=256))
        elif kind == "delete":
            del data[pos: pos + draw(st.integers(1, 512))]
        elif kind == "duplicate":
            end = min(len(data), pos + draw(st.integers(1, 4096)))
            data[pos:pos] = data[pos:end]
        else:
            chunk = draw(st.binary(min_size=1, max_size=64))
            data[pos: pos + len(chunk)] = chunk
    return bytes(data)


def json_values(max_leaves: int = 20) -> st.SearchStrategy[Any]:
    scalars = (st.none() | st.booleans() | st.integers(-(2**70), 2**70)
               | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=40))
    return st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                        | st.dictionaries(st.text(max_size=12), inner, max_size=4), max_leaves=max_leaves)


def _paths(doc: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(doc, dict):
        for k, v in doc.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(doc, list):
        for i, v in enumerate(doc[:8]):
            out += _paths(v, (*prefix, i))
    return out


@st.composite
def json_mutated(draw: st.DrawFn, base: Any, max_ops: int = 3) -> bytes:
    """Structural damage to a real JSON document: values replaced, keys removed, types swapped."""
    doc = json.loads(json.dumps(base))
    for _ in range(draw(st.integers(1, max_ops))):
        paths = _paths(doc)
        path = draw(st.sampled_from(paths))
        if not path:
            doc = draw(json_values())
            continue
        parent = doc
        for p in path[:-1]:
            parent = parent[p]
        if draw(st.booleans()) and isinstance(parent, dict):
            parent.pop(path[-1], None)
        else:
            parent[path[-1]] = draw(json_values())
    return json.dumps(doc, allow_nan=True).encode()


def refuses_cleanly(call: Callable[[], object], name: str) -> FrontierError | None:
    """Run a reader on hostile input: it may succeed, or refuse with a FrontierError naming the file.
    Anything else (KeyError, RecursionError, MemoryError, zlib.error...) propagates and fails the test."""
    try:
        call()
    except FrontierError as exc:
        assert name in str(exc), f"refusal does not name the file {name!r}: {exc}"
        event(f"refused: {type(exc).__name__}")
        return exc
    event("accepted")
    return None
