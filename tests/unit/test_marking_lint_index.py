"""The marking lint's word index (app.model.report_markings.lint_values) finds exactly what the
plain check of every value against every portion finds, in the same order, and stays linear: a
register of thousands of rows is linted without comparing every portion with every value."""

from __future__ import annotations

import random

from app.model import report_markings
from app.model.markings import Marking
from app.model.report_markings import _contains, _unique, lint_values, portions

MARKS = [Marking.parse(m) for m in ("(U)", "(CUI)", "(C)", "(S)", "(TS)")]
WORDS = ["heap", "overflow", "10.60834", "0.6083", "parser", "use-after-free", "é-token", "x", "(CUI)", "Foo Bar"]


def plain(values: list[tuple[str, Marking, str]], text: str) -> list[str]:
    """The check before the index: every portion against every value."""
    problems = []
    for marking, body in portions(text):
        for value, source, where in values:
            if not marking.dominates(source) and _contains(body, value):
                problems.append(f"portion {marking.portion()} quotes {value!r} from {where}, marked "
                                f"{source.portion()}: {body[:80]!r}")
    return _unique(problems)


PUNCT = ["--..", "(())", "....", "-- --"]  # values without a word character


def _text(rnd: random.Random) -> str:
    if rnd.random() < 0.15:
        return rnd.choice(PUNCT)
    return " ".join(rnd.choice(WORDS) for _ in range(rnd.randint(1, 4)))


def test_the_index_finds_what_the_plain_check_finds() -> None:
    """400 seeded random documents (words that overlap, numbers inside numbers, punctuation-only
    values, marks in the text): the same problems in the same order."""
    rnd = random.Random(20261202)
    for _ in range(400):
        values = [(_text(rnd), rnd.choice(MARKS), f"row {rnd.randint(0, 99)}") for _ in range(rnd.randint(0, 12))]
        parts = [(rnd.choice(MARKS), " ".join(_text(rnd) for _ in range(rnd.randint(0, 6))))
                 for _ in range(rnd.randint(1, 10))]
        text = "\n".join(f"{m.portion()} {body}" for m, body in parts)
        assert lint_values(values, text) == plain(values, text), (values, text)


def test_a_quoted_value_is_found_and_a_longer_number_is_not() -> None:
    cui, u = Marking.parse("(CUI)"), Marking.parse("(U)")
    values = [("heap overflow in parser", cui, "vulnerability 7"), ("0.6083", cui, "benchmark")]
    text = "(U) Summary: heap overflow in parser, score 10.60834\n(CUI) heap overflow in parser 0.6083"
    problems = lint_values(values, text)
    assert len(problems) == 1 and "'heap overflow in parser' from vulnerability 7" in problems[0]
    assert lint_values([("0.6083", cui, "benchmark")], "(U) score 0.6083 here") != []
    assert lint_values([("0.6083", u, "benchmark")], "(U) score 0.6083 here") == []


def test_a_big_register_compares_only_candidates(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """3,000 rows, each its own portion and title: the whole-token check runs for the rows whose
    words the portion holds, not 3,000 x 3,000 times."""
    calls = 0
    real = report_markings._contains

    def counting(haystack: str, needle: str) -> bool:
        nonlocal calls
        calls += 1
        return real(haystack, needle)

    monkeypatch.setattr(report_markings, "_contains", counting)
    cui = Marking.parse("(CUI)")
    values = [(f"flaw {i} in module m{i}", cui, f"vulnerability {i}") for i in range(3000)]
    text = "\n".join(f"(U) row {i} status open" for i in range(3000)) + "\n(U) flaw 12 in module m12"
    problems = lint_values(values, text)
    assert problems == [f"portion (U) quotes 'flaw 12 in module m12' from vulnerability 12, marked (CUI): "
                        f"{'flaw 12 in module m12'!r}"]
    assert calls <= 10


def test_text_that_only_looks_like_a_mark_belongs_to_the_portion_before() -> None:
    """A justification may contain '(S//XYZ)': not a mark, so it neither stops the lint nor opens a
    portion; its text counts as the portion it stands in."""
    cui = Marking.parse("(CUI)")
    text = "(U) The note says (S//XYZ) heap overflow in parser\n(CUI) other"
    assert [m.portion() for m, _ in portions(text)] == ["(U)", "(CUI)"]
    assert lint_values([("heap overflow in parser", cui, "vulnerability 7")], text) != []
