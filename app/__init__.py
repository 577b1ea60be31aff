"""Frontier Review Workstation: the Qt-free core."""

import os

__version__ = "0.1.0"

# numpy's OpenBLAS starts a thread per core at import, and those threads spin for a while after
# each call: 0.09 s of CPU after a bare `import numpy` on the 2-core machine, taken from an import's
# reader and writer (docs/PERFORMANCE.md "Seventh pass"). The workstation's statistics are small
# (bootstrap and regressions over thousands of values), so one BLAS thread loses nothing. Set before
# anything of the product can import numpy; a value the user set is kept.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
