"""The HR FAQ through the real HTTP endpoint and the fake Bot Connector: threaded answers in a
channel, the not-sure path, escalation to the HR experts and back, feedback, personal chat, and
what the wellbeing lead's report may and may not show."""

from __future__ import annotations

import asyncio
import copy
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import yaml
from sqlmodel import SQLModel, select

from core.faq.models import FaqEntry, FaqEscalation, FaqExpertsChannel, FaqFeedback, FaqQuestion
from core.faq.report import faq_report
from core.faq.search import load_vocabulary
from core.store.outbox import FINAL_STATES, OutboxMessage
from tests.support import activities
from tests.support.activities import TeamsTeam, TeamsUser
from tests.support.cards import card_text

ADMIN = "00000000-0000-0000-0000-0000000000a1"  # roles.admins in the bundled example
HR_ADMIN = "00000000-0000-0000-0000-0000000000b1"  # roles.hr_admins in the bundled example


def actions(card: dict[str, Any]) -> list[dict[str, Any]]:
    """Every Action.* on a card (top level, action sets and select actions)."""
    found: list[dict[str, Any]] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if str(node.get("type", "")).startswith("Action."):
                found.append(node)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(card)
    return found


def button(card: dict[str, Any], title: str) -> dict[str, Any]:
    return next(a for a in actions(card) if a.get("title") == title)


def channel_submit(
    user: TeamsUser, team: TeamsTeam, url: str, thread: str, data: dict[str, Any], channel: str
) -> dict[str, Any]:
    """Action.Submit pressed on a card in a channel thread: a message with `value`, no mention."""
    activity = activities.channel_message(user, team, url, "", mention=False, channel_id=channel)
    activity["conversation"]["id"] = thread
    activity.pop("text", None)
    activity.update(value=copy.deepcopy(data), replyToId="1795458337999")
    return activity


def channel_execute(
    user: TeamsUser, team: TeamsTeam, url: str, thread: str, data: dict[str, Any], channel: str
) -> dict[str, Any]:
    """Action.Execute pressed on a card in a channel: an adaptiveCard/action invoke."""
    activity = channel_submit(user, team, url, thread, {}, channel)
    activity.pop("value")
    activity.update(
        type="invoke",
        name="adaptiveCard/action",
        value={
            "action": {"type": "Action.Execute", "verb": data["command"], "data": data},
            "trigger": "manual",
        },
    )
    return activity


class Channels:
    """A trainers' FAQ channel and an HR experts channel in one team, as Teams sends them."""

    def __init__(self, bot):
        self.bot = bot
        self.team = TeamsTeam(name="HR Policy Trainers")
        self.faq = self.team.thread_id
        self.experts = f"19:experts{uuid.uuid4().hex[:12]}@thread.tacv2"
        self.trainer = TeamsUser(name="Alex Wilber")
        self.expert = TeamsUser(name="Megan Bowen")

    @property
    def url(self) -> str:
        return self.bot.connector.url

    async def ask(self, text: str, user: TeamsUser | None = None, channel: str | None = None):
        """@mention the bot in a new thread; returns (thread id, what came back in the turn)."""
        activity = activities.channel_message(
            user or self.trainer, self.team, self.url, text, channel_id=channel or self.faq
        )
        before = len(self.bot.connector.sent)
        response = await self.bot.post(activity)
        assert response.status == 200
        return activity, self.bot.connector.sent[before:]

    async def press(self, user: TeamsUser, thread: str, data: dict, channel: str | None = None):
        before = len(self.bot.connector.sent)
        activity = channel_submit(user, self.team, self.url, thread, data, channel or self.faq)
        response = await self.bot.post(activity)
        assert response.status == 200
        return self.bot.connector.sent[before:]

    async def register_experts(self) -> None:
        admin = TeamsUser(aad_object_id=ADMIN, name="Ada Admin")
        _, sent = await self.ask("register experts channel", user=admin, channel=self.experts)
        assert "HR experts channel" in sent[0].body["text"]


async def test_a_channel_mention_gets_a_threaded_answer_with_its_confidence(bot):
    rooms = Channels(bot)
    asked, sent = await rooms.ask("adjustments for back pain")
    [reply] = sent
    assert reply.conversation_id == asked["conversation"]["id"]  # the thread, ;messageid=…
    assert reply.body.get("replyToId") == asked["id"]
    card = reply.body["attachments"][0]["content"]
    text = card_text(card)
    assert "back pain or another musculoskeletal problem" in text  # the question it matched
    assert "occupational health" in text.lower()  # the answer
    assert "confident this answers it" in text or "fairly sure this answers it" in text
    titles = [a["title"] for a in actions(card)]
    assert titles == ["Helpful", "Not helpful", "Ask an HR expert"]

    async with bot.services.sessions() as session:
        [question] = (await session.exec(select(FaqQuestion))).all()
    assert question.kind == "channel" and question.outcome == "answered"
    assert question.entry_id == "adjustments-msk" and question.text == "adjustments for back pain"


async def test_an_unsure_answer_offers_the_three_closest_questions_as_buttons(bot):
    rooms = Channels(bot)
    asked, [reply] = await rooms.ask("trigger question")
    card = reply.body["attachments"][0]["content"]
    assert "not sure" in card_text(card)
    offered = [a for a in actions(card) if a["data"]["command"] == "faq.show"]
    assert len(offered) == 3
    assert "why-triggers-removed" in {a["data"]["entry_id"] for a in offered}
    assert button(card, "Ask an HR expert")

    chosen = next(a for a in offered if a["data"]["entry_id"] == "why-triggers-removed")
    [answer] = await rooms.press(rooms.trainer, asked["conversation"]["id"], chosen["data"])
    assert answer.conversation_id == asked["conversation"]["id"]
    answered = answer.body["attachments"][0]["content"]
    assert "Why were the absence triggers removed?" in card_text(answered)
    assert "You chose this" in card_text(answered)
    async with bot.services.sessions() as session:
        [question] = (await session.exec(select(FaqQuestion))).all()
    assert question.outcome == "picked" and question.entry_id == "why-triggers-removed"


async def test_escalation_round_trip_answer_comes_back_in_the_thread_with_a_mention(bot):
    rooms = Channels(bot)
    await rooms.register_experts()
    async with bot.services.sessions() as session:
        registered = await session.get(FaqExpertsChannel, rooms.trainer.tenant_id)
    assert registered.conversation_id == rooms.experts

    asked, [reply] = await rooms.ask("can a welcome back meeting be done over the phone")
    thread = asked["conversation"]["id"]
    card = reply.body["attachments"][0]["content"]
    before = len(bot.connector.sent)
    [ack] = await rooms.press(rooms.trainer, thread, button(card, "Ask an HR expert")["data"])
    assert ack.conversation_id == thread and "asked the HR experts" in ack.body["text"]

    await bot.connector.wait_for(before + 2)  # the card reaches the experts through the outbox
    posted = bot.connector.sent[before + 1]
    assert posted.conversation_id == rooms.experts  # a new post in the experts channel
    expert_card = posted.body["attachments"][0]["content"]
    shown = card_text(expert_card)
    assert "can a welcome back meeting be done over the phone" in shown
    assert "Alex Wilber" in shown and "channel thread" in shown

    # Pressing "Ask an HR expert" again does not post it twice.
    [again] = await rooms.press(rooms.trainer, thread, button(card, "Ask an HR expert")["data"])
    assert "already with the HR experts" in again.body["text"]

    # The experts can see what is waiting.
    _, listed = await rooms.ask("faq open", user=rooms.expert, channel=rooms.experts)
    assert "1 question waiting" in listed[0].body["text"]

    # An expert answers on the card (Action.Execute), adding it to the FAQ with a tidier question.
    send = button(expert_card, "Send answer")
    data = {
        **send["data"],
        "answer": "Yes, if the colleague prefers it. Agree it with them first.",
        "add_to_faq": "true",
        "faq_question": "Can a welcome back conversation be held by phone?",
    }
    expert_thread = f"{rooms.experts};messageid=1795458339000"
    sent_before = len(bot.connector.sent)
    response = await bot.post(
        channel_execute(rooms.expert, rooms.team, rooms.url, expert_thread, data, rooms.experts)
    )
    assert response.status == 200
    replaced = (await response.json())["value"]
    assert "Answered by Megan Bowen" in card_text(replaced)
    assert "Added to the FAQ" in card_text(replaced)

    await bot.connector.wait_for(sent_before + 1)
    [answer] = bot.connector.sent[sent_before:]
    assert answer.conversation_id == thread  # back in the asker's own thread
    assert answer.body["text"].startswith("<at>Alex Wilber</at>")
    [mention] = answer.body["entities"]
    assert mention == {
        "type": "mention",
        "text": "<at>Alex Wilber</at>",
        "mentioned": {"id": rooms.trainer.teams_id, "name": "Alex Wilber"},
    }
    assert "Agree it with them first" in card_text(answer.body["attachments"][0]["content"])

    async with bot.services.sessions() as session:
        [escalation] = (await session.exec(select(FaqEscalation))).all()
        entry = await session.get(FaqEntry, escalation.added_entry_id)
    assert escalation.status == "answered"
    assert escalation.asker_aad is None and escalation.asker_name is None  # forgotten once sent
    assert entry.question == "Can a welcome back conversation be held by phone?"
    assert entry.owner == "HR experts"

    # A second expert pressing Send finds it already answered.
    late = await bot.post(
        channel_execute(TeamsUser(), rooms.team, rooms.url, expert_thread, data, rooms.experts)
    )
    assert late.status == 200
    assert "already been answered" in bot.connector.sent[-1].body["text"]

    # The FAQ now knows the answer.
    _, [known] = await rooms.ask("can a welcome back conversation be held by phone?")
    known_card = known.body["attachments"][0]["content"]
    assert "Agree it with them first" in card_text(known_card)


async def test_not_helpful_in_a_channel_records_the_vote_and_asks_the_experts(bot):
    rooms = Channels(bot)
    await rooms.register_experts()
    asked, [reply] = await rooms.ask("what replaced the return to work interview")
    thread = asked["conversation"]["id"]
    card = reply.body["attachments"][0]["content"]
    before = len(bot.connector.sent)
    [ack] = await rooms.press(rooms.trainer, thread, button(card, "Not helpful")["data"])
    assert "Thanks for telling me" in ack.body["text"] and "HR experts" in ack.body["text"]
    await bot.connector.wait_for(before + 2)
    assert bot.connector.sent[before + 1].conversation_id == rooms.experts

    other = TeamsUser(name="Patti Fernandez")
    [thanks] = await rooms.press(other, thread, button(card, "Helpful")["data"])
    assert "glad" in thanks.body["text"]
    await rooms.press(other, thread, button(card, "Helpful")["data"])  # a double click
    async with bot.services.sessions() as session:
        votes = (await session.exec(select(FaqFeedback))).all()
    assert sorted(v.helpful for v in votes) == [False, True]  # one vote each, no ids stored
    assert all(rooms.trainer.aad_object_id not in v.voter for v in votes)


async def test_without_an_experts_channel_the_asker_is_told_plainly(bot):
    rooms = Channels(bot)
    asked, [reply] = await rooms.ask("what about nights")
    card = reply.body["attachments"][0]["content"]
    [told] = await rooms.press(
        rooms.trainer, asked["conversation"]["id"], button(card, "Ask an HR expert")["data"]
    )
    assert "can't reach the HR experts yet" in told.body["text"]
    async with bot.services.sessions() as session:
        assert (await session.exec(select(FaqEscalation))).all() == []


async def test_only_an_admin_registers_a_standard_experts_channel(bot):
    rooms = Channels(bot)
    _, [refused] = await rooms.ask("register experts channel", channel=rooms.experts)
    assert "Only the bot's admins can use **register experts channel**" in refused.body["text"]

    admin = TeamsUser(aad_object_id=ADMIN, name="Ada Admin")
    private = activities.channel_message(
        admin, rooms.team, rooms.url, "register experts channel", channel_id=rooms.experts
    )
    private["channelData"]["channel"]["type"] = "private"
    await bot.post(private)
    assert "standard channel" in bot.connector.sent[-1].body["text"]

    chat = "19:groupchat-experts@thread.v2"
    await bot.post(
        activities.group_chat_message(admin, rooms.url, chat, "register experts channel")
    )
    assert "not a chat" in bot.connector.sent[-1].body["text"]
    async with bot.services.sessions() as session:
        assert (await session.exec(select(FaqExpertsChannel))).all() == []


async def test_personal_chat_faq_answers_and_nothing_the_person_typed_is_stored(bot):
    user = TeamsUser()
    await bot.install(user)
    [reply] = await bot.say(user, "faq what replaced the return to work interview?")
    card = reply["attachments"][0]["content"]
    assert "welcome-back health review" in card_text(card)

    # A confident policy question without "faq" is answered too, after commands, the dialog in
    # progress and need matching (a question that is also a support need gets the support stage).
    [plain] = await bot.say(user, "Why were the absence triggers removed?")
    assert "cycle of trigger management" in card_text(plain["attachments"][0]["content"])

    # Everyday chat is not mistaken for a policy question.
    [other] = await bot.say(user, "asdf qwerty")
    assert "help" in card_text(other["attachments"][0]["content"]).lower()

    async with bot.services.sessions() as session:
        questions = (await session.exec(select(FaqQuestion))).all()
    assert len(questions) == 2
    assert all(q.kind == "personal" and q.text is None and q.normalised is None for q in questions)


async def test_a_personal_question_reaches_the_experts_only_when_chosen_and_without_a_name(bot):
    rooms = Channels(bot)
    await rooms.register_experts()
    user = TeamsUser(name="Nestor Wilke")
    await bot.install(user)
    [reply] = await bot.say(user, "faq can I carry my leave over if I was off sick")
    card = reply["attachments"][0]["content"]

    before = len(bot.connector.sent)
    await bot.post(
        activities.card_submit(user, bot.connector.url, button(card, "Ask an HR expert")["data"])
    )
    [confirm] = bot.connector.sent[before:]
    confirm_card = confirm.body["attachments"][0]["content"]
    assert "won't see your name" in card_text(confirm_card)
    async with bot.services.sessions() as session:
        assert (await session.exec(select(FaqEscalation))).all() == []  # nothing sent yet

    send = button(confirm_card, "Send to the HR experts")
    edited = {**send["data"], "question_text": "Can leave be carried over after long sickness?"}
    before = len(bot.connector.sent)
    await bot.post(activities.card_submit(user, bot.connector.url, edited))
    await bot.connector.wait_for(before + 2)
    # The card update is the turn's own reply and the post to the experts goes through the
    # outbox, so either may reach the connector first.
    sent = bot.connector.sent[before : before + 2]
    [swapped] = [one for one in sent if one.method == "PUT"]  # the confirm card became "sent"
    [posted] = [one for one in sent if one is not swapped]
    assert posted.conversation_id == rooms.experts
    expert_card = posted.body["attachments"][0]["content"]
    shown = card_text(expert_card)
    assert "Can leave be carried over after long sickness?" in shown
    assert "Nestor" not in shown and "name is not shared" in shown
    assert "carry my leave over" not in shown  # only the words they chose to send

    data = {**button(expert_card, "Send answer")["data"], "answer": "Check your local policy."}
    before = len(bot.connector.sent)
    await bot.post(
        channel_execute(
            rooms.expert, rooms.team, rooms.url, f"{rooms.experts};messageid=1", data, rooms.experts
        )
    )
    await bot.connector.wait_for(before + 1)
    [back] = bot.connector.sent[before:]
    assert back.conversation_id == user.chat_id  # privately, to the person's own chat
    assert "entities" not in back.body
    async with bot.services.sessions() as session:
        [escalation] = (await session.exec(select(FaqEscalation))).all()
    assert escalation.asker_aad is None and escalation.asker_name is None
    assert "carried over" not in escalation.question  # private words are not kept once answered

    # Once every message about it has gone, no table holds the words, or links the asker to
    # them: a sent message keeps its status and times, not what it said.
    for _ in range(100):
        async with bot.services.sessions() as session:
            pending = (
                await session.exec(
                    select(OutboxMessage).where(OutboxMessage.status.not_in(FINAL_STATES))
                )
            ).all()
        if not pending:
            break
        await asyncio.sleep(0.05)
    assert not pending
    async with bot.services.sessions() as session:
        connection = await session.connection()
        for table in SQLModel.metadata.sorted_tables:
            for row in (await connection.execute(table.select())).all():
                held = " ".join(str(value) for value in row if isinstance(value, str))
                for words in ("carried over", "carry my leave", "long sickness"):
                    assert words not in held, f"{table.name} still holds the question"
                if table.name in {"faq_escalation", "faq_question"}:
                    assert user.aad_object_id not in held, table.name


async def test_the_report_counts_and_lists_only_channel_questions_it_could_not_answer(bot):
    rooms = Channels(bot)
    for _ in range(2):
        await rooms.ask("how do I claim mileage for the training day")
    await rooms.ask("what about nights")
    await rooms.ask("adjustments for back pain")
    user = TeamsUser()
    await bot.install(user)
    await bot.say(user, "faq how do I claim mileage for my secret hospital visits")

    async with bot.services.sessions() as session:
        start = datetime(2000, 1, 1, tzinfo=UTC)
        report = await faq_report(session, start, datetime.now(UTC) + timedelta(days=1))
    assert report.asked == 5 and report.asked_privately == 1 and report.asked_in_channels == 4
    assert report.answered + report.unsure + report.picked_suggestion == 5
    top = report.top_unanswered[0]
    assert top.text == "how do I claim mileage for the training day" and top.times == 2
    assert not any("secret" in q.text for q in report.top_unanswered)
    assert report.helpful_rate is None


async def test_a_group_chat_mention_is_answered_in_the_chat(bot):
    user = TeamsUser()
    chat = "19:groupchat-" + user.aad_object_id + "@thread.v2"
    await bot.post(
        activities.group_chat_message(user, bot.connector.url, chat, "what is the DtW charter")
    )
    [sent] = bot.connector.sent
    assert sent.conversation_id == chat
    assert "Dying to Work" in card_text(sent.body["attachments"][0]["content"])


async def test_a_question_about_another_policys_subject_is_offered_not_answered(bot):
    """Pay is another policy's subject: the nearest entry shares the question's other words but
    never mentions pay, so it is offered as unsure; a subject an entry names is still answered."""
    rooms = Channels(bot)
    _, [unsure] = await rooms.ask("Does sick pay drop to half pay after six months off?")
    card = unsure.body["attachments"][0]["content"]
    assert "not sure" in card_text(card)
    assert [a for a in actions(card) if a["data"]["command"] == "faq.show"]

    question = (
        "Can flexible working be a reasonable adjustment for someone with a long term condition?"
    )
    _, [answered] = await rooms.ask(question)
    text = card_text(answered.body["attachments"][0]["content"])
    assert "confident this answers it" in text or "fairly sure this answers it" in text
    async with bot.services.sessions() as session:
        outcomes = [q.outcome for q in (await session.exec(select(FaqQuestion))).all()]
    assert sorted(outcomes) == ["answered", "unsure"]


@pytest.mark.parametrize(
    ("synonyms", "related", "problem"),
    [
        ({"rtw": ["return to work"], "back": ["return to work"]}, {}, "in both"),
        ({"rtw": ["return to work"]}, {"rtw": ["nowhere"]}, "no synonym group"),
        ({"rtw": ["!!"]}, {}, "empty phrase"),
        ({"rtw": ["return to work"]}, {}, "elsewhere names"),
    ],
)
def test_a_broken_vocabulary_file_is_refused_with_the_file_and_the_problem(
    tmp_path, synonyms, related, problem
):
    path = tmp_path / "vocabulary.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "stopwords": "a the",
                "light_words": "need",
                "synonyms": synonyms,
                "related": related,
                **({"elsewhere": ["pay"]} if problem == "elsewhere names" else {}),
            }
        )
    )
    with pytest.raises(ValueError, match=problem) as raised:
        load_vocabulary(path)
    assert str(path) in str(raised.value)
    assert load_vocabulary().synonyms["rtw"][0] == "rtw", "the shipped file loads"


async def test_the_faq_index_is_built_as_the_bot_starts_not_by_the_first_question(make_bot, caplog):
    """Encoding every entry on a fresh database takes seconds: it happens at start, in the
    background, so the first question after a deploy is answered without waiting for it."""
    caplog.set_level("INFO", logger="core.faq.store")
    bot = await make_bot(WELLBEING_FAQ_WARM_START="true")
    for _ in range(1200):
        if "built the FAQ index over" in caplog.text:
            break
        await asyncio.sleep(0.05)
    assert "built the FAQ index over" in caplog.text  # with no question asked
    caplog.clear()
    [reply] = await bot.say(TeamsUser(), "faq what replaced the return to work interview?")
    assert "welcome-back health review" in card_text(reply["attachments"][0]["content"])
    assert "built the FAQ index" not in caplog.text  # the first question found it ready
