"""Every picture the docs show exists and is made by `make screenshots` (a picture no script makes
goes stale without anyone noticing: the dissemination log's once showed an empty screen)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "docs" / "screenshots"


def _sources() -> str:
    files = [*ROOT.glob("ui/**/*.py"), ROOT / "reports" / "page_shots.py"]
    return "\n".join(p.read_text(encoding="utf-8") for p in files)


def test_every_picture_the_docs_show_exists_and_a_script_makes_it() -> None:
    docs = [ROOT / "README.md", *ROOT.glob("docs/*.md")]
    shown = {m for p in docs for m in re.findall(r"screenshots/([\w.-]+\.png)", p.read_text(encoding="utf-8"))}
    assert shown, "the docs show no screenshots?"
    assert not [n for n in shown if not (SHOTS / n).is_file()]
    code = _sources()
    made = [p.name for p in SHOTS.glob("*.png") if f'"{p.stem}"' in code or f'"{p.name}"' in code]
    assert sorted(made) == sorted(p.name for p in SHOTS.glob("*.png")), "pictures no script makes"
