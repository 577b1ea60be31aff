"""One line per finished test file for `pytest` and `pytest -q` (what `make test` runs), also
with xdist workers, whose interleaved files would otherwise scramble pytest's own per-file lines.

Each line gives the file's outcome counts and time, the overall share done and the time since the
start; failures are named as they happen. With -v and more, pytest's own per-test output is kept.
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from collections.abc import Generator, Sequence

import pytest

_OUTCOME_ORDER = ("passed", "failed", "error", "skipped", "xfailed", "xpassed")


def _file_of(nodeid: str) -> str:
    return nodeid.split("::", 1)[0]


class FileProgress:
    def __init__(self, reporter: pytest.TerminalReporter) -> None:
        self.reporter = reporter
        self.expected: Counter[str] = Counter()
        self.finished: Counter[str] = Counter()
        self.outcomes: defaultdict[str, Counter[str]] = defaultdict(Counter)
        self.seconds: defaultdict[str, float] = defaultdict(float)
        self.done = 0
        self.started = time.monotonic()

    # -- what is expected: the controller's collection, or the first xdist worker's ----------------
    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, items: Sequence[pytest.Item]) -> None:
        self.expected = Counter(_file_of(i.nodeid) for i in items)

    @pytest.hookimpl(optionalhook=True)  # an xdist hook: `-p no:xdist` must not reject the plugin
    def pytest_xdist_node_collection_finished(self, node: object, ids: Sequence[str]) -> None:
        if not self.expected:
            self.expected = Counter(_file_of(i) for i in ids)

    # -- silence the per-test dots, keep the outcome categories (the final summary counts them) ----
    @pytest.hookimpl(wrapper=True)
    def pytest_report_teststatus(self, report: pytest.TestReport, config: pytest.Config
                                 ) -> Generator[None, tuple[str, str, object], tuple[str, str, object]]:
        category, _letter, word = yield
        return category, "", word

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        path = _file_of(report.nodeid)
        self.seconds[path] += report.duration
        if report.failed:
            outcome = "failed" if report.when == "call" else "error"
            self.outcomes[path][outcome] += 1
            self.reporter.ensure_newline()
            self.reporter.write_line(f"{outcome.upper()} {report.nodeid} ({report.when})", red=True)
        elif report.when == "call" or (report.when == "setup" and report.skipped):
            key = ("xfailed" if report.skipped else "xpassed") if hasattr(report, "wasxfail") else report.outcome
            self.outcomes[path][key] += 1
        if report.when == "teardown":
            self._one_done(path)

    def _one_done(self, path: str) -> None:
        self.done += 1
        self.finished[path] += 1
        if self.finished[path] != self.expected.get(path, -1):
            return
        counts = self.outcomes.pop(path, Counter())
        summary = ", ".join(f"{counts[k]} {k}" for k in _OUTCOME_ORDER if counts[k]) or "no tests"
        total = sum(self.expected.values()) or 1
        elapsed = int(time.monotonic() - self.started)
        self.reporter.ensure_newline()
        self.reporter.write_line(
            f"[{100 * self.done // total:3d}% {elapsed // 60:2d}:{elapsed % 60:02d}] {path}  {summary}  "
            f"{self.seconds.pop(path):.1f} s",
            red=bool(counts["failed"] or counts["error"]))


def register(config: pytest.Config) -> None:
    """Installed from tests/conftest.py (not in xdist workers, which print nothing)."""
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is None or config.get_verbosity() > 0 or hasattr(config, "workerinput"):
        return
    config.option.verbose = -1  # pytest's own dots and file prefixes give way to the lines below
    config.pluginmanager.register(FileProgress(reporter), "file-progress")
