import pytest

from app.model.errors import ValidationError
from app.model.markings import Level, Marking, rollup


def test_banner_and_portion_forms():
    m = Marking.parse("SECRET//NOFORN")
    assert m.level is Level.SECRET
    assert m.banner() == "SECRET//NOFORN"
    assert m.portion() == "(S//NF)"
    assert Marking.parse("(S//NF)") == m
    assert Marking.parse("top secret//sci//noforn").banner() == "TOP SECRET//SCI//NOFORN"
    assert Marking.parse("(TS//SCI//NF)").portion() == "(TS//SCI//NF)"
    assert Marking.parse("CUI").portion() == "(CUI)"
    assert Marking.parse("UNCLASSIFIED").portion() == "(U)"


def test_rollup_takes_highest_level_and_unions_controls():
    overall = rollup([Marking.parse("(U)"), Marking.parse("(C//NF)"), Marking.parse("(S)"), Marking.parse("(CUI)")])
    assert overall.banner() == "SECRET//NOFORN"
    assert rollup([]).banner() == "UNCLASSIFIED"


@pytest.mark.parametrize("text", ["", "SECRETISH", "SECRET//NOPE", "(X)"])
def test_bad_markings_are_refused_with_the_field_named(text):
    with pytest.raises(ValidationError) as err:
        Marking.parse(text)
    assert err.value.field == "marking"


def test_media_rule_dominates():
    secret_media = Marking.parse("SECRET//NOFORN")
    assert secret_media.dominates(Marking.parse("CUI"))
    assert secret_media.dominates(Marking.parse("SECRET//NOFORN"))
    assert not Marking.parse("CUI").dominates(Marking.parse("SECRET"))
    assert not Marking.parse("SECRET").dominates(Marking.parse("SECRET//NOFORN"))


def test_banner_colours_follow_convention():
    assert Marking.parse("UNCLASSIFIED").colours()[0] == "#007a33"
    assert Marking.parse("SECRET").colours()[0] == "#c8102e"
    assert Marking.parse("TOP SECRET//SCI").colours()[0] == "#fce83a"
