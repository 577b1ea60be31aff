"""The marking parser against real-world marking strings, valid and invalid, and the roll-up rules."""

import pytest

from app.model.errors import ValidationError
from app.model.markings import Marking, cui_categories, parse_declassify_on, rollup

# (as written, banner form, portion form)
VALID = [
    ("UNCLASSIFIED", "UNCLASSIFIED", "(U)"),
    ("UNCLASSIFIED//FOUO", "UNCLASSIFIED//FOUO", "(U//FOUO)"),
    ("(U//FOUO)", "UNCLASSIFIED//FOUO", "(U//FOUO)"),
    ("CONFIDENTIAL", "CONFIDENTIAL", "(C)"),
    ("SECRET//NOFORN", "SECRET//NOFORN", "(S//NF)"),
    ("(S//NF)", "SECRET//NOFORN", "(S//NF)"),
    ("secret//noforn", "SECRET//NOFORN", "(S//NF)"),
    ("TOP SECRET//SI-G/TK//NOFORN", "TOP SECRET//SI-G/TK//NOFORN", "(TS//SI-G/TK//NF)"),
    ("TOP SECRET//HCS/SI/TK//NOFORN", "TOP SECRET//HCS/SI/TK//NOFORN", "(TS//HCS/SI/TK//NF)"),
    ("(TS//SI//NF)", "TOP SECRET//SI//NOFORN", "(TS//SI//NF)"),
    ("TOP SECRET//TK/SI//ORCON/NOFORN", "TOP SECRET//SI/TK//ORCON/NOFORN", "(TS//SI/TK//OC/NF)"),
    ("TOP SECRET//SI/SI-G//NOFORN", "TOP SECRET//SI-G//NOFORN", "(TS//SI-G//NF)"),
    ("SECRET//REL TO USA, GBR, AUS", "SECRET//REL TO USA, AUS, GBR", "(S//REL TO USA, AUS, GBR)"),
    ("SECRET//REL TO GBR, USA", "SECRET//REL TO USA, GBR", "(S//REL TO USA, GBR)"),
    ("(S//REL TO USA, NATO, GBR)", "SECRET//REL TO USA, GBR, NATO", "(S//REL TO USA, GBR, NATO)"),
    ("SECRET//REL TO USA, FVEY", "SECRET//REL TO USA, FVEY", "(S//REL TO USA, FVEY)"),
    ("SECRET//RELIDO/REL TO USA, GBR", "SECRET//REL TO USA, GBR/RELIDO", "(S//REL TO USA, GBR/RELIDO)"),
    ("SECRET//FGI GBR//NOFORN", "SECRET//FGI GBR//NOFORN", "(//GBR S//NF)"),
    ("(//GBR S)", "SECRET//FGI GBR", "(//GBR S)"),
    ("(//DEU TS)", "TOP SECRET//FGI DEU", "(//DEU TS)"),
    # FGI whose source country is concealed: banner FGI alone, portion (//FGI <level>)
    ("SECRET//FGI", "SECRET//FGI", "(//FGI S)"),
    ("(//FGI S)", "SECRET//FGI", "(//FGI S)"),
    ("(//FGI TS//NF)", "TOP SECRET//FGI//NOFORN", "(//FGI TS//NF)"),
    ("CONFIDENTIAL//FGI//REL TO USA, GBR", "CONFIDENTIAL//FGI//REL TO USA, GBR", "(//FGI C//REL TO USA, GBR)"),
    ("SECRET//SAR-BP//NOFORN", "SECRET//SAR-BP//NOFORN", "(S//SAR-BP//NF)"),
    ("SECRET//RD//NOFORN", "SECRET//RD//NOFORN", "(S//RD//NF)"),
    ("SECRET//RESTRICTED DATA//NOFORN", "SECRET//RD//NOFORN", "(S//RD//NF)"),
    ("SECRET//NOFORN//LES", "SECRET//NOFORN//LES", "(S//NF//LES)"),
    ("SECRET//PROPIN", "SECRET//PROPIN", "(S//PR)"),
    ("CONFIDENTIAL//IMCON/NOFORN", "CONFIDENTIAL//IMCON/NOFORN", "(C//IMC/NF)"),
    ("CUI", "CUI", "(CUI)"),
    ("CUI//SP-CTI", "CUI//SP-CTI", "(CUI//SP-CTI)"),
    ("CUI//SP-PRVCY", "CUI//SP-PRVCY", "(CUI//SP-PRVCY)"),
    ("CUI//SP-CTI//FEDCON", "CUI//SP-CTI//FEDCON", "(CUI//SP-CTI//FEDCON)"),
    ("CUI//PRVCY/SP-EXPT//NOFORN", "CUI//SP-EXPT/PRVCY//NOFORN", "(CUI//SP-EXPT/PRVCY//NF)"),
    ("CUI//SP-CTI//FED ONLY", "CUI//SP-CTI//FED ONLY", "(CUI//SP-CTI//FED ONLY)"),
    ("CUI//SP-CTI//REL TO USA, CAN", "CUI//SP-CTI//REL TO USA, CAN", "(CUI//SP-CTI//REL TO USA, CAN)"),
    ("(CUI//DL ONLY)", "CUI//DL ONLY", "(CUI//DL ONLY)"),
    ("TOP SECRET//SCI//NOFORN", "TOP SECRET//SCI//NOFORN", "(TS//SCI//NF)"),  # legacy records stay readable
]


@pytest.mark.parametrize(("text", "banner", "portion"), VALID)
def test_real_world_markings_parse_and_write_abbreviated_forms(text, banner, portion):
    m = Marking.parse(text)
    assert m.banner() == banner
    assert m.portion() == portion
    assert Marking.parse(banner) == m == Marking.parse(portion)


# (as written, what the message must name)
INVALID = [
    ("SECRET//NOPE", "'NOPE'"),
    ("SECRETISH", "'SECRETISH'"),
    ("(X)", "'X'"),
    ("SECRET//REL TO USA", "REL TO USA alone is NOFORN"),
    ("SECRET//NOFORN/REL TO USA, GBR", "NOFORN and REL TO contradict"),
    ("SECRET//REL TO USA, XXX", "'XXX'"),
    ("SECRET//REL TO GBR, AUS", "USA first"),
    ("(S//REL)", "REL TO USA, GBR"),
    ("SECRET//REL TO", "REL TO USA, GBR, AUS"),
    ("TOP SECRET//SI-Q//NOFORN", "'SI-Q'"),
    ("UNCLASSIFIED//SI", "need a classification"),
    ("UNCLASSIFIED//REL TO USA, GBR", "REL TO needs"),
    ("CUI//SP-NOPE", "'SP-NOPE'"),
    ("SECRET//SP-CTI", "'SP-CTI'"),
    ("CUI//ORCON", "ORCON does not go with CUI"),
    ("SECRET//FEDCON", "FEDCON does not go with SECRET"),
    ("UNCLASSIFIED//FGI", "need a classification"),
    ("SECRET//FGI XYZ", "'XYZ'"),
    ("SECRET//SAR-", "'SAR-'"),
    ("SECRET////NOFORN", "empty category"),
    ("SECRET//NOFORN/", "empty value"),
    ("", "empty marking"),
]


@pytest.mark.parametrize(("text", "named"), INVALID)
def test_bad_markings_are_refused_naming_the_token(text, named):
    with pytest.raises(ValidationError) as err:
        Marking.parse(text)
    assert err.value.field == "marking"
    assert named in str(err.value)


def test_unknown_token_refusal_lists_what_is_known():
    with pytest.raises(ValidationError) as err:
        Marking.parse("SECRET//NOPE")
    msg = str(err.value)
    for known in ("NOFORN (NF)", "SI-G", "REL TO USA", "FVEY", "SP-CTI", "FEDCON", "SAR-"):
        assert known in msg


ROLLUPS = [
    (["(U)", "(C//NF)", "(S)", "(CUI)"], "SECRET//NOFORN"),
    (["(S//REL TO USA, GBR, AUS)", "(C//REL TO USA, GBR)", "(U)"], "SECRET//REL TO USA, GBR"),
    (["(S//REL TO USA, GBR, AUS)", "(C//NF)"], "SECRET//NOFORN"),  # NOFORN wins
    (["(S//REL TO USA, GBR)", "(C//REL TO USA, AUS)"], "SECRET//NOFORN"),  # intersection is USA alone
    (["(S//REL TO USA, GBR)", "(C)"], "SECRET"),  # not every classified portion carries a list
    (["(S//REL TO USA, GBR)", "(U)", "(CUI//SP-CTI)"], "SECRET//REL TO USA, GBR"),  # only classified portions count
    (["(TS//SI-G//NF)", "(S//TK//OC)", "(//GBR S)"], "TOP SECRET//SI-G/TK//FGI GBR//ORCON/NOFORN"),
    (["(S//RELIDO)", "(S)"], "SECRET"),  # RELIDO only if every classified portion has it
    (["(S//REL TO USA, GBR/RELIDO)", "(C//REL TO USA, GBR/RELIDO)"], "SECRET//REL TO USA, GBR/RELIDO"),
    (["(CUI//SP-CTI//FEDCON)", "(CUI//PRVCY)", "(U//FOUO)"], "CUI//SP-CTI/PRVCY//FEDCON"),
    (["(S//NF)", "(CUI//SP-CTI//FEDCON)", "(U//FOUO)"], "SECRET//NOFORN"),  # CUI goes to the CUI block
    (["(S//RD)", "(C//FRD)"], "SECRET//RD"),
    (["(S//SAR-BP)", "(S//SAR-AB)"], "SECRET//SAR-AB/SAR-BP"),
    (["(S//PR)", "(C//NF)"], "SECRET//NOFORN/PROPIN"),
    # organisations of fixed membership stand for their countries (FVEY = AUS, CAN, GBR, NZL, USA)
    (["(S//REL TO USA, FVEY)", "(S//REL TO USA, GBR)"], "SECRET//REL TO USA, GBR"),
    (["(S//REL TO USA, FVEY)", "(C//REL TO USA, ACGU)"], "SECRET//REL TO USA, ACGU"),
    (["(S//REL TO USA, FVEY)", "(S//REL TO USA, AUS, CAN, GBR, NZL)"], "SECRET//REL TO USA, FVEY"),
    (["(S//REL TO USA, FVEY, JPN)", "(C//REL TO USA, GBR, JPN)"], "SECRET//REL TO USA, GBR, JPN"),
    (["(S//REL TO USA, FVEY)", "(S//REL TO USA, NATO)"], "SECRET//NOFORN"),  # NATO's membership is not fixed
    (["(S//REL TO USA, FVEY)", "(S//REL TO USA, DEU)"], "SECRET//NOFORN"),
    # concealed-source FGI hides the named sources in the banner
    (["(//GBR S)", "(//FGI C)"], "SECRET//FGI"),
    (["(//FGI S//NF)", "(U)"], "SECRET//FGI//NOFORN"),
    ([], "UNCLASSIFIED"),
]


@pytest.mark.parametrize(("portions", "banner"), ROLLUPS)
def test_rollup_by_the_register_rules(portions, banner):
    assert rollup(Marking.parse(p) for p in portions).banner() == banner


def test_rolled_up_marking_dominates_each_portion():
    for portions, _ in ROLLUPS:
        ms = [Marking.parse(p) for p in portions]
        overall = rollup(ms)
        assert all(overall.dominates(m) for m in ms), portions


def test_cui_categories_are_collected_for_the_cui_block():
    ms = [Marking.parse("(S//NF)"), Marking.parse("(CUI//SP-CTI)"), Marking.parse("(CUI//PRVCY/SP-EXPT)")]
    assert cui_categories(ms) == ("SP-CTI", "SP-EXPT", "PRVCY")


@pytest.mark.parametrize(("media", "content", "ok"), [
    ("SECRET//NOFORN", "CUI", True),
    ("SECRET//NOFORN", "SECRET//NOFORN", True),
    ("CUI", "SECRET", False),
    ("SECRET", "SECRET//NOFORN", False),
    ("TOP SECRET//SI-G//NOFORN", "TOP SECRET//SI//NOFORN", True),
    ("TOP SECRET//SI//NOFORN", "TOP SECRET//SI-G//NOFORN", False),
    ("TOP SECRET//NOFORN", "TOP SECRET//TK//NOFORN", False),
    ("SECRET//REL TO USA, GBR", "SECRET//REL TO USA, AUS, GBR", True),
    ("SECRET//REL TO USA, AUS, GBR", "SECRET//REL TO USA, GBR", False),
    ("SECRET//REL TO USA, GBR", "SECRET", False),
    ("SECRET//NOFORN", "SECRET//REL TO USA, GBR", True),
    ("SECRET", "SECRET//REL TO USA, GBR", True),
    ("SECRET//NOFORN", "CUI//SP-CTI//FEDCON", True),
    ("SECRET", "CUI//NOFORN", False),
    ("SECRET//RD", "SECRET//FRD", True),
    ("SECRET//FRD", "SECRET//RD", False),
    ("SECRET//REL TO USA, GBR", "UNCLASSIFIED", True),
    ("SECRET//REL TO USA, GBR", "SECRET//REL TO USA, FVEY", True),  # GBR is in FVEY
    ("SECRET//REL TO USA, FVEY", "SECRET//REL TO USA, GBR", False),
    ("SECRET//REL TO USA, FVEY", "SECRET//REL TO USA, AUS, CAN, GBR, NZL", True),
    ("SECRET//REL TO USA, JPN", "SECRET//REL TO USA, FVEY", False),
    ("SECRET//FGI", "SECRET//FGI GBR", True),  # media for FGI of any (concealed) source
    ("SECRET//FGI GBR", "SECRET//FGI", False),  # a concealed source cannot be shown to be GBR
    ("SECRET//FGI GBR", "SECRET//FGI DEU", False),
])
def test_media_rule(media, content, ok):
    assert Marking.parse(media).dominates(Marking.parse(content)) is ok


@pytest.mark.parametrize(("text", "normal"), [
    ("20501231", "20501231"), ("25X1, 20751231", "25X1, 20751231"), ("50x1-hum", "50X1-HUM"),
    ("Completion of the Aurora review", "Completion of the Aurora review"),
])
def test_declassify_on_forms(text, normal):
    assert parse_declassify_on(text) == normal


@pytest.mark.parametrize("text", ["", "20501331", "25X1", "25X1, soon", "99X9", "2050", "soon"])
def test_declassify_on_refusals(text):
    with pytest.raises(ValidationError) as err:
        parse_declassify_on(text)
    assert err.value.field == "declassify_on"


def test_settings_refuse_a_malformed_declassify_on_line(workstation):
    from app.services import workstation as ws_service

    admin = workstation.session("admin")
    with pytest.raises(ValidationError, match="25X1 needs its date"):
        ws_service.update_settings(admin, {"declassify_on": "25X1"})
    assert ws_service.update_settings(admin, {"declassify_on": "25x1, 20751231"}).declassify_on == "25X1, 20751231"


def test_short_rel_portion_form_when_the_list_equals_the_banners():
    """(S//REL) is the register's short portion form where the portion's REL TO list is the banner's."""
    banner = Marking.parse("SECRET//REL TO USA, AUS, GBR")
    same, wider = Marking.parse("(S//REL TO USA, GBR, AUS)"), Marking.parse("(C//REL TO USA, AUS, CAN, GBR)")
    assert same.portion(within=banner) == "(S//REL)"
    assert wider.portion(within=banner) == "(C//REL TO USA, AUS, CAN, GBR)"  # a different list is written out
    assert Marking.parse("(S//NF)").portion(within=banner) == "(S//NF)"
    assert Marking.parse("(S//REL)", within=banner) == same
    assert Marking.parse("(S//REL/RELIDO)", within=banner) == Marking.parse("(S//REL TO USA, AUS, GBR/RELIDO)")
    assert same.portion() == "(S//REL TO USA, AUS, GBR)"  # without the banner: the full list
    with pytest.raises(ValidationError, match="no REL TO list|there is none here"):
        Marking.parse("(S//REL)", within=Marking.parse("SECRET//NOFORN"))
