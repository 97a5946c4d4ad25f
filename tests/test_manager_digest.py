"""Manager digests end to end: a cycle closes, its answers are frozen, and each manager of an
enrolled team gets a card in personal chat — figures in words when enough people answered, a
plain 'hidden' statement (with general prompts) when not. Later answers never change it."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlmodel import select

from bot.app import SENDER
from core.config.orgconfig import TeamConfig
from core.privacy.aggregates import band_words
from core.reporting.frozen import FrozenGroup
from core.store.cycles import Cycle
from scheduler import checkins, digests
from tests.support import activities
from tests.support.activities import TeamsTeam, TeamsUser
from tests.support.clock import Clock

pytestmark = pytest.mark.time_sensitive

TUESDAY_OPEN = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> Clock:
    return Clock(TUESDAY_OPEN)


@dataclass
class TeamSetup:
    """A running bot with one enrolled team, its manager, its members and the open cycle."""

    bot: Any
    team: TeamsTeam
    manager: TeamsUser
    people: list[TeamsUser]
    cycle: Cycle


async def start_team(
    make_bot, org, clock, members: int, *, directorate: str = "Acute Medicine"
) -> TeamSetup:
    """A bot with one enrolled team, its manager and members all installed; the cycle open."""
    team = TeamsTeam(name="Ward 7 Nursing")
    manager = TeamsUser(name="Manager Mo")
    people = [TeamsUser(name=f"Member {i}") for i in range(members)]
    config = org.model_copy(
        update={
            "teams": [
                TeamConfig(
                    id=team.aad_group_id,
                    name=team.name,
                    directorate=directorate,
                    managers=[manager.aad_object_id],
                    enrolled=True,
                )
            ]
        }
    )
    bot = await make_bot(clock=clock, org_config=config)
    for user in (manager, *people):
        await bot.install(user)
    await bot.post(activities.team_install(manager, team, bot.connector.url))
    bot.connector.rosters[team.thread_id] = [
        {"id": u.teams_id, "aadObjectId": u.aad_object_id} for u in (manager, *people)
    ]
    await checkins.tick(bot.services, clock.now)
    async with bot.services.sessions() as session:
        cycle = (await session.exec(select(Cycle))).one()
    return TeamSetup(bot, team, manager, people, cycle)


def cycle_card_data(bot, user: TeamsUser, cycle: Cycle) -> dict | None:
    """The data of the cycle's check-in card the person received, if it has arrived."""
    for card in bot.connector.cards(user.chat_id):
        data = card["actions"][0].get("data") or {}
        if data.get("command") == "checkin submit" and data.get("cycle_id") == cycle.id:
            return data
    return None


async def issued_card(bot, user: TeamsUser, cycle: Cycle | None) -> dict:
    """The data of a check-in card the bot issued to the person: the cycle's card they
    received, or else the one `check in` gives them (the open cycle's while they have not
    answered it, an on-demand one otherwise)."""
    data = cycle_card_data(bot, user, cycle) if cycle is not None else None
    if data is None:
        replies = await bot.say(user, "check in")
        [card] = [a["content"] for r in replies for a in r.get("attachments") or []]
        data = card["actions"][0]["data"]
        assert cycle is None or data["cycle_id"] in (None, cycle.id)
    return data


async def answer(
    bot, user: TeamsUser, cycle: Cycle | None, *, card: dict | None = None, **values: str
) -> None:
    """Answer as the person would, on a card the bot issued to them (nothing else counts)."""
    data = card or await issued_card(bot, user, cycle)
    response = await bot.post(
        activities.card_execute(user, bot.connector.url, "checkin.submit", {**data, **values})
    )
    assert response.status == 200
    assert "Thank you" in str(await response.json())


async def close(bot, clock: Clock, cycle: Cycle) -> int:
    """Move past the cycle's close and run the scheduler's tick, as the running bot would."""
    before = len(bot.connector.sent)
    clock.now = cycle.closes_at + timedelta(minutes=1)
    await checkins.tick(bot.services, clock.now)
    bot.server.app[SENDER].wake()
    return before


async def wait_for_digest(bot, manager: TeamsUser) -> dict:
    """The manager's digest card, once the sender has delivered it (sends are asynchronous)."""
    while not digest_cards(bot, manager):
        await bot.connector.wait_for(len(bot.connector.sent) + 1)
    [card] = digest_cards(bot, manager)
    return card


def digest_cards(bot, manager: TeamsUser) -> list[dict]:
    return [
        c
        for c in bot.connector.cards(manager.chat_id)
        if str(c["body"][0].get("text", "")).startswith("Your team:")
    ]


def card_text(card: dict) -> str:
    return json.dumps(card, ensure_ascii=False)


async def test_a_team_above_k_gets_figures_in_words_and_prompts(make_bot, org, clock):
    setup = await start_team(make_bot, org, clock, members=8)
    bot, manager, people, cycle = setup.bot, setup.manager, setup.people, setup.cycle
    pulse = [i.id for i in org.checkin.questions.pulse.for_week(48)]
    for i, user in enumerate(people[:6]):
        values = {"mood": "2" if i < 3 else "4", "affecting": "work"}
        if "demands" in pulse:
            values["pulse_demands"] = "disagree"
        await answer(bot, user, cycle, **values, note=f"private note {i}")
    await answer(bot, manager, cycle, mood="1", affecting="health")  # never in their own digest

    await close(bot, clock, cycle)
    card = await wait_for_digest(bot, manager)
    text = card_text(card)
    assert "Ward 7 Nursing" in text and "Who answered" in text
    assert "most of the team" in text  # 6 of 8 members (the manager is not counted)
    assert "Struggling or low" in text and "about half" in text
    assert "Work (most)" in text
    assert "How are you, really?" in text and "welcome-back health review" in text
    assert "Staff Support Line" in text  # services named from the directory
    assert "private note" not in text and "Member" not in text
    assert not re.search(r"\b[0-9]+ (?:of|people|answered|out)\b", text)  # no counts at all

    async with bot.services.sessions() as session:
        row = (await session.exec(select(FrozenGroup).where(FrozenGroup.kind == "team"))).one()
    assert row.shown and row.respondents == 6 and row.population == 8  # manager excluded
    assert json.loads(row.mood)[0] == 0  # the manager's own "1" is not in it


async def test_a_team_below_k_is_told_results_are_hidden_without_the_count(make_bot, org, clock):
    setup = await start_team(make_bot, org, clock, members=8)
    bot, manager, people, cycle = setup.bot, setup.manager, setup.people, setup.cycle
    for user in people[:4]:
        await answer(bot, user, cycle, mood="1", affecting="work")
    await close(bot, clock, cycle)
    card = await wait_for_digest(bot, manager)
    text = card_text(card)
    assert "hidden this time to protect people's privacy" in text
    assert "Questions for one-to-ones" in text and "How are you, really?" in text
    for word in band_words() - {"some", "most"}:
        assert word not in text
    assert "Who answered" not in text and "Mentioned most often" not in text
    assert "4" not in re.sub(r"2026|\b\d{1,2} November\b", "", text)
    async with bot.services.sessions() as session:
        row = (await session.exec(select(FrozenGroup).where(FrozenGroup.kind == "team"))).one()
    assert not row.shown and row.respondents is None and row.mood is None


async def test_later_answers_never_change_a_digest_already_sent(make_bot, org, clock):
    setup = await start_team(make_bot, org, clock, members=8)
    bot, manager, people, cycle = setup.bot, setup.manager, setup.people, setup.cycle
    for user in people[:6]:
        await answer(bot, user, cycle, mood="4")
    late_card = await issued_card(bot, people[6], cycle)
    await close(bot, clock, cycle)
    sent = await wait_for_digest(bot, manager)

    await answer(bot, people[6], cycle, card=late_card, mood="1")  # too late: kept as on-demand
    await answer(bot, people[7], None, mood="1")
    assert await digests.freeze_and_send(bot.services, cycle.id, clock.now) == 0  # frozen once
    replies = await bot.say(manager, "team")
    again = replies[0]["attachments"][0]["content"]
    assert again["body"] == sent["body"]


async def test_a_cycle_missed_by_a_crash_is_frozen_by_the_catch_up_job(make_bot, org, clock):
    setup = await start_team(make_bot, org, clock, members=6)
    bot, people, cycle = setup.bot, setup.people, setup.cycle
    for user in people:
        await answer(bot, user, cycle, mood="3")
    async with bot.services.sessions() as session:
        row = await session.get(Cycle, cycle.id)
        row.status, row.closed_at = "closed", cycle.closes_at
        session.add(row)
        await session.commit()
    clock.now = cycle.closes_at + timedelta(hours=1)
    assert await digests.catch_up(bot.services, clock.now) == 1
    assert await digests.catch_up(bot.services, clock.now) == 0


async def test_team_for_someone_who_manages_nothing(make_bot, org, clock):
    setup = await start_team(make_bot, org, clock, members=3)
    bot, manager, people = setup.bot, setup.manager, setup.people
    replies = await bot.say(people[0], "team")
    assert "line managers named for each team" in replies[0]["text"]
    replies = await bot.say(manager, "team")
    assert "No summary for Ward 7 Nursing yet" in replies[0]["text"]
