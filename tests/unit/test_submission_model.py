from datetime import date

import pytest

from app.model.errors import ValidationError
from app.model.submissions import Submission, SubmissionStatus, WindowState, parse_date, parse_flop
from app.model.workflow import Stage


def make(**kw):
    base = dict(developer="Acme", model_name="Falcon", version="1", received=date(2026, 11, 1),
                planned_release=date(2026, 11, 30))
    base.update(kw)
    return Submission(**base)


def test_window_states():
    s = make()
    assert s.window_days == 29 and not s.window_flags
    assert s.window_state(date(2026, 11, 10)) is WindowState.ON_TRACK
    assert s.window_state(date(2026, 11, 25)) is WindowState.AT_RISK
    assert s.days_remaining(date(2026, 12, 2)) == -2
    assert s.window_state(date(2026, 12, 2)) is WindowState.OVERDUE
    # Only the computed stage ends the clock (released or withdrawn); a typed "closed" does not.
    assert make(status=SubmissionStatus.CLOSED).window_state(date(2026, 12, 2)) is WindowState.OVERDUE
    assert make(status=SubmissionStatus.FINDINGS_ISSUED).window_state(date(2026, 12, 2)) is WindowState.OVERDUE
    assert make(status=SubmissionStatus.WITHDRAWN).window_state(date(2026, 12, 2)) is WindowState.DONE
    assert s.window_state(date(2026, 12, 2), stage=Stage.RELEASED) is WindowState.DONE
    assert s.window_state(date(2026, 12, 2), stage=Stage.SIGNED) is WindowState.OVERDUE


def test_window_over_30_days_is_allowed_but_flagged():
    s = make(planned_release=date(2026, 12, 15)).validate()
    assert "44 days" in s.window_flags[0]


def test_release_before_receipt_names_the_field():
    with pytest.raises(ValidationError) as err:
        make(planned_release=date(2026, 10, 1)).validate()
    assert err.value.field == "planned_release"


@pytest.mark.parametrize("field", ["developer", "model_name", "version"])
def test_required_fields(field):
    with pytest.raises(ValidationError) as err:
        make(**{field: "  "}).validate()
    assert err.value.field == field


def test_parsers():
    assert parse_date("received", "2026-11-01") == date(2026, 11, 1)
    with pytest.raises(ValidationError, match="received"):
        parse_date("received", "01/11/2026")
    assert parse_flop("3.2e25") == 3.2e25
    assert parse_flop("") is None
    for bad in ("lots", "inf", "nan"):
        with pytest.raises(ValidationError, match="training_flop"):
            parse_flop(bad)
    with pytest.raises(ValidationError, match="training_flop"):
        make(training_flop=-1.0).validate()
