"""Fixtures shared by the unit tests of the partner exchange (tests/unit/test_csaf*.py)."""

from __future__ import annotations

import pytest


@pytest.fixture
def sender(workstation):  # type: ignore[no-untyped-def]
    return workstation.session("reviewer")


@pytest.fixture
def receiver(second_workstation):  # type: ignore[no-untyped-def]
    return second_workstation.session("reviewer")
