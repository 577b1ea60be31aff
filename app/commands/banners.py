"""Banner lines around marked content on a terminal (issue 12, point 5; DOMAIN.md section 7).

A command that prints marked content prints the banner of the highest marking it shows on the
line before and the line after, like the top and bottom banners of a window.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from app.model.markings import Marking, rollup
from app.services import results, submissions
from app.services.session import Session


@contextmanager
def banner_lines(markings: Marking | Iterable[Marking]) -> Iterator[None]:
    marking = markings if isinstance(markings, Marking) else rollup(markings)
    line = marking.banner()
    print(line, flush=True)
    yield
    print(line, flush=True)


def submission_marking(session: Session, submission_id: int | None) -> Marking:
    """A run not (yet) attached to a submission shows at the workstation's system-high."""
    if submission_id is None:
        return Marking.parse(session.settings.system_high)
    return submissions.get(session, submission_id).marking


def run_marking(session: Session, run_id: int) -> Marking:
    """Imported runs carry the marking of their submission."""
    return submission_marking(session, results.get_run(session, run_id).submission_id)


def sample_marking(session: Session, sample_pk: int) -> Marking:
    return run_marking(session, results.get_sample(session, sample_pk).run_id)
