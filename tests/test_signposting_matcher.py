"""The need matcher, the phrase language, routing and the `support` config: unit tests."""

from __future__ import annotations

import pytest

from core.config.orgconfig import ConfigError, load_org_config
from core.config.supportconfig import SupportConfig
from core.phrases import PhraseError, compile_phrase, find, within_one_edit, words
from signposting.needs import detect_needs, explain
from signposting.routing import services_for_checkin, services_for_need, services_for_needs


@pytest.fixture(scope="module")
def support() -> SupportConfig:
    return load_org_config().support


def _needs(text: str, support: SupportConfig) -> set[str]:
    return {match.need for match in detect_needs(text, support)}


@pytest.mark.parametrize(
    ("text", "needs"),
    [
        ("the bills keep piling up", {"money"}),
        ("my wrist hurts from typing all day", {"physical_health"}),
        ("we lost my gran on Sunday", {"bereavement_faith"}),
        ("my supervisor and I argue every shift", {"conflict_at_work"}),
        ("I look after my mum who has dementia", {"caring"}),
        ("I need reasonable adjustments for my dyslexia", {"disability_adjustments"}),
        ("completely burnt out", {"stress"}),
        ("going through a divorce", {"relationships_home"}),
        ("is there a chaplain I could speak to", {"bereavement_faith"}),
        ("I just want to talk to someone", {"talk_confidentially"}),
        # lower case, no punctuation, typos and chat spellings
        ("im so stresed out", {"stress"}),
        ("anxeity is bad this week", {"stress"}),
        ("bulied by my collegue", {"conflict_at_work"}),
        ("berevement", {"bereavement_faith"}),
        # several at once
        (
            "I'm exhausted from caring for my mum and the bills are piling up",
            {"stress", "caring", "money"},
        ),
        (
            "my back hurts and my manager won't let me take breaks",
            {"physical_health", "conflict_at_work"},
        ),
        # a named problem crowds out the general wish to talk, and general words
        ("I need to talk to someone about my debts", {"money"}),
        ("so sad since my dad died", {"bereavement_faith"}),
        # negation
        ("I'm not stressed, just bored", set()),
        (
            "not stressed, but I'd like to talk about reasonable adjustments",
            {"disability_adjustments"},
        ),
        ("I'm not worried about money, it's my back that's the problem", {"physical_health"}),
        ("no money worries thankfully", set()),
        ("not sleeping well at all", {"physical_health"}),
        # everyday phrases that only look like needs
        ("my phone died halfway through the shift", set()),
        ("good grief this printer", set()),
        ("my knee has been giving me grief", {"physical_health"}),
        ("had a lovely weekend at the seaside", set()),
        ("I keep getting ill", {"physical_health"}),
        ("what time is the team meeting", set()),
        ("", set()),
    ],
)
def test_needs_are_recognised_in_free_text(support, text, needs):
    assert _needs(text, support) == needs


def test_every_match_says_which_phrase_found_it(support):
    [match] = detect_needs("the bills keep piling up", support)
    assert match.need == "money" and "bills" in match.phrase and not match.weak
    findings = explain("I'm not stressed, but money is tight", support)
    outcomes = {(f.need, f.outcome) for f in findings}
    assert ("stress", "negated") in outcomes and ("money", "counted") in outcomes
    cancelled = [f for f in explain("my phone died", support) if f.need == "bereavement_faith"]
    assert cancelled and cancelled[0].outcome.startswith("cancelled by")


def test_needs_come_in_menu_order(support):
    matches = detect_needs("my manager bullies me and I'm behind on the rent", support)
    assert [m.need for m in matches] == ["money", "conflict_at_work"]


@pytest.mark.parametrize(
    ("phrase", "text", "matched"),
    [
        ("lost my|our dad", "we lost our dad", "lost our dad"),
        ("(passed away|passed on)", "she passed on last week", "passed on"),
        ("[really] stressed", "so stressed", "stressed"),
        ("stress*", "stressful week", "stressful"),
        ("manager .. bully*", "my manager keeps on bullying me", "manager keeps on bullying"),
        ("~bereavement", "bereavment leave", "bereavment"),
    ],
)
def test_the_phrase_language(phrase, text, matched):
    tokens = words(text)
    [span] = find(compile_phrase(phrase), tokens, 6)
    assert " ".join(tokens[span.start : span.end]) == matched


def test_gaps_do_not_cross_a_sentence_and_typos_are_asked_for():
    assert not find(compile_phrase("manager .. bully*"), words("My manager. Bullying"), 6)
    assert not find(compile_phrase("betting"), words("getting"), 6)
    assert find(compile_phrase("~stressed"), words("stresed"), 6)
    assert within_one_edit("anxiety", "anxeity") and not within_one_edit("lonely", "lovely!")


def test_a_wide_gap_finds_both_parts_anywhere_in_order():
    phrase = compile_phrase("(cant do this) ... goodbye")
    assert find(phrase, words("I can't do this anymore. Sorry. Goodbye"), 6)
    assert not find(phrase, words("goodbye! I can't do this"), 6)


def test_a_secondary_feeling_counts_only_when_nothing_else_explains_it(support):
    assert _needs("cant stop crying since the funeral", support) == {"bereavement_faith"}
    assert _needs("i keep crying in the toilets at work", support) == {"stress"}
    assert _needs("i need someone to talk to about my debts", support) == {"money"}
    assert _needs("grandma passed and i need someone to talk to", support) == {
        "bereavement_faith",
        "talk_confidentially",
    }


@pytest.mark.parametrize(
    "phrase",
    ["", "..", "[optional]", "a (b c", "self-harm", "a (b (c))", ".. a", "a ...", "a|", "(a .. b)"],
)
def test_bad_phrases_are_refused_with_a_reason(phrase):
    with pytest.raises(PhraseError):
        compile_phrase(phrase)


def test_words_normalise_contractions_and_chat_spellings():
    assert words("I'll be fine, I can't cope!", {"cannot": "cant"}) == [
        "i",
        "will",
        "be",
        "fine",
        "|",
        "i",
        "cant",
        "cope",
    ]
    assert words("my mum's gone", {}) == ["my", "mum", "gone"]
    assert words("wanna die", {"wanna": "want to"}) == ["want", "to", "die"]


def test_routing_for_needs_and_several_needs(support):
    assert [s.id for s in services_for_need("physical_health", support)] == ["occupational_health"]
    assert [s.id for s in services_for_need("conflict_at_work", support)] == [
        "staff_support_coordinator",
        "speak_up_guardian",
        "staff_support_line",
    ]
    both = services_for_needs(["money", "bereavement_faith"], support)
    assert [s.id for s in both] == ["staff_support_line", "chaplaincy"]
    for need in support.needs:
        assert 1 <= len(services_for_need(need.id, support)) <= 3, need.id


@pytest.mark.parametrize(
    ("mood", "affecting", "pulse", "expected"),
    [
        (1, "work", {}, ["staff_support_coordinator", "staff_support_line"]),
        (2, "mix", {}, ["staff_support_coordinator", "staff_support_line"]),
        (3, "health", {}, ["occupational_health"]),
        (2, "health", {}, ["occupational_health", "staff_support_line"]),
        (3, "personal", {}, ["staff_support_line", "chaplaincy"]),
        (
            4,
            "work",
            {"relationships": "disagree"},
            ["staff_support_coordinator", "speak_up_guardian"],
        ),
        (5, "nothing", {"relationships": "agree"}, []),
        (4, None, {}, []),
    ],
)
def test_check_in_answers_route_to_services(support, mood, affecting, pulse, expected):
    found = services_for_checkin(mood, affecting, pulse, support=support)
    assert [s.id for s in found] == expected


def test_the_shipped_default_has_the_nine_needs_and_urgent_help():
    default = SupportConfig()
    assert [n.id for n in default.needs] == [
        "money",
        "stress",
        "physical_health",
        "bereavement_faith",
        "relationships_home",
        "conflict_at_work",
        "caring",
        "disability_adjustments",
        "talk_confidentially",
    ]
    phones = {s.contact.phone for s in default.of_kind("urgent")}
    assert {"999", "111", "116 123"} <= phones
    assert any("85258" in (s.contact.text_message or "") for s in default.of_kind("urgent"))


URGENT = """
    - {id: samaritans, name: Samaritans, kind: urgent, summary: Talk any time,
       contact: {phone: 116 123}}
"""


@pytest.mark.parametrize(
    ("support_yaml", "expected"),
    [
        (
            "services:"
            + URGENT
            + "    - {id: eap, name: EAP, kind: eap, summary: x, helps_with: [monye]}",
            "support: services[1].helps_with: unknown need 'monye'",
        ),
        (
            "services:" + URGENT + "routing: {needs: {money: [nowhere]}}",
            "support: routing.needs.money: 'nowhere' is neither a service id nor the kind",
        ),
        (
            "services:" + URGENT + "routing: {needs: {cash: [samaritans]}}",
            "support: routing.needs.cash: unknown need 'cash'",
        ),
        (
            "services:" + URGENT + "routing: {checkin: [{mood_at_most: 2, services: [eap]}]}",
            "support: routing.checkin[0].services: 'eap' is neither",
        ),
        (
            "services: [{id: eap, name: EAP, kind: eap, summary: x}]",
            "list at least one service of kind 'urgent'",
        ),
        (
            "services:" + URGENT + "    - {id: x, name: X, kind: gym, summary: x}",
            "support.services[1].kind",
        ),
        (
            "crisis: {phrases: ['kill (myself']}",
            "support.crisis.phrases",
        ),
        (
            "services:"
            + URGENT
            + "    - {id: x, name: X, kind: other, summary: s, contact: {web: ftp://x}}",
            "is not a web address",
        ),
    ],
)
def test_a_bad_support_section_names_the_key(tmp_path, support_yaml, expected):
    path = tmp_path / "org.yaml"
    indented = "\n".join("  " + line for line in support_yaml.strip("\n").split("\n"))
    path.write_text("organisation: {name: X}\nsupport:\n" + indented + "\n")
    with pytest.raises(ConfigError) as error:
        load_org_config(path)
    assert expected in str(error.value)


def test_an_organisation_may_replace_the_rules(tmp_path):
    path = tmp_path / "org.yaml"
    path.write_text(
        "organisation: {name: X}\n"
        "support:\n"
        "  needs:\n"
        "    - {id: money, label: Money, phrases: ['skint|brassic']}\n"
        "  services:\n"
        "    - {id: line, name: Line, kind: urgent, summary: s, helps_with: [money]}\n"
    )
    support = load_org_config(path).support
    assert _needs("totally brassic", support) == {"money"}
    assert _needs("the bills keep piling up", support) == set()
