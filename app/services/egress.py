"""The one egress check (issue 12, point 3): may content marked M go to media labelled L?

Every writer that puts workstation content on media (report and CSAF packages, assessment
exports, backups, artifact copies, anything the CLI writes with --output) calls `clear` before
writing and `record` after, so the rule (`Marking.dominates`) and its audit trail live here once.
Refusals are audited too: someone tried to move marked content to lower media.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.foundation.oserrors import capitalised, folder_problem
from app.model.errors import StorageError, ValidationError
from app.model.markings import Marking, rollup
from app.model.partners import Partner, withholding
from app.services.session import Session
from storage.atomic import atomic_write

MARKING_FILE = "MARKING.txt"


@dataclass(frozen=True)
class Clearance:
    """Proof that `what` (marked `content`) was checked against the media label before writing."""

    what: str
    content: Marking
    media: Marking
    destination: str


def media_label(label: str | Marking | None) -> Marking:
    """The media's label as a marking; a missing or malformed label names the problem."""
    if isinstance(label, Marking):
        return label
    if label is None or not label.strip():
        raise ValidationError("media label", "say how the media is labelled (e.g. SECRET//NOFORN); nothing is "
                                             "written to media without a label")
    try:
        return Marking.parse(label)
    except ValidationError as exc:
        raise ValidationError("media label", exc.reason) from None


def clear(session: Session, what: str, content: Marking, label: str | Marking | None,
          destination: Path | str, refused_as: tuple[str, str, object] | None = None,
          recipients: Sequence[Partner] = ()) -> Clearance:
    """Allow the write, or refuse it when the media is labelled lower, or (for media handed to
    `recipients`, partners) labelled as they may not receive it: media labelled NOFORN, or REL TO
    without their country, does not go to a foreign partner. Audited as `egress.refused` (or as
    `refused_as` = (action, object type, object id) where a writer has its own event)."""
    media = media_label(label)
    problem = ""
    if not media.dominates(content):
        problem = (f"the content is marked {content.banner()} but the media is labelled {media.banner()}; use media "
                   "labelled at least as high")
    else:
        for partner in recipients:
            reasons = withholding(partner, media)
            if reasons:
                problem = (f"the media is labelled {media.banner()}, which {partner.name} may not receive "
                           f"({'; '.join(reasons)}); label it as the content allows for them, e.g. "
                           f"{content.banner()}")
                break
    if problem:
        action, object_type, object_id = refused_as or ("egress.refused", "egress", str(destination))
        with session.transaction() as conn:
            session.audit(conn, action, object_type, object_id,
                          {"what": what, "marking": content.banner(), "media": media.banner(),
                           "destination": str(destination),
                           **({"to": [p.name for p in recipients]} if recipients else {})})
        raise ValidationError("media label", f"{what}: {problem} (nothing was written)")
    return Clearance(what, content, media, str(destination))


def check_folder(folder: Path | str) -> None:
    """Refuse, before anything is written, a destination folder that does not exist, is a file or
    may not be written into, in the words every writer to media uses (app.foundation.oserrors)."""
    problem = folder_problem(folder)
    if problem:
        raise StorageError(f"{capitalised(problem)}; nothing was written.")


def record(session: Session, conn: Any, clearance: Clearance, **details: Any) -> None:
    """Audit the finished write (`egress.write`) in the writer's transaction."""
    session.audit(conn, "egress.write", "egress", clearance.destination,
                  {"what": clearance.what, "marking": clearance.content.banner(), "media": clearance.media.banner(),
                   "destination": clearance.destination, **details})


def marking_text(marking: Marking, what: str) -> bytes:
    banner = marking.banner()
    return (f"{banner}\n\nThis media holds {what} marked {banner}. Handle, store and destroy it "
            f"accordingly.\n\n{banner}\n").encode()


def write_marking_file(folder: Path, clearance: Clearance) -> Path:
    """MARKING.txt in a media folder: the roll-up of what the folder already held and what was added."""
    path = Path(folder) / MARKING_FILE
    held = [clearance.content]
    with contextlib.suppress(OSError, ValueError, IndexError):
        held.append(Marking.parse(path.read_text(encoding="utf-8").splitlines()[0]))
    atomic_write(path, marking_text(rollup(held), clearance.what), mode=0o640)
    return path
