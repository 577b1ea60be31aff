"""Where the tests' throwaway folders can live in memory: /dev/shm, when it has room.

The product makes every write durable (an fsync per sign-in, transaction and key-header rewrite);
on a disk the test workers sit idle waiting for each. Durability is proved by tests/reliability
(SIGKILL, full disk, torn writes), which does not need the data to reach a platter: a killed
process leaves its writes in the kernel either way. `make test` points TMPDIR here
(`python -m tests.memory_fs` prints the folder, or nothing), and tests/ui/conftest.py puts each UI
test's folders here. A container's /dev/shm is often 64 MiB: then nothing goes there.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

MEMORY_FS = Path("/dev/shm")
MIN_FREE = 4 << 30  # a whole run's folders (about 2 GB if none were removed) with room to spare


def usable(root: Path = MEMORY_FS, min_free: int = MIN_FREE) -> bool:
    if not (root.is_dir() and os.access(root, os.W_OK | os.X_OK)):
        return False
    fs = os.statvfs(root)
    return fs.f_bavail * fs.f_frsize >= min_free


if __name__ == "__main__":
    if usable():
        sys.stdout.write(f"{MEMORY_FS}\n")
