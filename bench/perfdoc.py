"""Shared by the benchmark scripts: replace one "## Section" of docs/PERFORMANCE.md."""

from __future__ import annotations

from pathlib import Path

PERF = Path(__file__).resolve().parent.parent / "docs" / "PERFORMANCE.md"


def write_section(section: str, text: str, perf: Path = PERF) -> None:
    """`text` starts with the `section` heading; it replaces that section (or is appended)."""
    current = perf.read_text(encoding="utf-8") if perf.exists() else "# Performance\n\n"
    if section in current:
        head, _, rest = current.partition(section)
        nxt = rest.find("\n## ")
        tail = rest[nxt + 1:] if nxt >= 0 else ""
        current = head + text.rstrip("\n") + "\n" + ("\n" + tail if tail else "")
    else:
        current = current.rstrip("\n") + "\n\n" + text
    perf.write_text(current, encoding="utf-8")
    print(f"updated {perf}")


def publish(section: str, text: str, argv: list[str]) -> None:
    """Print the section; with --write also put it into docs/PERFORMANCE.md."""
    print(text)
    if "--write" in argv:
        write_section(section, text)
