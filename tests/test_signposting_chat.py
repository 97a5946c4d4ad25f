"""Finding support through the real endpoint: the menu for every need, needs in free text, the
fallback's way in, channels moved to private, and counts without who."""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import select

from core.store.supportdata import SignpostingCount
from signposting.routing import services_for_need
from tests.support import activities
from tests.support.activities import TeamsTeam, TeamsUser
from tests.support.cards import card_text, cards_of, submits


async def press(bot, user: TeamsUser, data: dict[str, Any]) -> list[dict[str, Any]]:
    """Press a card button (Action.Submit) in the user's personal chat; what came back."""
    before = len(bot.connector.sent)
    response = await bot.post(activities.card_submit(user, bot.connector.url, data))
    assert response.status == 200
    return [s.body for s in bot.connector.sent[before:]]


async def counts(bot) -> dict[tuple[str, str, str], int]:
    async with bot.services.sessions() as session:
        rows = (await session.exec(select(SignpostingCount))).all()
    return {(r.event, r.need_id, r.service_id): r.count for r in rows}


async def test_every_menu_need_leads_to_its_services(bot):
    user = TeamsUser()
    await bot.install(user)
    [menu] = cards_of(await bot.say(user, "support"))
    buttons = [d for d in submits(menu) if d.get("command") == "support need"]
    support = bot.services.org.support
    assert [b["need"] for b in buttons] == [need.id for need in support.needs]
    assert "Money worries" in card_text(menu) and "Your manager is not told" in card_text(menu)

    for button in buttons:
        [card] = cards_of(await press(bot, user, button))
        text = card_text(card)
        expected = services_for_need(button["need"], support)
        assert 1 <= len(expected) <= 3
        for service in expected:
            assert service.name in text, (button["need"], service.id)
            if service.contact.phone:
                assert service.contact.phone in text
        assert "What happens next" in text and "Who will know" in text

    counted = await counts(bot)
    assert counted[("menu_shown", "", "")] == 1
    for need in support.needs:
        assert counted[("need_chosen", need.id, "")] == 1
    assert counted[("service_shown", "physical_health", "occupational_health")] == 1


async def test_the_coordinator_card_offers_a_request_and_links_open_services(bot):
    user = TeamsUser()
    [card] = cards_of(
        await press(bot, user, {"command": "support need", "need": "conflict_at_work"})
    )
    assert {"command": "ask coordinator"} in submits(card)
    urls = [a["url"] for a in _all(card, "Action.OpenUrl")]
    assert "mailto:speakup@example.org" in urls
    assert "https://teams.microsoft.com/l/chat/0/0?users=speakup@example.org" in urls


def _all(card: Any, kind: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    if isinstance(card, dict):
        if card.get("type") == kind:
            found.append(card)
        for value in card.values():
            found += _all(value, kind)
    elif isinstance(card, list):
        for item in card:
            found += _all(item, kind)
    return found


@pytest.mark.parametrize(
    ("said", "labels", "services"),
    [
        ("the bills keep piling up", ["Money worries"], ["Staff Support Line"]),
        ("my wrist hurts from typing all day", ["Physical health"], ["Occupational Health"]),
        ("we lost my gran on Sunday", ["Bereavement"], ["Chaplaincy and Spiritual Care"]),
        (
            "my supervisor and I argue every shift",
            ["Conflict or unfair treatment"],
            ["Staff Support Coordinator", "Freedom to Speak Up Guardian"],
        ),
        (
            "im exhausted from caring for my mum and cant pay the rent",
            ["Money worries", "Stress", "Caring for someone"],
            ["Staff Support Line", "Staff Support Coordinator"],
        ),
        (
            "Not stressed, but I need reasonable adjustments for my dyslexia",
            ["Disability and workplace adjustments"],
            ["Occupational Health"],
        ),
        (
            "I just want to talk to someone in confidence",
            ["talk to someone"],
            ["Staff Support Coordinator"],
        ),
    ],
)
async def test_needs_in_free_text_get_the_matching_services(bot, said, labels, services):
    user = TeamsUser()
    [card] = cards_of(await bot.say(user, said))
    text = card_text(card)
    picked = next(line for line in text.split("\n") if line.startswith("What I picked up"))
    for label in labels:
        assert label in picked
    for service in services:
        assert service in text
    if said.startswith("Not stressed"):
        assert "Stress" not in picked


@pytest.mark.parametrize("said", ["I'm not stressed at all", "what time is the team meeting"])
async def test_no_need_offers_the_menu_never_silence(bot, said):
    user = TeamsUser()
    [fallback] = cards_of(await bot.say(user, said))
    assert {"command": "support"} in submits(fallback)
    [menu] = cards_of(await press(bot, user, {"command": "support"}))
    assert len([d for d in submits(menu) if d.get("command") == "support need"]) == 9


async def test_support_in_a_channel_moves_to_private(bot):
    user, team = TeamsUser(), TeamsTeam()
    activity = activities.channel_message(user, team, bot.connector.url, "support")
    assert (await bot.post(activity)).status == 200
    await bot.connector.wait_for(2)
    in_channel = bot.connector.activities(activity["conversation"]["id"].split(";")[0])
    assert [a.get("text") for a in in_channel] == ["I've sent you a private message."]
    private = [
        s.body
        for s in bot.connector.sent
        if s.conversation_id.split(";")[0] != activity["conversation"]["id"].split(";")[0]
    ]
    menus = [c for c in cards_of(private) if "Find support" in card_text(c)]
    assert menus, "the menu goes to the person's own chat"


async def test_free_text_in_a_channel_is_not_matched_to_needs(bot):
    user, team = TeamsUser(), TeamsTeam()
    activity = activities.channel_message(user, team, bot.connector.url, "the bills keep piling up")
    await bot.post(activity)
    assert not any(
        "Staff Support Line" in card_text(c) for c in cards_of(bot.connector.activities())
    )


async def test_counts_hold_no_one(bot):
    user = TeamsUser()
    await bot.say(user, "the bills keep piling up")
    counted = await counts(bot)
    assert counted[("need_recognised", "money", "")] == 1
    assert counted[("service_shown", "money", "staff_support_line")] == 1
    assert set(SignpostingCount.model_fields) == {"week", "event", "need_id", "service_id", "count"}
    async with bot.services.sessions() as session:
        weeks = (await session.exec(select(SignpostingCount.week))).all()
    assert all(len(week) == 8 and "-W" in week for week in weeks)


async def test_a_need_and_a_policy_question_get_both_answers(bot):
    """The router's stage 4 (docs/architecture.md): the matching services and the FAQ's answer, when both apply."""
    user = TeamsUser()
    replies = await bot.say(user, "how does disability leave work?")
    first, second = (r["attachments"][0]["content"]["body"] for r in replies[:2])
    assert "Disability and workplace adjustments" in first[1]["text"]  # the services
    assert first[0]["text"].startswith("Thank you for telling me")
    assert second[0]["text"] == "What is disability leave?"  # the policy answer
    assert "Disability leave is" in second[1]["text"]


async def test_telling_the_bot_how_things_are_gets_the_services_alone(bot):
    """A statement about oneself is not a policy question, even when the FAQ has an entry on
    the subject (here, the coordinator's service); asking about it gets the policy answer."""
    [card] = cards_of(await bot.say(TeamsUser(), "I just want to talk to someone in confidence"))
    assert "Staff Support Coordinator" in card_text(card)
    asked = cards_of(await bot.say(TeamsUser(), "what does a staff support coordinator do?"))
    assert "What does a staff support coordinator do?" in [c["body"][0]["text"] for c in asked]
