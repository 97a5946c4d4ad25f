"""Privacy as properties, over many generated organisations and answer sets (hypothesis):

- below k, no answer-derived figure appears, whatever the answers;
- at or above k, changing one person's answer changes nothing but aggregate figures;
- no sum or difference of the figures anyone can see isolates fewer than k people, across
  membership churn between cycles, overlapping teams, team versus directorate, and
  total minus the shown groups.
"""

from __future__ import annotations

import itertools
import json
from datetime import date

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.config.orgconfig import load_org_config
from core.privacy.aggregates import (
    DIRECTORATE,
    MIN_K,
    ORGANISATION,
    TEAM,
    GroupSpec,
    Response,
    band_words,
    choose_visible,
    compute_cycle,
    summarise,
)
from dialogs.manager import digest_card

ORG = load_org_config()
QUESTIONS = ORG.checkin.questions
PULSE = [item.id for item in QUESTIONS.pulse.items]
AFFECTING = [o.id for o in QUESTIONS.affecting.options]
DAY = date(2026, 11, 25)
FAST = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _identity(aad: str) -> str:
    return aad


@st.composite
def organisations(draw):
    """People, teams (some overlapping: A and A plus one), directorates, viewers and k."""
    size = draw(st.integers(8, 36))
    people = [f"p{i}" for i in range(size)]
    k = draw(st.integers(MIN_K, 6))
    teams: dict[str, frozenset[str]] = {}
    for t in range(draw(st.integers(1, 4))):
        members = draw(st.sets(st.sampled_from(people), min_size=1, max_size=size))
        teams[f"t{t}"] = frozenset(members)
    if draw(st.booleans()):
        base = teams["t0"]
        extra = draw(st.sampled_from(people))
        teams["t0plus"] = base | {extra}
    directorates: dict[str, frozenset[str]] = {}
    for name in sorted(teams):
        d = draw(st.sampled_from(["d0", "d1"]))
        directorates[d] = directorates.get(d, frozenset()) | teams[name]
    viewers = frozenset(draw(st.sets(st.sampled_from(people), max_size=3)))
    return people, teams, directorates, viewers, k


def _specs(teams, directorates, population_of_org):
    specs = [GroupSpec(TEAM, name, members, len(members)) for name, members in teams.items()]
    specs += [GroupSpec(DIRECTORATE, d, m, len(m)) for d, m in directorates.items()]
    specs.append(GroupSpec(ORGANISATION, ORGANISATION, None, population_of_org))
    return specs


@st.composite
def answers(draw, people):
    chosen = draw(st.sets(st.sampled_from(people), max_size=len(people)))
    return {p: draw(responses(p)) for p in sorted(chosen)}


def responses(pseudonym):
    return st.builds(
        Response,
        st.just(pseudonym),
        st.integers(1, 5),
        st.one_of(st.none(), st.sampled_from(AFFECTING)),
        st.dictionaries(st.sampled_from(PULSE), st.sampled_from(["agree", "unsure", "disagree"])),
    )


def _passes(people, k, viewers) -> bool:
    return len(people) >= k + (1 if people & viewers else 0)


def assert_no_combination_isolates(sets: list[frozenset[str]], k: int, viewers: frozenset[str]):
    """Every sum and difference (coefficients -1, 0, 1) of the visible sets either involves
    nobody or at least k people (k + 1 when a viewer, who knows their own answer, is among them)."""
    sets = sets[:7]
    for coefficients in itertools.product((-1, 0, 1), repeat=len(sets)):
        weight: dict[str, int] = {}
        for c, people in zip(coefficients, sets, strict=True):
            if c:
                for p in people:
                    weight[p] = weight.get(p, 0) + c
        support = frozenset(p for p, w in weight.items() if w)
        assert not support or _passes(support, k, viewers), (coefficients, support)


@FAST
@given(data=st.data())
def test_no_combination_of_visible_figures_singles_anyone_out(data):
    people, teams, directorates, viewers, k = data.draw(organisations())
    first = data.draw(answers(people))
    specs = _specs(teams, directorates, len(people))
    _, shown = compute_cycle(specs, first, k=k, pseudonym=_identity, viewers=viewers)
    assert_no_combination_isolates(list(shown.values()), k, viewers)
    for members in shown.values():
        assert _passes(members, k, viewers)

    # Membership churn: next cycle some people stop or start answering.
    leavers = data.draw(st.sets(st.sampled_from(sorted(first) or people), max_size=3))
    joiners = data.draw(st.sets(st.sampled_from(people), max_size=3))
    second = {p: r for p, r in first.items() if p not in leavers}
    for p in sorted(joiners):
        second[p] = data.draw(responses(p))
    history = {key: [people] for key, people in shown.items()}
    _, shown_again = compute_cycle(
        specs, second, k=k, pseudonym=_identity, viewers=viewers, history=history
    )
    assert_no_combination_isolates(list(shown_again.values()), k, viewers)
    for key, now in shown_again.items():
        if key in shown:  # last cycle's figures for the same group minus this cycle's
            assert_no_combination_isolates([shown[key], now], k, viewers)


@FAST
@given(data=st.data())
def test_below_k_no_answer_derived_figure_appears(data):
    people = [f"p{i}" for i in range(12)]
    k = data.draw(st.integers(MIN_K, 6))
    team = frozenset(people)
    spec = [GroupSpec(TEAM, "t", team, len(team))]
    cards = set()
    for _ in range(3):
        count = data.draw(st.integers(0, k - 1))
        chosen = data.draw(st.permutations(people))[:count]
        given_answers = {p: data.draw(responses(p)) for p in chosen}
        [outcome], shown = compute_cycle(spec, given_answers, k=k, pseudonym=_identity)
        assert outcome.figures is None and not shown
        summary = summarise("Ward 7", DAY, outcome.figures, QUESTIONS)
        card = digest_card(summary, ORG)
        text = json.dumps(card.context, ensure_ascii=False) + card.fallback_text
        assert not any(f'"{word}"' in text for word in band_words())
        cards.add(text)
    assert len(cards) == 1  # the same words whatever was answered, and however many answered


@FAST
@given(data=st.data())
def test_at_or_above_k_one_persons_answer_changes_only_aggregate_figures(data):
    people, teams, directorates, viewers, k = data.draw(organisations())
    first = data.draw(answers(people))
    if not first:
        return
    someone = data.draw(st.sampled_from(sorted(first)))
    changed = {**first, someone: data.draw(responses(someone))}
    specs = _specs(teams, directorates, len(people))
    before, shown_before = compute_cycle(specs, first, k=k, pseudonym=_identity, viewers=viewers)
    after, shown_after = compute_cycle(specs, changed, k=k, pseudonym=_identity, viewers=viewers)
    assert shown_before == shown_after  # who may see what never depends on what was answered
    for a, b in zip(before, after, strict=True):
        assert (a.figures is None) == (b.figures is None)
        if a.figures is None:
            continue
        assert a.figures.respondents == b.figures.respondents >= k
        assert a.figures.population == b.figures.population
        one = summarise(a.key, DAY, a.figures, QUESTIONS)
        two = summarise(b.key, DAY, b.figures, QUESTIONS)
        assert (one.name, one.shown, one.response, one.cycle_date) == (
            two.name,
            two.shown,
            two.response,
            two.cycle_date,
        )
        for summary in (one, two):
            assert all(band in band_words() for _, band in summary.mood)
            assert all(theme.band in band_words() for theme in summary.themes)


# ---- the named cases, as examples ---------------------------------------------------------


def _people(prefix: str, n: int) -> frozenset[str]:
    return frozenset(f"{prefix}{i}" for i in range(n))


def test_churn_of_one_person_hides_the_second_cycle():
    k = 5
    first = _people("a", 6)
    visible = choose_visible({(TEAM, "t"): first}, k=k, populations={(TEAM, "t"): 10})
    assert visible == {(TEAM, "t")}
    joined = first | {"newcomer"}
    history = {(TEAM, "t"): [first]}
    assert not choose_visible(
        {(TEAM, "t"): joined}, k=k, populations={(TEAM, "t"): 10}, history=history
    )
    left = first - {"a0"}
    assert not choose_visible(
        {(TEAM, "t"): left}, k=k, populations={(TEAM, "t"): 10}, history=history
    )
    assert choose_visible({(TEAM, "t"): first}, k=k, populations={(TEAM, "t"): 10}, history=history)
    five_more = first | _people("n", 5)
    assert choose_visible(
        {(TEAM, "t"): five_more}, k=k, populations={(TEAM, "t"): 20}, history=history
    )  # the same people again is fine: only their own answers moved


def test_overlapping_teams_a_and_a_plus_one_never_both_show():
    a = _people("a", 7)
    visible = choose_visible({(TEAM, "A"): a, (TEAM, "A+1"): a | {"x"}}, k=5)
    assert len(visible) == 1


def test_a_small_team_is_not_recoverable_from_its_directorate():
    big, small = _people("b", 8), _people("s", 2)
    groups = {(TEAM, "big"): big, (TEAM, "small"): small, (DIRECTORATE, "D"): big | small}
    visible = choose_visible(groups, k=5)
    assert (TEAM, "big") in visible and (DIRECTORATE, "D") not in visible


def test_total_minus_the_shown_groups_never_leaves_a_few():
    one, two, loose = _people("x", 6), _people("y", 6), _people("z", 2)
    groups = {
        (TEAM, "one"): one,
        (TEAM, "two"): two,
        (ORGANISATION, ORGANISATION): one | two | loose,
    }
    visible = choose_visible(groups, k=5)
    assert (ORGANISATION, ORGANISATION) not in visible and len(visible) == 2
    groups[(ORGANISATION, ORGANISATION)] = one | two | _people("z", 5)
    assert len(choose_visible(groups, k=5)) == 3


def test_a_viewer_among_the_people_needs_one_more():
    five = _people("p", 5)
    assert choose_visible({(TEAM, "t"): five}, k=5)
    assert not choose_visible({(TEAM, "t"): five}, k=5, viewers=frozenset({"p0"}))


def test_a_team_no_bigger_than_k_never_shows_so_everyone_answering_is_never_told():
    five = _people("p", 5)
    assert not choose_visible({(TEAM, "t"): five}, k=5, populations={(TEAM, "t"): 5})
    assert choose_visible({(TEAM, "t"): five}, k=5, populations={(TEAM, "t"): 6})
