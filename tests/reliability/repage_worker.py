"""Signs in and runs `storage repage`, ending the process with os._exit(9) at one named step (as a
kill would: no cleanup, no finally). Runs in a child of fork_server.py:

    stop_at([DATA_DIR, PASSPHRASE, STEP])
"""

from __future__ import annotations

import os
from pathlib import Path

from app.services import repage, workstation


def stop_at(argv: list[str]) -> int:
    data_dir, passphrase, stop = Path(argv[0]), argv[1], argv[2]
    session = workstation.sign_in(data_dir, "admin", passphrase)

    def step(name: str) -> None:
        if name == stop:
            os._exit(9)

    repage.repage(session, passphrase, step=step)
    os._exit(0)
