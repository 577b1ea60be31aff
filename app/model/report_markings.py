"""Derivative marking of a report's portions, and the lint over the built report (issue 12, point 1).

A portion that quotes, summarises or computes from marked information is marked at least as
high as its sources, titles included (DOMAIN.md section 7). `derive` computes those markings
from the report's own content, so nothing is typed; `lint` reads the text of the built report
back, portion by portion, and names any portion that quotes a value of a higher-marked source.
"""

from __future__ import annotations

import dataclasses
import re
from collections import Counter
from collections.abc import Iterable

from app.model.errors import ValidationError
from app.model.markings import Marking, rollup
from app.model.printable import PrintableInput
from app.model.report import CoverageDetermination, ReportInput


def _quotes_submission(text: str, r: ReportInput) -> bool:
    sub = r.submission
    return any(name and name in text for name in (sub.display_name, f"{sub.model_name} {sub.version}".strip(),
                                                  sub.model_name))


def _coverage(r: ReportInput) -> CoverageDetermination | None:
    cov = r.coverage
    if cov is None:
        return None
    rows = []
    for row in cov.rows:
        sources = [row.marking]
        quoted = [b.marking for b in r.benchmarks if (b.task and b.task in row.inputs)
                  or (b.benchmark and b.benchmark in row.inputs)]
        # Inputs are the submission's results and declared compute: at least the submission's marking.
        if row.inputs.strip() and row.inputs.strip() not in ("-", "—"):
            sources += [r.submission.marking, *quoted]
        rows.append(dataclasses.replace(row, marking=rollup(sources)))
    # The outcome and rationale are computed from the rows.
    marking = rollup([cov.marking, *(x.marking for x in rows)])
    return dataclasses.replace(cov, rows=tuple(rows), marking=marking)


def derive(r: ReportInput) -> ReportInput:
    """Raise every derived portion to at least the roll-up of its sources."""
    title = r.title_marking
    if _quotes_submission(r.title, r):
        title = rollup([title, r.submission.marking])
    return dataclasses.replace(r, title_marking=title, coverage=_coverage(r))


def findings_summary_marking(r: ReportInput) -> Marking:
    """Counts of findings by severity are derived from every finding."""
    return rollup(f.marking for f in r.findings)


# -- lint over the built report -------------------------------------------------------------------

_PORTION = re.compile(r"\((?:U|CUI|C|S|TS|//[A-Z]{3,4}(?: [A-Z]{3,4})* (?:U|C|S|TS))(?://[^()]*?)?\)")
_MIN_VALUE = 4  # shorter strings (e.g. "0.5", "Yes") are too common to attribute to one source
_LONG_TEXT = 40  # free text is matched by its opening words (about 40 characters)
_WORD = re.compile(r"\w+")


def _value_texts(value: float) -> set[str]:
    """The ways a report writes a value (the PDF's tables use three decimals)."""
    return {t for t in (f"{value:.6g}", f"{value:.4f}", f"{value:.3f}", f"{value:.2f}", repr(value))
            if len(t) >= _MIN_VALUE and "." in t and any(ch in t for ch in "123456789")}


def sensitive_values(r: ReportInput) -> list[tuple[str, Marking, str]]:
    """(text, marking, where it comes from) of values a lower portion must not quote."""
    out: list[tuple[str, Marking, str]] = []
    sub = r.submission
    for name in {sub.display_name, sub.model_name}:
        if len(name.strip()) >= _MIN_VALUE:
            out.append((name.strip(), sub.marking, "the submission"))
    for b in r.benchmarks:
        if b.value is not None:
            out += [(t, b.marking, f"benchmark {b.task} {b.metric}") for t in _value_texts(b.value)]
    for f in r.findings:
        if len(f.title.strip()) >= _MIN_VALUE:
            out.append((f.title.strip(), f.marking, f"finding {f.id}"))
    for v in r.vulnerabilities or ():
        if len(v.title.strip()) >= _MIN_VALUE:
            out.append((v.title.strip(), v.marking, f"vulnerability {v.id}"))
    return out


def submission_values(names: Iterable[str], marking: Marking,
                      metrics: Iterable[tuple[str, float]]) -> list[tuple[str, Marking, str]]:
    """What a record about a submission must not quote below the submission's marking: its names and
    its runs' metric values (`metrics`: where from, value), as the built report's lint finds them."""
    out = [(n.strip(), marking, "the submission") for n in set(names) if len(n.strip()) >= _MIN_VALUE]
    for where, value in metrics:
        out += [(t, marking, where) for t in _value_texts(value)]
    return out


def record_quotes(values: list[tuple[str, Marking, str]], marking: Marking, text: str) -> list[str]:
    """Problems: `text`, one record marked `marking`, quotes one of `values` from a higher-marked source."""
    return lint_values(values, f"{marking.portion()} {' '.join(text.split())}")


def printable_values(doc: PrintableInput) -> list[tuple[str, Marking, str]]:
    """Values a lower portion of a printed document must not quote: finding and vulnerability titles
    (also those a finding links), checklist justifications."""
    out: list[tuple[str, Marking, str]] = []
    for f in doc.findings:
        if len(f.title.strip()) >= _MIN_VALUE:
            out.append((f.title.strip(), f.marking, f"finding {f.id}"))
        out += [(v.title.strip(), v.marking, f"vulnerability {v.id}") for v in f.vulnerabilities
                if len(v.title.strip()) >= _MIN_VALUE]
    for v in doc.vulnerabilities:
        if len(v.title.strip()) >= _MIN_VALUE:
            out.append((v.title.strip(), v.marking, f"vulnerability {v.id}"))
    for section in doc.checklist:
        for item in section.items:
            if len(item.justification.strip()) >= _LONG_TEXT:
                out.append((_opening(item.justification), item.marking, f"checklist item {item.id}"))
    return out


def _opening(text: str) -> str:
    """The first whole words of `text`, at least _LONG_TEXT characters (whitespace as one space)."""
    words: list[str] = []
    for word in text.split():
        words.append(word)
        if len(" ".join(words)) >= _LONG_TEXT:
            break
    return " ".join(words)


def portions(text: str) -> list[tuple[Marking, str]]:
    """Split extracted report text into (portion marking, portion text) in reading order."""
    found: list[tuple[Marking, int, int]] = []
    parsed: dict[str, Marking | None] = {}  # a document repeats a handful of marks thousands of times
    for m in _PORTION.finditer(text):
        mark = m.group(0)
        if mark not in parsed:
            try:
                parsed[mark] = Marking.parse(mark)
            except (ValueError, ValidationError):
                parsed[mark] = None  # parenthesised text that only looks like a portion mark
        marking = parsed[mark]
        if marking is not None:
            found.append((marking, m.start(), m.end()))
    out = []
    for i, (marking, _start, end) in enumerate(found):
        stop = found[i + 1][1] if i + 1 < len(found) else len(text)
        out.append((marking, " ".join(text[end:stop].split())))
    return out


def _contains(haystack: str, needle: str) -> bool:
    # Whole tokens only: 0.6083 must not match inside 10.60834.
    return re.search(rf"(?<![\w.]){re.escape(needle)}(?![\w])", haystack) is not None


def lint(r: ReportInput, text: str) -> list[str]:
    """Problems: portions of the built report that quote a value from a higher-marked source."""
    return lint_values(sensitive_values(r), text)


def lint_printable(doc: PrintableInput, text: str) -> list[str]:
    """The same check over a printed register or checklist (app.model.printable)."""
    return lint_values(printable_values(doc), text)


def lint_values(values: list[tuple[str, Marking, str]], text: str) -> list[str]:
    """Portions of `text` that quote one of `values` (text, its source's marking, where from) while
    marked lower than that source.

    A whole-token match (`_contains`) implies that every word of the value is a whole word of the
    portion, so each portion is checked only against the values whose rarest word it contains:
    about linear in the document instead of portions x values (a 1,000-row register took 30 s)."""
    words_of = [frozenset(_WORD.findall(value)) for value, _source, _where in values]
    frequency = Counter(word for words in words_of for word in words)
    index: dict[str, list[int]] = {}
    wordless: list[int] = []  # values without a word character are checked everywhere
    for i, words in enumerate(words_of):
        if words:  # keyed by its rarest word among the values, so few values share a key
            index.setdefault(min(words, key=lambda w: (frequency[w], -len(w), w)), []).append(i)
        else:
            wordless.append(i)
    problems = []
    for marking, body in portions(text):
        body_words = set(_WORD.findall(body))
        candidates = set(wordless)
        for word in body_words:
            candidates.update(index.get(word, ()))
        for i in sorted(candidates):
            value, source, where = values[i]
            if not marking.dominates(source) and words_of[i] <= body_words and _contains(body, value):
                problems.append(f"portion {marking.portion()} quotes {value!r} from {where}, marked "
                                f"{source.portion()}: {body[:80]!r}")
    return _unique(problems)


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))
