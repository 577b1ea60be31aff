"""CVSS v4.0 scoring against the published examples of the specification.

Source of the expected scores: FIRST, "Common Vulnerability Scoring System v4.0: Examples",
document version 1.7.1, https://www.first.org/cvss/v4.0/examples (each vector below is the one the
document links to the FIRST calculator, with the score the document states for it).
"""

from __future__ import annotations

import pytest

from app.model.errors import ValidationError
from app.model.vulnerabilities import BASE_METRICS, CvssSeverity, CvssV4, Vulnerability

FIRST_EXAMPLES = [
    # (CVE, vector, score stated in the FIRST examples document)
    ("CVE-2022-41741", "CVSS:4.0/AV:L/AC:L/AT:P/PR:L/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N", 7.3),
    ("CVE-2020-3549", "CVSS:4.0/AV:N/AC:L/AT:P/PR:N/UI:P/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N", 7.7),
    ("CVE-2020-3549 (Base + Threat)",
     "CVSS:4.0/AV:N/AC:L/AT:P/PR:N/UI:P/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/E:U", 5.2),
    ("CVE-2023-3089", "CVSS:4.0/AV:N/AC:L/AT:P/PR:N/UI:N/VC:H/VI:L/VA:L/SC:N/SI:N/SA:N", 8.3),
    ("CVE-2023-3089 (Base + Environmental)",
     "CVSS:4.0/AV:N/AC:L/AT:P/PR:N/UI:N/VC:H/VI:L/VA:L/SC:N/SI:N/SA:N/CR:H/IR:L/AR:L/MAV:N/MAC:H/MVC:H/MVI:L/MVA:L",
     8.1),
    ("CVE-2021-44714", "CVSS:4.0/AV:L/AC:L/AT:N/PR:N/UI:A/VC:L/VI:N/VA:N/SC:N/SI:N/SA:N", 4.6),
    ("CVE-2022-21830", "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:A/VC:N/VI:N/VA:N/SC:L/SI:L/SA:N", 5.1),
    ("CVE-2022-22186", "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:N/VA:N/SC:L/SI:L/SA:N", 6.9),
    ("CVE-2023-21989", "CVSS:4.0/AV:L/AC:L/AT:N/PR:H/UI:N/VC:N/VI:N/VA:N/SC:H/SI:N/SA:N", 5.9),
    ("CVE-2020-3947", "CVSS:4.0/AV:L/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:H/SI:H/SA:H", 9.4),
    ("CVE-2023-30560 (supplemental S:P/V:D do not change the score)",
     "CVSS:4.0/AV:P/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:H/SA:N/S:P/V:D", 8.3),
    ("CVE-2026-48172 (CISA KEV, Base + Threat)",
     "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:H/SI:H/SA:H/E:A", 10.0),
]


@pytest.mark.parametrize(("cve", "vector", "score"), FIRST_EXAMPLES, ids=[e[0] for e in FIRST_EXAMPLES])
def test_scores_match_first_examples(cve: str, vector: str, score: float) -> None:
    parsed = CvssV4.parse(vector)
    assert parsed.score == score, cve
    assert parsed.severity is CvssSeverity.for_score(score)
    # The stored vector is canonical and re-parses to the same score.
    assert CvssV4.parse(parsed.vector).score == score


def test_severity_bands_follow_the_specification() -> None:
    assert CvssSeverity.for_score(0.0) is CvssSeverity.NONE
    assert CvssSeverity.for_score(0.1) is CvssSeverity.LOW
    assert CvssSeverity.for_score(3.9) is CvssSeverity.LOW
    assert CvssSeverity.for_score(4.0) is CvssSeverity.MEDIUM
    assert CvssSeverity.for_score(6.9) is CvssSeverity.MEDIUM
    assert CvssSeverity.for_score(7.0) is CvssSeverity.HIGH
    assert CvssSeverity.for_score(8.9) is CvssSeverity.HIGH
    assert CvssSeverity.for_score(9.0) is CvssSeverity.CRITICAL
    none = CvssV4.parse("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:N/VA:N/SC:N/SI:N/SA:N")
    assert (none.score, none.severity) == (0.0, CvssSeverity.NONE)


def test_nomenclature_names_the_metric_groups_used() -> None:
    base = "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"
    assert CvssV4.parse(base).nomenclature == "CVSS-B"
    assert CvssV4.parse(base + "/E:P").nomenclature == "CVSS-BT"
    assert CvssV4.parse(base + "/MAV:L").nomenclature == "CVSS-BE"
    assert CvssV4.parse(base + "/E:P/CR:H").nomenclature == "CVSS-BTE"


def test_build_from_calculator_choices_orders_metrics_and_drops_not_defined() -> None:
    choice = dict(zip(BASE_METRICS, ["N", "L", "N", "N", "N", "H", "H", "H", "N", "N", "N"], strict=True))
    choice.update({"E": "A", "CR": "X", "S": "X"})
    built = CvssV4.build({**{"E": "A"}, **choice})
    assert built.vector == "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/E:A"
    assert built.score == 9.3  # Shellshock, CVSS-BT in the FIRST examples


def test_metric_order_in_input_does_not_matter() -> None:
    shuffled = "CVSS:4.0/SA:N/AV:L/AC:L/AT:P/PR:L/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N"
    parsed = CvssV4.parse(shuffled)
    assert parsed.vector == "CVSS:4.0/AV:L/AC:L/AT:P/PR:L/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"
    assert parsed.score == 7.3


@pytest.mark.parametrize(("vector", "metric", "fragment"), [
    ("CVSS:4.0/AV:Q/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N", "AV", "invalid value 'Q'"),
    ("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N", "SA", "missing mandatory base metric"),
    ("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/E:Z", "E", "Exploit Maturity"),
    ("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/XX:Y", "XX", "unknown metric"),
    ("CVSS:4.0/AV:N/AC:L/AC:H/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N", "AC", "appears twice"),
    ("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC/VI:H/VA:H/SC:N/SI:N/SA:N", "VC", "is not METRIC:VALUE"),
])
def test_invalid_vector_names_the_offending_metric(vector: str, metric: str, fragment: str) -> None:
    with pytest.raises(ValidationError) as info:
        CvssV4.parse(vector)
    assert info.value.field == f"cvss_vector {metric}"
    assert fragment in str(info.value)


@pytest.mark.parametrize("vector", ["CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "AV:N", "CVSS:4.0/"])
def test_wrong_version_or_empty_vector_is_refused(vector: str) -> None:
    with pytest.raises(ValidationError) as info:
        CvssV4.parse(vector)
    assert info.value.field == "cvss_vector"


def test_vulnerability_score_and_severity_are_computed_never_typed() -> None:
    v = Vulnerability(title="t", cvss_vector="CVSS:4.0/AV:L/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:H/SI:H/SA:H").validate()
    assert (v.score, v.severity) == (9.4, CvssSeverity.CRITICAL)
    with pytest.raises(ValidationError, match="cvss_vector PR"):
        Vulnerability(title="t", cvss_vector="CVSS:4.0/AV:L/AC:L/AT:N/PR:Q/UI:N/VC:H/VI:H/VA:H/SC:H/SI:H/SA:H").validate()
