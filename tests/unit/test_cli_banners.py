"""Every CLI command that prints marked content prints the banner line before and after it (issue 12)."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import pytest

from app import cli
from app.model.markings import Marking
from app.model.submissions import Submission
from app.model.vulnerabilities import DiscoveryContext, Vulnerability
from app.services import assessment, results, submissions
from app.services import vulnerabilities as vs

SNF = Marking.parse("SECRET//NOFORN")
FIXTURES = Path(__file__).parents[1] / "fixtures" / "inspect"


@pytest.fixture
def data(workstation):  # type: ignore[no-untyped-def]
    rev = workstation.session("reviewer")
    sid = submissions.create(rev, Submission(developer="Northwind AI", model_name="Aurora", version="4.1",
                                             received=date(2026, 11, 2), planned_release=date(2026, 12, 1),
                                             marking=SNF)).id
    [outcome] = results.import_files(rev, [FIXTURES / "intercode_ok.eval"], sid)
    assert outcome.run_id is not None
    sample = results.page_samples(rev, outcome.run_id, None, 0, 1)[0]
    view = assessment.start(rev, sid)
    v = vs.create(rev, Vulnerability(title="Sandbox escape", marking=SNF, context=DiscoveryContext(submission_id=sid)))
    return sid, outcome.run_id, sample.id, view.id, v.id


def test_marked_output_is_framed_by_banner_lines(workstation, data, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    sid, run_id, sample_pk, aid, vid = data

    def run(*args: str) -> list[str]:
        monkeypatch.setattr("sys.stdin", io.StringIO(workstation.passphrase("reviewer") + "\n"))
        code = cli.main(["--data-dir", str(workstation.data_dir), "--user", "reviewer", *args])
        out = capsys.readouterr()
        assert code == 0, out.err
        return [line for line in out.out.splitlines() if line.strip()]

    for args in (["results", "list", "--submission", str(sid)], ["results", "show", str(run_id)], ["results", "samples", str(run_id)],
                 ["results", "transcript", str(sample_pk)], ["submission", "list"], ["submission", "show", str(sid)],
                 ["vuln", "list"], ["vuln", "show", vid], ["assess", "status", str(aid)],
                 ["assess", "coverage", str(sid)]):
        lines = run(*args)
        assert lines[0] == lines[-1] == "SECRET//NOFORN", (args, lines[:2], lines[-2:])
