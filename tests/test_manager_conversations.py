"""What a manager can ask for (prompts, checklist guides) and what they never get: anything about
one person. Every way of asking about someone gets the same polite refusal and nothing else."""

from __future__ import annotations

import json

import pytest

from dialogs.guidance import shipped as guidance
from dialogs.manager import asks_about_a_person
from dialogs.support import CRISIS_WORDING
from tests.support.activities import TeamsUser
from tests.support.cards import cards_of
from tests.test_manager_digest import (
    TUESDAY_OPEN,
    Clock,
    answer,
    close,
    start_team,
    wait_for_digest,
)

pytestmark = pytest.mark.time_sensitive

ABOUT_SOMEONE = (
    "how is Sam doing?",
    "did Priya answer",
    "who is struggling",
    "How's Priya getting on this week",
    "has John checked in yet?",
    "who hasn't answered the check-in",
    "which of my staff are stressed?",
    "has anyone in my team asked for support",
    "did anybody contact the coordinator",
    "what did Ahmed say in his check in",
    "show me individual answers",
    "can you list the names of people who answered",
    "is Mo ok?",
    "is Dr Jones coping",
    "Sarah's mood this week?",
    "tell me who's not ok",
    "has everyone answered",
    "which nurse is off sick with stress",
    "was Chloe referred to occupational health",
    "how is the new starter getting on",
    "how has Member 1 been",
    "who asked for help this week",
    "is anyone struggling",
    "did Tom use the EAP",
    "what was her mood",
    "give me a breakdown person by person",
)
# The learned crisis model takes this for the writer's own risk ("me", "not ok"); see README,
# "How well it recognises needs and crisis". Remove it from here when the model learns better.
CRISIS_MODEL_FALSE_ALARMS = {"tell me who's not ok"}
"""Questions the crisis model takes for risk: urgent help comes first, and still nothing about
anyone."""
NOT_ABOUT_SOMEONE = (
    "how do I hold a welcome back meeting",
    "what is a SMART goal",
    "who can I talk to about my own stress",
    "how are you?",
    "how is my team doing this week",
    "who will see my answers",
    "who is the staff support coordinator",
    "what does the policy say about disability leave",
    "how do I refer someone to occupational health",
    "I feel stressed",
)


@pytest.mark.parametrize("question", ABOUT_SOMEONE)
def test_questions_about_one_person_are_recognised(question):
    assert asks_about_a_person(question)


@pytest.mark.parametrize("question", NOT_ABOUT_SOMEONE)
def test_other_questions_are_left_to_the_rest_of_the_bot(question):
    assert not asks_about_a_person(question)


@pytest.fixture
def clock() -> Clock:
    return Clock(TUESDAY_OPEN)


async def test_a_manager_asking_about_anyone_gets_only_a_polite_refusal(make_bot, org, clock):
    setup = await start_team(make_bot, org, clock, members=7)
    bot, manager, people, cycle = setup.bot, setup.manager, setup.people, setup.cycle
    for user in people[:6]:
        await answer(bot, user, cycle, mood="2", affecting="work", note="a hard week")
    await close(bot, clock, cycle)
    await wait_for_digest(bot, manager)
    for question in (*ABOUT_SOMEONE, "how is Member 3 doing", "did Member 6 answer"):
        replies = await bot.say(manager, question)
        if question in CRISIS_MODEL_FALSE_ALARMS:
            # The crisis check comes first: urgent help, and still nothing about anyone.
            assert cards_of(replies)[0]["body"][0]["text"] in {
                wording[0] for wording in CRISIS_WORDING.values()
            }, question
            assert not any("Member" in json.dumps(r) for r in replies)
            continue
        assert [r.get("text") for r in replies] == [guidance().messages.refusal], question
        assert not any(r.get("attachments") for r in replies)
    assert "Sam" not in guidance().messages.refusal and "Priya" not in guidance().messages.refusal


async def test_guides_are_checklists_and_store_nothing(make_bot, org, clock):
    setup = await start_team(make_bot, org, clock, members=3)
    bot, manager = setup.bot, setup.manager
    expectations = {
        "guide conversation": "How are you, really?",
        "guide welcome back": "What support they've had so far",
        "guide action plan": "Specific: what exactly will change?",
        "guide team stress": "HSE",
    }
    for said, expected in expectations.items():
        [reply] = await bot.say(manager, said)
        card = reply["attachments"][0]["content"]
        text = json.dumps(card, ensure_ascii=False)
        assert expected in text and "\u2610" in text, said
        assert not any(b["type"].startswith("Input.") for b in card["body"])
        assert not card.get("actions")
    plan = json.dumps((await bot.say(manager, "guide action plan"))[0], ensure_ascii=False)
    assert "Reasonable adjustments to consider" in plan and "Time-bound" in plan
    review = json.dumps((await bot.say(manager, "guide welcome back"))[0], ensure_ascii=False)
    assert "What else could help" in review and "Agreed actions" in review
    listing = (await bot.say(manager, "guide"))[0]["attachments"][0]["content"]
    assert [a["data"]["command"] for a in listing["actions"]] == ["guide"] * 4


async def test_prompts_are_fresh_and_name_the_services(make_bot, org, clock):
    setup = await start_team(make_bot, org, clock, members=3)
    bot, manager = setup.bot, setup.manager
    seen = set()
    for _ in range(4):
        card = (await bot.say(manager, "prompts"))[0]["attachments"][0]["content"]
        text = json.dumps(card, ensure_ascii=False)
        assert "How are you, really?" in text and "Occupational Health" in text
        seen.add(text)
    assert len(seen) > 1


async def test_staff_asking_about_a_colleague_are_not_refused_by_the_manager_stage(
    make_bot, org, clock
):
    setup = await start_team(make_bot, org, clock, members=3)
    bot = setup.bot
    replies = await bot.say(TeamsUser(), "how is Sam doing")
    assert guidance().messages.refusal not in [r.get("text") for r in replies]
