"""Install -> welcome -> help, through the real HTTP endpoint and the fake Bot Connector."""

from __future__ import annotations

from sqlmodel import select

from core.store.models import Conversation, Participation, Person, Team, TeamMember
from tests.support import activities
from tests.support.activities import TeamsTeam, TeamsUser
from tests.support.cards import card_text


async def test_personal_install_welcomes_once_and_stores_the_reference(bot):
    user = TeamsUser()
    sent = await bot.install(user)
    assert len(sent) == 1
    welcome = sent[0]["attachments"][0]["content"]
    text = card_text(welcome)
    assert bot.services.org.organisation.name in text
    assert "Your manager never sees your answers" in text
    assert "Nobody reads this chat" in text
    assert "116 123" in text  # where urgent help is
    assert "pause" in text and "stop" in text and "help" in text
    assert welcome["fallbackText"]

    # Teams also sends conversationUpdate for the same install: no second welcome.
    again = activities.personal_install(user, bot.connector.url)
    again.update(type="conversationUpdate", membersAdded=[{"id": activities.BOT_ID}])
    again.pop("action")
    assert (await bot.post(again)).status == 200
    assert len(bot.connector.sent) == 1

    async with bot.services.sessions() as session:
        person = await session.get(Person, user.aad_object_id)
        conversation = await session.get(Conversation, user.chat_id)
    assert person.personal_installed and person.personal_conversation_id == user.chat_id
    assert person.time_zone == "Europe/London" and person.tenant_id == user.tenant_id
    assert conversation.kind == "personal" and conversation.service_url == bot.connector.url
    assert conversation.aad_object_id == user.aad_object_id


async def test_help_lists_commands_and_a_card_button_works_the_same(bot):
    user = TeamsUser()
    await bot.install(user)
    typed = await bot.say(user, "Help!")
    card = typed[0]["attachments"][0]["content"]
    listed = {fact["title"] for fact in card["body"][1]["facts"]}
    assert {"help", "pause [weeks]", "stop", "privacy", "support", "urgent help"} <= listed

    before = len(bot.connector.sent)
    response = await bot.post(activities.card_submit(user, bot.connector.url, {"command": "help"}))
    assert response.status == 200
    assert bot.connector.sent[before].body["attachments"][0]["content"] == card


async def test_unknown_text_gets_a_kind_pointer_never_silence(bot):
    user = TeamsUser()
    replies = await bot.say(user, "asdf qwerty")
    assert len(replies) == 1
    assert "help" in card_text(replies[0]["attachments"][0]["content"]).lower()


async def test_uninstall_forgets_the_chat_and_counts_as_stop(bot):
    user = TeamsUser()
    await bot.install(user)
    response = await bot.post(activities.personal_install(user, bot.connector.url, action="remove"))
    assert response.status == 200
    async with bot.services.sessions() as session:
        person = await session.get(Person, user.aad_object_id)
        assert await session.get(Conversation, user.chat_id) is None
        participation = await session.get(Participation, user.aad_object_id)
    assert not person.personal_installed and person.personal_conversation_id is None
    assert participation.status == "stopped"


async def test_team_install_and_membership_changes_are_stored_without_welcome(bot):
    admin, joiner = TeamsUser(), TeamsUser(name="Megan Bowen")
    team = TeamsTeam()
    url = bot.connector.url
    assert (await bot.post(activities.team_install(admin, team, url))).status == 200
    assert (
        await bot.post(activities.team_members_changed(admin, team, url, added=[joiner]))
    ).status == 200
    async with bot.services.sessions() as session:
        stored = await session.get(Team, team.thread_id)
        members = (await session.exec(select(TeamMember.aad_object_id))).all()
        channel = await session.get(Conversation, team.thread_id)
    assert stored.aad_group_id == team.aad_group_id and stored.name == team.name
    assert members == [joiner.aad_object_id]
    assert channel.kind == "channel" and channel.team_id == team.thread_id
    assert bot.connector.sent == []

    await bot.post(activities.team_members_changed(admin, team, url, removed=[joiner]))
    async with bot.services.sessions() as session:
        assert (await session.exec(select(TeamMember))).all() == []

    await bot.post(activities.team_install(admin, team, url, action="remove"))
    async with bot.services.sessions() as session:
        assert await session.get(Team, team.thread_id) is None
        assert await session.get(Conversation, team.thread_id) is None


async def test_recorded_simulator_activities_are_all_accepted(bot):
    """Every activity Microsoft's simulator recorded is handled (the shapes are the contract)."""
    for name in sorted(p.name for p in activities.FIXTURES.glob("*.json")):
        activity = activities.fixture(name)
        activity["serviceUrl"] = bot.connector.url
        response = await bot.post(activity)
        assert response.status == 200, name
    texts = [t.lower() for t in bot.connector.texts()]
    cards = bot.connector.cards()
    assert cards, "the personal install should have been welcomed"
    assert not any("went wrong" in t for t in texts)


HR_ADMIN = "00000000-0000-0000-0000-0000000000b1"  # roles.hr_admins in the bundled example


def _facts(replies: list[dict]) -> list[str]:
    return [fact["title"] for fact in replies[0]["attachments"][0]["content"]["body"][1]["facts"]]


async def test_staff_help_is_short_with_support_first_and_more_for_the_rest(bot):
    user = TeamsUser()
    short = _facts(await bot.say(user, "help"))
    assert 6 <= len(short) <= 8
    assert short[:2] == ["support", "urgent help"]
    assert not {"team", "report [MONTH]", "faq add", "faq open", "yes delete my data"} & set(short)
    card = (await bot.say(user, "help"))[0]["attachments"][0]["content"]
    more_button = next(a["data"] for a in card["actions"] if a["title"] == "More")
    before = len(bot.connector.sent)
    await bot.post(activities.card_submit(user, bot.connector.url, more_button))
    full = _facts([s.body for s in bot.connector.sent[before:]])
    assert full == _facts(await bot.say(user, "help more"))
    assert {"resume", "start", "export my data", "delete my data"} <= set(full)
    assert not {"team", "faq add", "yes delete my data"} & set(full)


async def test_a_role_sees_its_own_commands_in_help(bot):
    admin = TeamsUser(aad_object_id=HR_ADMIN)
    listed = _facts(await bot.say(admin, "help"))
    assert listed[:2] == ["support", "urgent help"]
    assert {"faq add", "faq edit ID", "faq retire ID", "faq open"} <= set(listed)
    assert "team" not in listed
