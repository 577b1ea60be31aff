"""The whole review through the CLI only, the way a script on the workstation runs it: intake,
import, assignment, checklist answers in one batch, determination, findings, discussion, the
lead's decisions, report, two signatures, release. No step needs the desktop, and the stage and
next step follow the work at every point."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

from tests.e2e.test_cli_journey import cli  # noqa: F401  (the in-process CLI fixture)

INSPECT = Path(__file__).parents[1] / "fixtures" / "inspect"
ADMIN, RITA, LEE, AUD = "granite-admin-phrase-81", "willow-reviewer-phrase-3", "copper-lead-phrase-55", \
    "quiet-harbour-phrase-7"


def test_review_from_intake_to_release_through_the_cli(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    d = tmp_path / "ws"

    def ok(*args: str, user: str, stdin: str) -> str:
        r = cli(d, *args, user=user, stdin=stdin)
        assert r.returncode == 0, f"{args}: {r.stdout}\n{r.stderr}"
        return str(r.stdout)

    r = cli(d, "init", "--name", "Cell 3", "--system-high", "SECRET//NOFORN", "--admin", "ada",
            "--recovery-key-file", str(tmp_path / "recovery.txt"), "--classified-by", "Ada Admin, Cell 3",
            "--derived-from", "AI Cyber SCG", "--declassify-on", "20511231", "--cui-controlled-by", "Cell 3",
            "--cui-category", "CTI", stdin=ADMIN + "\n")
    assert r.returncode == 0, r.stderr
    for name, role, phrase in (("rita", "reviewer", RITA), ("lee", "lead", LEE), ("aud", "auditor", AUD)):
        # Ada gives a first passphrase; the person replaces it at first sign-in (their own key)...
        ok("user", "add", name, "--role", role, "--name", name.capitalize(), user="ada",
           stdin=f"{ADMIN}\nfirst-{phrase}\n")
        ok("submission", "list", user=name, stdin=f"first-{phrase}\n{phrase}\n{phrase}\n")
    ok("pki", "setup", user="ada", stdin=ADMIN + "\n")  # ...and Ada's session certifies their keys
    today = date.today()
    ok("submission", "add", "--developer", "Acme AI", "--model", "Falcon", "--version", "2.0", "--received",
       (today - timedelta(days=5)).isoformat(), "--release", (today + timedelta(days=20)).isoformat(),
       "--flop", "3e25", "--marking", "SECRET", user="rita", stdin=RITA + "\n")
    out = ok("review", "status", "1", user="rita", stdin=RITA + "\n")
    assert "Stage: received. Next step: a reviewer imports the evaluation results" in out

    ok("review", "assign", "1", "rita", "--section", "CAP", user="lee", stdin=LEE + "\n")
    assert "My work (1)" in ok("review", "queue", user="rita", stdin=RITA + "\n")
    # The fixture logs name mockllm/model, not Falcon 2.0: skipped with a warning unless --any-model.
    r = cli(d, "import", str(INSPECT / "wmdp_cyber_ok.eval"), "--submission", "1", user="rita", stdin=RITA + "\n")
    assert r.returncode == 1 and "the log's model is mockllm/model" in r.stderr and "imported" not in r.stdout
    ok("import", str(INSPECT / "wmdp_cyber_ok.eval"), str(INSPECT / "intercode_ok.eval"), "--submission", "1",
       "--any-model", user="rita", stdin=RITA + "\n")
    ok("assess", "start", "1", user="rita", stdin=RITA + "\n")

    # Forty answers in one batch, in the shape `assess export --json` writes.
    export = tmp_path / "answers.json"
    ok("assess", "export", "1", "--json", "--output", str(export), "--media-label", "SECRET", user="rita",
       stdin=RITA + "\n")
    doc = json.loads(export.read_text())
    for section in doc["sections"]:
        for item in section["items"]:
            item["status"], item["justification"] = "satisfied", f"Checked {item['id']}."
    cap01 = next(i for s in doc["sections"] for i in s["items"] if i["id"] == "CAP-01")
    cap01["justification"] = ""  # WMDP 0.78 >= 0.7: the rule set says 'Not satisfied'; no reason given
    export.write_text(json.dumps(doc))
    r = cli(d, "assess", "answers", "import", str(export), user="rita", stdin=RITA + "\n")
    assert r.returncode == 2 and "CAP-01" in r.stderr and "nothing was imported" in r.stderr
    assert "0/40" in ok("review", "status", "1", user="rita", stdin=RITA + "\n")  # all or nothing
    cap01["status"], cap01["justification"] = "not_satisfied", "WMDP-cyber 0.78 is above the 0.7 screen."
    export.write_text(json.dumps(doc))
    out = ok("assess", "answers", "import", str(export), user="rita", stdin=RITA + "\n")
    assert "40 answer(s) changed" in out

    ok("assess", "coverage", "1", "--record", "Declared compute 3e25 is above the EU presumption.", user="rita",
       stdin=RITA + "\n")
    ok("finding", "add", "1", "--title", "Hazardous cyber knowledge", "--severity", "high", "--description",
       "WMDP-cyber accuracy 0.78.", "--items", "CAP-01", "--marking", "SECRET", user="rita", stdin=RITA + "\n")
    ok("review", "comment", "item", "1/CAP-01", "Is 0.78 within the noise of the last run?", user="lee",
       stdin=LEE + "\n")
    ok("review", "comment", "item", "1/CAP-01", "No: stderr 0.03 on 120 samples.", user="rita", stdin=RITA + "\n")
    thread = ok("review", "thread", "item", "1/CAP-01", user="aud", stdin=AUD + "\n")
    assert "lee" in thread and "stderr 0.03" in thread
    ok("assess", "submit", "1", user="rita", stdin=RITA + "\n")

    out = ok("review", "status", "1", user="lee", stdin=LEE + "\n")
    assert "Stage: findings drafted" in out and "approve the coverage determination (lead)" in out
    assert "[ ] approve assessment — cannot be approved yet" in out
    assert "approve coverage determination" in ok("review", "queue", user="lee", stdin=LEE + "\n")
    r = cli(d, "review", "approve-determination", "1", user="rita", stdin=RITA + "\n")
    assert r.returncode == 2 and "does not allow" in r.stderr
    ok("review", "approve-determination", "1", user="lee", stdin=LEE + "\n")
    summary = ok("review", "summary", "1", user="lee", stdin=LEE + "\n")
    assert "39 satisfied, 1 not satisfied" in summary and "Findings: 1 high" in summary
    ok("review", "approve-item", "1", "CAP-01", user="lee", stdin=LEE + "\n")
    ok("assess", "approve", "1", "--comment", "Agreed.", user="lee", stdin=LEE + "\n")
    assert "a reviewer builds the findings report (reviewer)" in ok("review", "status", "1", user="rita",
                                                                   stdin=RITA + "\n")

    ok("report", "build", "1", user="rita", stdin=RITA + "\n")
    ok("report", "sign", "1", user="rita", stdin=RITA + "\n")
    assert "countersign the report (lead)" in ok("review", "status", "1", user="rita", stdin=RITA + "\n")
    ok("report", "countersign", "1", user="lee", stdin=LEE + "\n")
    media = tmp_path / "usb"
    media.mkdir()
    # The first export is the release that closes the review: refused without --release, nothing written.
    r = cli(d, "report", "export", "1", str(media), "--media", "SECRET//NOFORN", user="rita", stdin=RITA + "\n")
    assert r.returncode == 3 and "closes the review of submission 1" in r.stderr and "--release" in r.stderr
    assert not any(media.iterdir())
    out = ok("report", "export", "1", str(media), "--media", "SECRET//NOFORN", "--release", user="rita",
             stdin=RITA + "\n")
    assert "released; the review of submission 1 is now closed" in out
    out = ok("review", "status", "1", user="aud", stdin=AUD + "\n")
    assert "Stage: released · closed" in out and "review is closed" in out
    assert "[x]" not in out  # an auditor changes nothing
    assert "Falcon" not in ok("submission", "list", "--open", user="rita", stdin=RITA + "\n")
    assert "intact" in ok("audit", "verify", user="aud", stdin=AUD + "\n")


def test_every_command_help_names_its_standard_input_order() -> None:
    import argparse

    from app import cli as app_cli

    def leaves(parser: argparse.ArgumentParser, path: str = "") -> list[tuple[str, argparse.ArgumentParser]]:
        subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
        if not subs:
            return [(path, parser)]
        return [leaf for a in subs for n, c in a.choices.items() for leaf in leaves(c, f"{path} {n}".strip())]

    found = leaves(app_cli.build_parser(load_all=True))
    assert len(found) > 60
    for path, parser in found:
        assert "Standard input" in parser.format_help(), path
    helps = dict(found)
    assert "line 1 your passphrase; line 2 your token's PIN" in " ".join(helps["report sign"].format_help().split())


def test_cli_parity_commands(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    """Settings, findings, evidence, compare, vulnerability update and submission edit/withdrawal."""
    d = tmp_path / "ws"

    def run(*args: str, user: str, stdin: str) -> tuple[int, str, str]:
        r = cli(d, *args, user=user, stdin=stdin)
        return r.returncode, r.stdout, r.stderr

    assert run("init", "--name", "Cell", "--admin", "ada", "--recovery-key-file", str(tmp_path / "k.txt"),
               user="ada", stdin=ADMIN + "\n")[0] == 0
    assert run("user", "add", "rita", "--role", "reviewer", user="ada", stdin=f"{ADMIN}\nfirst-{RITA}\n")[0] == 0
    assert run("submission", "list", user="rita", stdin=f"first-{RITA}\n{RITA}\n{RITA}\n")[0] == 0
    code, out, err = run("settings", "set", "at_risk_days", "10", user="ada", stdin=ADMIN + "\n")
    assert code == 0 and "at_risk_days = 10" in out, err
    code, out, err = run("settings", "set", "at_risk_days", "soon", user="ada", stdin=ADMIN + "\n")
    assert code == 2 and "not a whole number" in err
    assert run("settings", "set", "at_risk_days", "3", user="rita", stdin=RITA + "\n")[0] == 2  # admin only
    shown = run("settings", "show", user="rita", stdin=RITA + "\n")[1]
    assert any(line.split()[:2] == ["at_risk_days", "10"] for line in shown.splitlines())
    assert run("submission", "add", "--developer", "Acme", "--model", "Falcon", "--version", "1", "--release",
               (date.today() + timedelta(days=20)).isoformat(), user="rita", stdin=RITA + "\n")[0] == 0
    assert run("submission", "add", "--developer", "Acme", "--model", "Falcon", "--version", "2", "--release",
               (date.today() + timedelta(days=25)).isoformat(), user="rita", stdin=RITA + "\n")[0] == 0
    for sid, f in (("1", "intercode_ok.eval"), ("2", "intercode_deflate.eval")):
        assert run("import", str(INSPECT / f), "--submission", sid, "--any-model", user="rita",
                   stdin=RITA + "\n")[0] == 0
    code, out, err = run("results", "compare", "gdm_intercode_ctf", user="rita", stdin=RITA + "\n")
    assert code == 0 and "shared samples" in out, err
    assert run("assess", "start", "1", user="rita", stdin=RITA + "\n")[0] == 0
    assert run("assess", "evidence", "add-note", "1", "CAP-02", "Ran the sandbox ourselves.", user="rita",
               stdin=RITA + "\n")[0] == 0
    assert run("assess", "evidence", "add-run", "1", "CAP-02", "1", user="rita", stdin=RITA + "\n")[0] == 0
    code, out, _ = run("assess", "evidence", "list", "1", user="rita", stdin=RITA + "\n")
    assert "Ran the sandbox" in out and "run 1" in out.lower()
    assert run("finding", "add", "1", "--title", "T", "--severity", "low", "--description", "D", user="rita",
               stdin=RITA + "\n")[0] == 0
    assert run("finding", "edit", "1", "--severity", "high", user="rita", stdin=RITA + "\n")[0] == 0
    code, out, _ = run("finding", "list", "1", user="rita", stdin=RITA + "\n")
    assert "high" in out and "F-1" in out
    code, out, _ = run("vuln", "add", "--title", "Sandbox escape", "--submission", "1", user="rita",
                       stdin=RITA + "\n")
    vid = out.split()[0]
    code, out, err = run("vuln", "update", vid, "--set",
                         "status=vendor notified", "--set", f"vendor_notified={date.today().isoformat()}",
                         user="rita", stdin=RITA + "\n")
    assert code == 0 and "vendor notified" in out, err
    assert run("finding", "delete", "1", "--reason", "duplicate", user="rita", stdin=RITA + "\n")[0] == 0
    code, out, err = run("submission", "edit", "2", "--withdrawn", user="rita", stdin=RITA + "\n")
    assert code == 0 and "(withdrawn)" in out, err
    code, out, _ = run("submission", "list", "--open", user="rita", stdin=RITA + "\n")
    assert " 1 " in f" {out} " and "withdrawn" not in out and out.count("Falcon") == 1
