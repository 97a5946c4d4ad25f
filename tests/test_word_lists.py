"""Named word lists in the phrase language (`@name`) and the support config's `word_lists`."""

from __future__ import annotations

import pytest

from core.config.orgconfig import ConfigError, load_org_config
from core.config.supportconfig import CRISIS_RULES, NEED_RULES, SupportConfig, shipped_defaults
from core.phrases import (
    PhraseError,
    WordListError,
    compile_phrase,
    expand_lists,
    find,
    word_lists,
    words,
)
from signposting.needs import detect_needs

LISTS = word_lists(
    {
        "meds": "pills|tablets|parac*|~sertraline",
        "means": "pills|a rope",
        "painkillers": "parac*|ibup*",
        "drugs": "@painkillers|insulin",
    }
)


@pytest.mark.parametrize(
    ("phrase", "written_out"),
    [
        ("took @meds", "took pills|tablets|parac*|~sertraline"),
        ("took (@meds)", "took (pills|tablets|parac*|~sertraline)"),
        ("took [my] (@meds|doses)", "took [my] (pills|tablets|parac*|~sertraline|doses)"),
        ("(doses|@meds) .. saved", "(doses|pills|tablets|parac*|~sertraline) .. saved"),
        ("took [@meds]", "took [pills|tablets|parac*|~sertraline]"),
        ("took doses|@meds", "took doses|pills|tablets|parac*|~sertraline"),
        ("@meds & in front of me", "pills|tablets|parac*|~sertraline & in front of me"),
        ("in front of me&(@meds)", "in front of me&(pills|tablets|parac*|~sertraline)"),
        ("got @means", "got (pills|a rope)"),
        ("(@drugs) ... @means", "(parac*|ibup*|insulin) ... (pills|a rope)"),
        ("no lists here", "no lists here"),
    ],
)
def test_a_list_is_written_out_wherever_a_choice_can_stand(phrase, written_out):
    assert expand_lists(phrase, LISTS) == written_out
    compile_phrase(written_out)


def test_a_bare_list_with_a_choice_of_several_words_compiles_like_one_typed_bare():
    bracketed = compile_phrase(expand_lists("got @means", LISTS))
    assert bracketed.elements[1:] == compile_phrase("got (pills|a rope)").elements[1:]
    assert (
        compile_phrase("got (pills|tablets)").elements
        == compile_phrase("got pills|tablets").elements
    )


def test_a_phrase_with_a_list_matches_as_if_the_list_were_typed_in():
    phrase = compile_phrase(expand_lists("took (@meds) & (@means|blades)", LISTS))
    assert find(phrase, words("took 20 paracetamol, the rope is in the shed"), 6) == []
    assert find(phrase, words("took sertaline, have a rope too"), 6)
    assert find(phrase, words("took sertaline"), 6) == []


def test_lists_may_name_lists_and_are_written_one_choice_at_a_time():
    lists = word_lists({"a": "x|@b", "b": "y  z|\n @c", "c": "w*|~word"})
    assert lists == {
        "a": ("x", "y z", "w*", "~word"),
        "b": ("y z", "w*", "~word"),
        "c": ("w*", "~word"),
    }
    assert word_lists({}) == {}


@pytest.mark.parametrize(
    ("definitions", "name", "message"),
    [
        ({"meds": ""}, "meds", "the list is empty"),
        ({"meds": "  "}, "meds", "the list is empty"),
        ({"meds": "pills||tablets"}, "meds", "has an empty choice"),
        ({"meds": "pills|"}, "meds", "has an empty choice"),
        ({"meds": "pills|@meds"}, "meds", "refers to itself (@meds -> @meds)"),
        ({"a": "x|@b", "b": "@a"}, "a", "refers to itself (@a -> @b -> @a)"),
        ({"c": "@a", "a": "@b", "b": "@a|y"}, "a", "refers to itself (@a -> @b -> @a)"),
        ({"meds": "pills|@nope"}, "meds", "no word list is named 'nope' (word lists: meds)"),
        ({"Meds": "pills"}, "Meds", "not a list name"),
        ({1: "pills"}, "1", "not a list name"),
        ({"meds": "self-harm"}, "meds", "letters and digits only"),
        ({"meds": "took @x", "x": "a"}, "meds", "a word list stands for a whole choice"),
        ({"meds": "~@x", "x": "a"}, "meds", "a word list stands for a whole choice"),
        ({"meds": ["pills"]}, "meds", "not a YAML list"),
    ],
)
def test_a_broken_list_is_refused_naming_the_list(definitions, name, message):
    with pytest.raises(WordListError) as error:
        word_lists(definitions)
    assert error.value.name == name
    assert message in str(error.value)


@pytest.mark.parametrize(
    ("phrase", "message"),
    [
        ("took (@nope)", "'@nope' in 'took (@nope)': no word list is named 'nope' (word lists:"),
        ("(took @meds)", "'took @meds' in '(took @meds)': a word list stands for a whole choice"),
        ("took ~@meds", "'~@meds' in 'took ~@meds': a word list stands for a whole choice"),
        ("took @meds*", "'@meds*' in 'took @meds*': a word list stands for a whole choice"),
        ("took @", "'@' in 'took @': a word list stands for a whole choice"),
    ],
)
def test_a_phrase_naming_a_list_wrongly_is_refused_naming_the_list(phrase, message):
    with pytest.raises(PhraseError) as error:
        expand_lists(phrase, LISTS)
    assert message in str(error.value)


def test_a_list_left_unwritten_is_refused_by_the_compiler_with_a_reason():
    with pytest.raises(PhraseError, match="'@meds' is a word list that was not written out"):
        compile_phrase("took @meds")


def test_the_config_writes_lists_out_in_need_and_crisis_phrases_when_it_loads():
    support = SupportConfig.model_validate(
        {
            "needs": [
                {"id": "money", "label": "Money", "phrases": ["(@debts) .. (worry|worried)"]}
            ],
            "crisis": {"serious_phrases": ["(@pills|meds) saved up"]},
            "word_lists": {"debts": "debt|debts|arrears|payday loan*", "pills": "pills|tablets"},
        }
    )
    assert support.needs[0].phrases == ["(debt|debts|arrears|payday loan*) .. (worry|worried)"]
    assert support.crisis.serious_phrases == ["(pills|tablets|meds) saved up"]
    assert [m.need for m in detect_needs("my payday loans have me worried sick", support)] == [
        "money"
    ]


def test_a_loaded_config_round_trips_and_keeps_no_list_unwritten():
    shipped = SupportConfig()
    assert SupportConfig.model_validate(shipped.model_dump()) == shipped
    phrases = [p for need in shipped.needs for f in NEED_RULES for p in getattr(need, f)]
    phrases += [p for f in CRISIS_RULES for p in getattr(shipped.crisis, f)]
    assert phrases and not [p for p in phrases if "@" in p]


@pytest.mark.parametrize(
    ("support_yaml", "expected"),
    [
        ("word_lists: {meds: ''}", "support: word_lists.meds: the list is empty"),
        (
            "word_lists: {meds: 'pills|@meds'}",
            "support: word_lists.meds: the list refers to itself (@meds -> @meds)",
        ),
        (
            "word_lists: {medicines: 'pills|@nope'}",
            "support: word_lists.medicines: '@nope': no word list is named 'nope'",
        ),
        ("word_lists: [pills]", "support: word_lists: name each list and give its words"),
        (
            "needs: [{id: money, label: Money, phrases: ['debt', 'took (@nope)']}]",
            "support: needs[0].phrases[1]: '@nope' in 'took (@nope)': no word list is named",
        ),
        (
            "crisis: {serious_phrases: ['(@medicine) saved up']}",
            "support: crisis.serious_phrases[0]: '@medicine' in '(@medicine) saved up': no word "
            "list is named 'medicine'",
        ),
    ],
)
def test_a_bad_word_list_in_an_organisation_config_names_the_list_and_the_rule(
    tmp_path, support_yaml, expected
):
    path = tmp_path / "org.yaml"
    path.write_text(f"organisation: {{name: X}}\nsupport:\n  {support_yaml}\n")
    with pytest.raises(ConfigError) as error:
        load_org_config(path)
    assert expected in str(error.value)


# The shipped word lists (core/data/support-defaults.yaml).


def test_the_shipped_lists_apply_to_an_organisations_own_phrases():
    support = SupportConfig.model_validate(
        {"crisis": {"serious_phrases": ["saved up (@medicines)"]}}
    )
    [serious] = support.crisis.serious_phrases
    assert serious.startswith("saved up (tablet|tablets|") and "|naproxen|" in serious
    assert "medicines" in support.word_lists


def test_an_organisations_list_replaces_the_shipped_one_in_the_shipped_phrases_too():
    shipped = SupportConfig()
    assert any("|naproxen|" in phrase for phrase in shipped.crisis.medicine_talk)
    support = SupportConfig.model_validate({"word_lists": {"medicines": "tablets|fentanyl"}})
    assert support.word_lists["medicines"] == "tablets|fentanyl"
    assert support.word_lists["abuser"] == shipped.word_lists["abuser"]
    assert not any("naproxen" in phrase for phrase in support.crisis.medicine_talk)
    assert "(took|taken|take|taking|had|have) my (tablets|fentanyl)" in support.crisis.medicine_talk
    assert support.crisis.harm_phrases == shipped.crisis.harm_phrases


def test_every_shipped_list_is_named_somewhere():
    """A list no phrase names any more is a list someone will edit in vain."""
    raw = shipped_defaults()
    written = [p for need in raw["needs"] for f in NEED_RULES for p in need.get(f, [])]
    written += [p for f in CRISIS_RULES for p in raw["crisis"].get(f, [])]
    written += list(raw["word_lists"].values())
    named = " ".join(written)
    unused = [name for name in raw["word_lists"] if f"@{name}" not in named]
    assert unused == []
