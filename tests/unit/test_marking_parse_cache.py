"""Marking.parse shares one result per (text, within): rows read from the database parse the same
few marking texts over and over. The sharing must not change what a parse returns or refuses."""

from __future__ import annotations

import pytest

from app.model.errors import ValidationError
from app.model.markings import Level, Marking


def test_the_same_text_gives_the_same_marking_object() -> None:
    first = Marking.parse("SECRET//NOFORN")
    assert Marking.parse("SECRET//NOFORN") is first
    assert first == Marking(Level.SECRET, controls=("NOFORN",))


def test_within_is_part_of_what_is_shared() -> None:
    gbr = Marking.parse("SECRET//REL TO USA, GBR")
    aus = Marking.parse("SECRET//REL TO USA, AUS")
    assert Marking.parse("(S//REL)", within=gbr).rel_to == ("USA", "GBR")
    assert Marking.parse("(S//REL)", within=aus).rel_to == ("USA", "AUS")
    with pytest.raises(ValidationError):
        Marking.parse("(S//REL)")  # without the banner the short form means nothing


def test_a_refused_text_is_refused_every_time() -> None:
    for _ in range(2):
        with pytest.raises(ValidationError, match="unknown classification level"):
            Marking.parse("SEKRIT//NOFORN")
