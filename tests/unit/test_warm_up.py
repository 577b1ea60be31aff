"""The GUI's start-up warm-up (ui.app.prepare_in_background) leaves the shipped benchmark
catalogue parsed and numpy loaded, so the first visit of a run does not pay for them on the GUI
thread. Run in a fresh interpreter: this test process has loaded both long ago."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

CHILD = """
import sys
from app.services import benchmark_catalog
from ui.app import prepare_in_background
assert "numpy" not in sys.modules and not benchmark_catalog._PARSED
prepare_in_background().join(60)
assert "numpy" in sys.modules, "numpy not loaded"
assert len(benchmark_catalog._PARSED) == 1, benchmark_catalog._PARSED
assert benchmark_catalog.builtin_document().definitions
print("warm")
"""


def test_the_warm_up_parses_the_catalogue_and_loads_numpy() -> None:
    out = subprocess.run([sys.executable, "-c", CHILD], cwd=ROOT, capture_output=True, text=True, timeout=120,
                         env={"QT_QPA_PLATFORM": "offscreen", "PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)},
                         check=False)
    assert out.returncode == 0 and out.stdout.strip() == "warm", out.stderr
