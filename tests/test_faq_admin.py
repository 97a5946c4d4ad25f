"""HR admins add, edit and retire FAQ entries from Teams with cards; nobody else can, even by
sending a card's data themselves."""

from __future__ import annotations

from sqlmodel import select

from core.faq.meaning import digest
from core.faq.models import FaqEntry, FaqVector
from tests.support import activities
from tests.support.activities import TeamsUser
from tests.support.cards import card_text
from tests.test_faq import actions, button

HR_ADMIN = "00000000-0000-0000-0000-0000000000b1"  # roles.hr_admins in the bundled example


async def _submit(bot, user: TeamsUser, data: dict) -> list[dict]:
    before = len(bot.connector.sent)
    response = await bot.post(activities.card_submit(user, bot.connector.url, data))
    assert response.status == 200
    return [s.body for s in bot.connector.sent[before:]]


def _card(reply: dict) -> dict:
    return reply["attachments"][0]["content"]


def _inputs(card: dict) -> dict[str, str]:
    return {
        item["id"]: item.get("value", "")
        for item in card["body"]
        if str(item.get("type", "")).startswith("Input.")
    }


async def _entry(bot, entry_id: str) -> FaqEntry | None:
    async with bot.services.sessions() as session:
        return await session.get(FaqEntry, entry_id)


async def _encoded(bot) -> set[str]:
    """Digests of the FAQ texts whose encodings are stored."""
    async with bot.services.sessions() as session:
        return set((await session.exec(select(FaqVector.digest))).all())


async def test_an_hr_admin_adds_an_entry_with_a_card_and_it_is_answered_at_once(bot):
    admin = TeamsUser(aad_object_id=HR_ADMIN, name="Henry HR")
    await bot.install(admin)
    [reply] = await bot.say(admin, "faq add")
    card = _card(reply)
    assert set(_inputs(card)) == {"new_id", "question", "phrasings", "answer", "tags", "owner"}

    data = {
        **button(card, "Save")["data"],
        "new_id": "",
        "question": "Do bank staff get a welcome back conversation?",
        "phrasings": "Welcome back for bank workers\n\nBank staff returning after sickness",
        "answer": "Yes. Everyone returning is welcomed back, **bank staff too**.",
        "tags": "bank staff, welcome back",
        "owner": "HR policy team",
    }
    [saved] = await _submit(bot, admin, data)
    assert "is live now" in card_text(saved)  # the form is swapped for the result
    async with bot.services.sessions() as session:
        [row] = (
            await session.exec(
                select(FaqEntry).where(FaqEntry.question.startswith("Do bank staff"))
            )
        ).all()
    assert row.id == "bank-staff-get-welcome-back-conversation"
    assert row.phrasings == ["Welcome back for bank workers", "Bank staff returning after sickness"]
    assert row.tags == ["bank staff", "welcome back"]

    [answer] = await bot.say(admin, "faq do bank staff get a welcome back conversation")
    assert "bank staff too" in card_text(_card(answer))
    encoded = await _encoded(bot)
    assert digest("Do bank staff get a welcome back conversation?") in encoded
    assert digest("Bank staff returning after sickness") in encoded


async def test_an_hr_admin_edits_then_retires_then_brings_back_an_entry(bot):
    admin = TeamsUser(aad_object_id=HR_ADMIN, name="Henry HR")
    await bot.install(admin)
    [reply] = await bot.say(admin, "faq edit implementation-timeline")
    card = _card(reply)
    fields = _inputs(card)
    assert fields["question"] == "How long does it take to implement the policy?"
    before = await _entry(bot, "implementation-timeline")

    edited = {
        **button(card, "Save")["data"],
        **fields,
        "answer": fields["answer"] + "\n\nOur trust plans for 14 months.",
    }
    [saved] = await _submit(bot, admin, edited)
    assert "is live now" in card_text(saved)
    after = await _entry(bot, "implementation-timeline")
    assert after.revision == before.revision + 1 and "14 months" in after.answer
    await bot.say(admin, "faq how long does the rollout take")
    assert digest("Our trust plans for 14 months.") in await _encoded(bot)

    [confirm] = await bot.say(admin, "faq retire implementation-timeline")
    [retired] = await _submit(bot, admin, button(_card(confirm), "Retire it")["data"])
    assert "won't be offered any more" in card_text(retired)
    assert (await _entry(bot, "implementation-timeline")).retired
    [asked] = await bot.say(admin, "faq how long does it take to implement the policy")
    offered = {a["data"].get("entry_id") for a in actions(_card(asked))}
    assert "implementation-timeline" not in offered
    assert "Our trust plans" not in card_text(_card(asked))
    gone = await _encoded(bot)
    assert digest("Our trust plans for 14 months.") not in gone
    assert digest("How long does it take to implement the policy?") not in gone

    [edit_again] = await bot.say(admin, "faq edit implementation-timeline")
    back = button(_card(edit_again), "Bring this entry back")
    await _submit(bot, admin, back["data"])
    assert not (await _entry(bot, "implementation-timeline")).retired


async def test_an_unknown_id_offers_the_closest_entries(bot):
    admin = TeamsUser(aad_object_id=HR_ADMIN)
    await bot.install(admin)
    [reply] = await bot.say(admin, "faq edit triggers")
    assert "couldn't find" in reply["text"] and "why-triggers-removed" in reply["text"]


async def test_a_bad_save_explains_itself_and_changes_nothing(bot):
    admin = TeamsUser(aad_object_id=HR_ADMIN)
    await bot.install(admin)
    before = await _entry(bot, "dying-to-work") or await _seeded(bot, "dying-to-work")
    [reply] = await _submit(
        bot,
        admin,
        {"command": "faq.save", "entry_id": "dying-to-work", "question": "Q?", "answer": ""},
    )
    assert "couldn't save" in reply["text"] and "answer: is empty" in reply["text"]
    assert await _entry(bot, "dying-to-work") == before


async def _seeded(bot, entry_id: str) -> FaqEntry:
    """Ask something so the FAQ is loaded, then read the entry."""
    user = TeamsUser()
    await bot.say(user, "faq dying to work")
    return await _entry(bot, entry_id)


async def test_someone_who_is_not_an_hr_admin_cannot_change_the_faq(bot):
    person = TeamsUser()
    await bot.install(person)
    before = await _seeded(bot, "dying-to-work")
    for typed in ("faq add", "faq edit dying-to-work", "faq retire dying-to-work"):
        [reply] = await bot.say(person, typed)
        assert "Only HR admins" in reply["text"]
    forged = [
        {
            "command": "faq.save",
            "entry_id": "dying-to-work",
            "question": "Hacked?",
            "answer": "Hacked.",
            "owner": "Me",
        },
        {
            "command": "faq.save",
            "entry_id": "",
            "question": "New?",
            "answer": "New.",
            "owner": "Me",
        },
        {"command": "faq.retire", "entry_id": "dying-to-work", "retired": True},
    ]
    for data in forged:
        [reply] = await _submit(bot, person, data)
        assert "Only HR admins" in reply["text"]
    assert await _entry(bot, "dying-to-work") == before
    async with bot.services.sessions() as session:
        assert (await session.exec(select(FaqEntry).where(FaqEntry.question == "New?"))).all() == []
