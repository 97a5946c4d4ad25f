"""The HR FAQ in Teams: policy questions answered in channels, group chats and personal chat,
Helpful / Not helpful, escalation to the HR experts and their answers back to the asker, and the
HR admins' add / edit / retire cards. The flow is drawn in dialogs/faq.mmd.

Privacy: a personal-chat question is counted but its words are never stored, and it reaches the
experts only when the person chooses, without their name. Channel questions are already visible
to the channel, so their words are kept for the wellbeing lead's "most asked" list.
"""

from __future__ import annotations

import logging
import re
from datetime import date, datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

from pydantic import ValidationError
from sqlmodel.ext.asyncio.session import AsyncSession

from core.context import Turn
from core.events import Card, ChannelPost, Mention, PersonalChat, Reply
from core.faq import store
from core.faq.io import EntryData, describe_errors, save_entries
from core.faq.models import (
    ANSWERED,
    ASKED_IN_PERSONAL,
    UNSURE,
    FaqEscalation,
)
from core.store.directory import conversation_known, team_of_conversation, teams_user_id
from core.store.outbox import enqueue_reply
from dialogs.commands import Command

log = logging.getLogger(__name__)

Mode = Literal["shared", "command", "chat"]
BOTH = frozenset({"personal", "channel"})
PERSONAL = frozenset({"personal"})
CHANNEL = frozenset({"channel"})
OPEN_CARDS_SHOWN = 3
EXPERT_OWNER = "HR experts"

NO_EXPERTS = (
    "I can't reach the HR experts yet: nobody has set up their channel. Please ask your HR team "
    "directly, and let an admin know (they can say **register experts channel** in it)."
)


class _BadCard(ValueError):
    """A card submit without the fields its button always sends (an old or altered card)."""


# --- small helpers ------------------------------------------------------------------------------


def _split_thread(conversation_id: str) -> tuple[str, str | None]:
    """'19:abc@thread.tacv2;messageid=123' -> ('19:abc@thread.tacv2', '123')."""
    base, _, thread = conversation_id.partition(";messageid=")
    return base, thread or None


def _today(turn: Turn) -> date:
    return turn.now.astimezone(ZoneInfo(turn.services.org.organisation.timezone)).date()


def _long_date(day: date) -> str:
    return f"{day.day} {day:%B %Y}"


def _value(turn: Turn) -> dict[str, Any]:
    return turn.event.value or {}


def _int(turn: Turn, key: str) -> int:
    try:
        return int(_value(turn)[key])
    except (KeyError, TypeError, ValueError) as error:
        raise _BadCard(key) from error


def _text(turn: Turn, key: str) -> str:
    value = _value(turn).get(key)
    return value.strip() if isinstance(value, str) else ""


def _typed_argument(turn: Turn, words: int, fallback: str) -> str:
    """What followed a typed command in the person's own spelling (the command table hands over
    a normalised copy, without capitals, punctuation or hyphens)."""
    parts = turn.event.text.strip().split(maxsplit=words)
    return parts[words].strip() if len(parts) > words else fallback


def _safe_name(name: str) -> str:
    """A display name that cannot break the <at>…</at> markup."""
    return re.sub(r"[<>&]", "", name).strip() or "there"


def _sureness(confidence: float, turn: Turn) -> str:
    if confidence >= turn.services.org.faq.sure_at:
        return "I'm confident this answers it."
    return "I'm fairly sure this answers it."


# --- answering ---------------------------------------------------------------------------------


def _answer_reply(entry: EntryData, sureness: str, question_id: int, private_text: str) -> Reply:
    """The answer card: the question it matched, the answer, how sure, and what to do next."""
    provenance = (
        f"From the FAQ, kept by {entry.owner}, last reviewed {_long_date(entry.last_reviewed)}."
    )
    return Reply(
        card=Card(
            "faq_answer",
            {
                "matched_question": entry.question,
                "answer": entry.answer,
                "provenance": provenance,
                "sureness": sureness,
                "question_id": question_id,
                "question": private_text,
            },
            fallback_text=f"{entry.question}\n\n{entry.answer}\n\n{sureness}",
        )
    )


def _unsure_reply(suggestions: list[EntryData], question_id: int, private_text: str) -> Reply:
    """Not sure: say so, offer the closest questions as buttons, and the experts."""
    if suggestions:
        intro = (
            "I'm not sure I have the answer to that. These are the closest questions I know: "
            "choose one to see its answer, or ask an HR expert."
        )
        fallback = intro + "\n\n" + "\n".join(f"- {e.question}" for e in suggestions)
    else:
        intro = "I don't have anything on that in the FAQ yet. An HR expert can answer it."
        fallback = intro
    return Reply(
        card=Card(
            "faq_unsure",
            {
                "intro": intro,
                "suggestions": [{"entry_id": e.id, "question": e.question} for e in suggestions],
                "question_id": question_id,
                "question": private_text,
            },
            fallback_text=fallback,
        )
    )


async def answer(turn: Turn, text: str, *, mode: Mode) -> list[Reply] | None:
    """Answer a policy question from the FAQ.

    `shared` (an @mention in a channel or group chat) and `command` (`faq …`) always reply: the
    answer when the bot is sure enough, otherwise the closest questions. `chat` (free text in a
    personal chat) replies only when it is confident, and returns None otherwise, so a support
    stage may call it and combine its replies with its own ("both, when both apply")."""
    config = turn.services.org.faq
    knowledge = await store.knowledge(turn.services.sessions, turn.now)
    ranking = knowledge.index.rank(text, k=config.suggestions)
    if mode == "chat" and ranking.confidence < config.sure_at:
        return None
    outcome = ANSWERED if ranking.confidence >= config.answer_at else UNSURE
    async with turn.services.sessions() as session:
        question = await store.record_question(
            session,
            tenant_id=turn.event.tenant_id,
            kind=turn.event.conversation_kind,
            text=text,
            entry_id=ranking.top.entry_id if ranking.top else None,
            confidence=ranking.confidence,
            outcome=outcome,
            now=turn.now,
        )
        await session.commit()
    log.info("faq question (%s, %s): %s", turn.event.conversation_kind, mode, outcome)
    private_text = text if turn.event.personal else ""
    if outcome == ANSWERED:
        entry = knowledge.entries[ranking.top.entry_id]
        return [
            _answer_reply(entry, _sureness(ranking.confidence, turn), question.id, private_text)
        ]
    suggestions = [knowledge.entries[hit.entry_id] for hit in ranking.hits]
    return [_unsure_reply(suggestions, question.id, private_text)]


async def closest_questions(turn: Turn, text: str) -> list[dict[str, Any]]:
    """The FAQ questions nearest a message, as buttons that show their answers (for the
    fallback: never a dead end). Nothing is recorded: the person has not asked the FAQ."""
    knowledge = await store.knowledge(turn.services.sessions, turn.now)
    ranking = knowledge.index.rank(text, k=turn.services.org.faq.suggestions)
    return [
        {
            "title": knowledge.entries[hit.entry_id].question,
            "data": {"command": SHOW.name, "entry_id": hit.entry_id, "question_id": 0},
        }
        for hit in ranking.hits
    ]


async def policy_question_stage(turn: Turn) -> list[Reply] | None:
    """Personal chat, after commands, the dialog in progress and need matching: a question the
    FAQ answers confidently is answered; anything else passes on."""
    if not turn.event.personal or turn.event.value or not turn.event.text.strip():
        return None
    return await answer(turn, turn.event.text.strip(), mode="chat")


async def channel_stage(turn: Turn) -> list[Reply] | None:
    """Channels and group chats, after crisis and commands: every @mention is a policy question
    (no need matching here, so "adjustments for back pain" gets the policy's answer)."""
    if turn.event.personal or turn.event.value:
        return None
    text = turn.event.text.strip()
    if not re.search(r"\w", text):
        return [
            Reply(
                text="Hello! @mention me with a question about the Wellbeing and Attendance "
                "Management policy and I'll answer here. Say **help** to see what else I can do."
            )
        ]
    return await answer(turn, text, mode="shared")


async def _faq(turn: Turn, argument: str) -> list[Reply]:
    question = _typed_argument(turn, 1, argument)
    if not argument.strip():
        return [
            Reply(
                text="Ask me a policy question after **faq**, for example: "
                "**faq what replaced the return to work interview?**"
            )
        ]
    return await answer(turn, question, mode="command") or []


async def _show(turn: Turn, _argument: str) -> list[Reply]:
    """A closest question was chosen: answer it, and count the question as answered that way."""
    try:
        question_id = _int(turn, "question_id")
    except _BadCard:
        return [Reply(text="Sorry, that button is from an old card. Please ask again.")]
    entry_id = _text(turn, "entry_id")
    knowledge = await store.knowledge(turn.services.sessions, turn.now)
    entry = knowledge.entries.get(entry_id)
    if entry is None or entry.retired:
        return [Reply(text="That question isn't in the FAQ any more. Please ask again.")]
    async with turn.services.sessions() as session:
        await store.record_pick(session, question_id, turn.event.tenant_id, entry.id)
        await session.commit()
    sureness = "You chose this from the closest questions."
    private_text = _text(turn, "question") if turn.event.personal else ""
    return [_answer_reply(entry, sureness, question_id, private_text)]


# --- feedback and escalation -------------------------------------------------------------------


async def _feedback(turn: Turn, _argument: str) -> list[Reply]:
    """Helpful / Not helpful: one vote per person per answer; "not helpful" offers the experts."""
    try:
        question_id = _int(turn, "question_id")
    except _BadCard:
        return [Reply(text="Thanks for telling me.")]
    helpful = _value(turn).get("helpful") in (True, "true")
    async with turn.services.sessions() as session:
        if await store.asked_question(session, question_id, turn.event.tenant_id) is None:
            return [Reply(text="Thanks for telling me.")]
        if turn.event.user_id:
            voter = store.voter_key(
                turn.services.secrets.pseudonym(turn.event.user_id), question_id
            )
            await store.record_vote(session, question_id, voter, helpful, turn.now)
            await session.commit()
    log.info("faq feedback: %s", "helpful" if helpful else "not helpful")
    if helpful:
        return [Reply(text="Thanks, I'm glad that helped.")]
    if turn.event.personal:
        return [Reply(text="Thanks for telling me."), _confirm_card(question_id, turn)]
    return await _escalate(turn, question_id, None, lead="Thanks for telling me. ")


def _confirm_card(question_id: int, turn: Turn) -> Reply:
    """Personal chat: the person sees and can edit exactly what the experts will see."""
    question = _text(turn, "question")
    return Reply(
        card=Card(
            "faq_confirm_escalation",
            {"question_id": question_id, "question": question},
            fallback_text="I can send your question to the HR experts without your name.",
        )
    )


async def _ask_expert(turn: Turn, _argument: str) -> list[Reply]:
    try:
        question_id = _int(turn, "question_id")
    except _BadCard:
        return [Reply(text="Sorry, that button is from an old card. Please ask again.")]
    if turn.event.personal:
        return [_confirm_card(question_id, turn)]
    return await _escalate(turn, question_id, None)


async def _send_to_expert(turn: Turn, _argument: str) -> list[Reply]:
    """Personal chat: the person confirmed; the experts get the words they chose, no name."""
    try:
        question_id = _int(turn, "question_id")
    except _BadCard:
        return [Reply(text="Sorry, that button is from an old card. Please ask again.")]
    text = _text(turn, "question_text")
    if not text:
        return [Reply(text="Please write your question on the card before sending it.")]
    return await _escalate(turn, question_id, text[:1000])


def _origin(kind: str, name: str | None) -> str:
    who = name or "someone"
    if kind == ASKED_IN_PERSONAL:
        return (
            "Asked in a private chat. The person's name is not shared with you; your answer "
            "goes back to them privately."
        )
    if kind == "groupChat":
        return f"Asked by {who} in a group chat. Your answer goes back to that chat."
    return f"Asked by {who} in a channel thread. Your answer goes back to that thread."


async def _escalate(turn: Turn, question_id: int, text: str | None, lead: str = "") -> list[Reply]:
    """Post a question to the HR experts channel as an answerable card (through the outbox, in
    the same transaction as the escalation), once per question."""
    event = turn.event
    knowledge = await store.knowledge(turn.services.sessions, turn.now)
    async with turn.services.sessions() as session:
        experts = await store.experts_channel(
            session, event.tenant_id, turn.services.org.roles.hr_experts_channel
        )
        if experts is None or not await conversation_known(session, experts):
            log.warning(
                "faq escalation not sent: the experts channel is %s",
                "not known to the bot yet" if experts else "not set up",
            )
            return [Reply(text=lead + NO_EXPERTS)]
        question = await store.asked_question(session, question_id, event.tenant_id)
        if question is None:
            return [Reply(text="I couldn't find that question any more. Please ask it again.")]
        already = await store.escalation_of(session, question_id)
        if already is not None:
            return [Reply(text=lead + _already_sent(already))]
        shared = question.kind != ASKED_IN_PERSONAL
        body = question.text if shared else text
        if not body:
            return [Reply(text="Please tell me the question you'd like to send.")]
        mention_id = (
            await teams_user_id(session, event.user_id) if shared and event.user_id else None
        )
        base, thread = _split_thread(event.conversation_id)
        kind, closest_id = question.kind, question.entry_id
        escalation = await store.escalate(
            session,
            question,
            body=body,
            asker_aad=event.user_id,
            asker_teams_id=mention_id,
            asker_name=event.user_name if shared else None,
            reply_conversation_id=base if shared else None,
            reply_thread_id=thread if shared else None,
            now=turn.now,
        )
        if escalation is None:  # two presses at once: the other one got there first
            return [Reply(text=lead + "That question is already with the HR experts.")]
        closest = knowledge.entries.get(closest_id or "")
        card = _expert_card(escalation, closest.question if closest else "")
        await enqueue_reply(
            session,
            event.tenant_id,
            Reply(card=card, to=ChannelPost(experts), purpose="faq-escalation"),
            dedupe_key=f"faq-escalation:{escalation.id}",
            now=turn.now,
        )
        await session.commit()
    turn.services.wake_sender()
    log.info("faq question escalated from a %s conversation", kind)
    if not shared:
        return [
            Reply(
                card=Card(
                    "faq_notice",
                    {
                        "title": "Sent to the HR experts",
                        "message": "I've sent your question without your name. I'll message you "
                        "here when they answer.",
                    },
                    fallback_text="Sent to the HR experts without your name.",
                ),
                replaces_card=_value(turn).get("command") == "faq.send_to_expert",
            )
        ]
    where = "in this thread" if thread else "here"
    return [Reply(text=lead + f"I've asked the HR experts. I'll reply {where} when they answer.")]


def _already_sent(escalation: FaqEscalation) -> str:
    if escalation.answer:
        return "An HR expert has already answered that question."
    return "That question is already with the HR experts. I'll pass on their answer."


def _expert_card(escalation: FaqEscalation, closest: str) -> Card:
    private = escalation.kind == ASKED_IN_PERSONAL
    label = (
        "Question as it should appear in the FAQ (edit it first, and take out anything personal)"
        if private
        else "Question as it should appear in the FAQ (edit it first if you like)"
    )
    return Card(
        "faq_escalation",
        {
            "escalation_id": escalation.id,
            "question": escalation.question,
            "origin": _origin(escalation.kind, escalation.asker_name),
            "closest": closest,
            "faq_question": escalation.question,
            "faq_question_label": label,
        },
        fallback_text=f"A question for the HR experts: {escalation.question}",
    )


def _answer_back(escalation: FaqEscalation) -> Reply | None:
    """The expert's answer, addressed to whoever asked: an @mention in their thread, or their
    personal chat."""
    card = Card(
        "faq_expert_answer",
        {"question": escalation.question, "answer": escalation.answer or ""},
        fallback_text=f"An HR expert answered: {escalation.answer}",
    )
    if escalation.kind == ASKED_IN_PERSONAL:
        if not escalation.asker_aad:
            return None
        return Reply(
            text="An HR expert has answered the question you sent them.",
            card=card,
            to=PersonalChat(escalation.asker_aad),
            purpose="faq-answer",
        )
    if not escalation.reply_conversation_id:
        return None
    to = ChannelPost(escalation.reply_conversation_id, escalation.reply_thread_id)
    if escalation.asker_teams_id and escalation.asker_name:
        mention = Mention(escalation.asker_teams_id, _safe_name(escalation.asker_name))
        return Reply(
            text=f"{mention.tag} an HR expert has answered your question.",
            card=card,
            to=to,
            purpose="faq-answer",
            mentions=(mention,),
        )
    return Reply(text="An HR expert has answered this question.", card=card, to=to)


async def _expert_answer(turn: Turn, _argument: str) -> list[Reply]:
    """An expert answered on the card: claim the question once, send the answer back to the
    asker, optionally add it to the FAQ, and swap the card for a record of what happened."""
    try:
        escalation_id = _int(turn, "escalation_id")
    except _BadCard:
        return [Reply(text="Sorry, that card is out of date.")]
    answer_text = _text(turn, "answer")
    if not answer_text:
        return [Reply(text="Please write an answer on the card before sending it.")]
    add = _value(turn).get("add_to_faq") in (True, "true")
    async with turn.services.sessions() as session:
        escalation = await store.claim_escalation(
            session, escalation_id, turn.event.tenant_id, answer_text, turn.now
        )
        if escalation is None:
            return [Reply(text="That question has already been answered (or is no longer open).")]
        added = problem = ""
        if add:
            added, problem = await _add_from_expert(turn, session, escalation, answer_text)
        question = escalation.question
        back = _answer_back(escalation)
        if back is not None:
            await enqueue_reply(
                session,
                turn.event.tenant_id,
                back,
                dedupe_key=f"faq-answer:{escalation.id}",
                now=turn.now,
            )
        store.forget_asker(escalation)
        session.add(escalation)
        await session.commit()
    turn.services.wake_sender()
    log.info("faq escalation answered (added to the FAQ: %s)", bool(added))
    by = turn.event.user_name or "an HR expert"
    outcome = f"Answered by {by} and sent back to the person who asked."
    if added:
        outcome += f" Added to the FAQ as {added}."
    elif problem:
        outcome += f" Not added to the FAQ: {problem}"
    return [
        Reply(
            card=Card(
                "faq_escalation_done",
                {"question": question, "answer": answer_text, "outcome": outcome},
                fallback_text=outcome,
            ),
            replaces_card=True,
        )
    ]


async def _add_from_expert(
    turn: Turn, session: AsyncSession, escalation: FaqEscalation, answer_text: str
) -> tuple[str, str]:
    """(new entry id, "") or ("", why not): the expert's answer as a new FAQ entry."""
    question = _text(turn, "faq_question") or escalation.question
    try:
        entry = EntryData(
            id=await store.free_entry_id(session, question),
            question=question,
            answer=answer_text,
            owner=EXPERT_OWNER,
            last_reviewed=_today(turn),
        )
    except ValidationError as error:
        return "", "; ".join(f"{field} {message}" for field, message in describe_errors(error))
    await save_entries(session, [entry], turn.now)
    escalation.added_entry_id = entry.id
    return entry.id, ""


def _age(then: datetime, now: datetime) -> str:
    days = (now - then).days
    if days <= 0:
        return "today"
    return "yesterday" if days == 1 else f"{days} days ago"


async def _open(turn: Turn, _argument: str) -> list[Reply]:
    """For the experts: what is waiting, oldest first, with cards to answer the oldest here."""
    async with turn.services.sessions() as session:
        waiting = await store.open_escalations(session, turn.event.tenant_id)
    if not waiting:
        return [Reply(text="Nothing is waiting for an HR expert right now.")]
    knowledge = await store.knowledge(turn.services.sessions, turn.now)
    lines = [
        f"- {_age(e.created_at, turn.now)}: {e.question[:200]}"
        + ("" if len(e.question) <= 200 else "…")
        for e in waiting
    ]
    count = len(waiting)
    text = (
        f"**{count} question{'s' if count != 1 else ''} waiting for an HR expert**, oldest "
        f"first:\n\n" + "\n".join(lines)
    )
    if count > OPEN_CARDS_SHOWN:
        text += f"\n\nHere are the oldest {OPEN_CARDS_SHOWN} to answer now."
    replies = [Reply(text=text)]
    for escalation in waiting[:OPEN_CARDS_SHOWN]:
        closest = knowledge.entries.get(escalation.closest_entry_id or "")
        replies.append(Reply(card=_expert_card(escalation, closest.question if closest else "")))
    return replies


async def _register_experts(turn: Turn, _argument: str) -> list[Reply]:
    """An admin makes this standard channel the HR experts channel."""
    event = turn.event
    if event.conversation_kind != "channel":
        return [
            Reply(
                text="The HR experts channel has to be a standard channel in a team, not a chat. "
                "@mention me there with **register experts channel**."
            )
        ]
    if event.channel_type not in (None, "standard"):
        return [
            Reply(
                text=f"This is a {event.channel_type} channel. Please use a standard channel for "
                "the HR experts, so that I can post every question there."
            )
        ]
    if turn.services.org.roles.hr_experts_channel:
        return [
            Reply(
                text="The organisation config already names the HR experts channel "
                "(roles.hr_experts_channel). Change it there instead."
            )
        ]
    base, _ = _split_thread(event.conversation_id)
    async with turn.services.sessions() as session:
        team_id = await team_of_conversation(session, base)
        await store.register_experts_channel(session, event.tenant_id, base, team_id, turn.now)
        await session.commit()
    log.info("registered the HR experts channel")
    return [
        Reply(
            text="Done: this is now the HR experts channel. Questions people send to the experts "
            "will appear here as cards you can answer. Say **faq open** here to see what's waiting."
        )
    ]


# --- HR admins: add, edit, retire ----------------------------------------------------------------


def _edit_card(entry: EntryData | None) -> Reply:
    if entry is None:
        context = {
            "title": "Add an FAQ entry",
            "status": "",
            "entry_id": "",
            "question": "",
            "phrasings": "",
            "answer": "",
            "tags": "",
            "owner": "HR policy team",
            "retired": False,
        }
    else:
        state = "Retired: not offered to anyone." if entry.retired else "Live."
        context = {
            "title": f"Edit FAQ entry {entry.id}",
            "status": f"Last reviewed {_long_date(entry.last_reviewed)}. {state}",
            "entry_id": entry.id,
            "question": entry.question,
            "phrasings": "\n".join(entry.phrasings),
            "answer": entry.answer,
            "tags": ", ".join(entry.tags),
            "owner": entry.owner,
            "retired": entry.retired,
        }
    return Reply(card=Card("faq_edit", context, fallback_text=context["title"]))


async def _find_entry(turn: Turn, typed: str, normalised: str) -> EntryData | list[EntryData]:
    """The entry an admin named by id, or the closest entries when the id is not known."""
    knowledge = await store.knowledge(turn.services.sessions, turn.now)  # seeds a new database
    async with turn.services.sessions() as session:
        for candidate in (typed, normalised.replace(" ", "-")):
            found = await store.entry(session, candidate)
            if found is not None:
                return found
    return [knowledge.entries[h.entry_id] for h in knowledge.index.rank(normalised or typed).hits]


def _not_found(typed: str, closest: list[EntryData], command: str) -> list[Reply]:
    if not typed:
        return [Reply(text=f"Say **{command} ID**, with the entry's id.")]
    text = f"I couldn't find an FAQ entry with the id **{typed}**."
    if closest:
        text += " Did you mean one of these?\n\n" + "\n".join(
            f"- **{e.id}**: {e.question}" for e in closest
        )
    return [Reply(text=text)]


async def _add(turn: Turn, _argument: str) -> list[Reply]:
    return [_edit_card(None)]


async def _edit(turn: Turn, argument: str) -> list[Reply]:
    typed = _typed_argument(turn, 2, argument)
    found = await _find_entry(turn, typed, argument)
    if isinstance(found, list):
        return _not_found(typed, found, "faq edit")
    return [_edit_card(found)]


async def _retire(turn: Turn, argument: str) -> list[Reply]:
    typed = _typed_argument(turn, 2, argument)
    found = await _find_entry(turn, typed, argument)
    if isinstance(found, list):
        return _not_found(typed, found, "faq retire")
    if found.retired:
        return [
            Reply(
                text=f"**{found.id}** is already retired. Say **faq edit {found.id}** to bring it back."
            )
        ]
    return [
        Reply(
            card=Card(
                "faq_retire",
                {"entry_id": found.id, "question": found.question},
                fallback_text=f"Retire {found.id}?",
            )
        )
    ]


def _lines(value: str) -> list[str]:
    return [line.strip() for line in value.splitlines() if line.strip()]


async def _save(turn: Turn, _argument: str) -> list[Reply]:
    """The add/edit card was saved: validate as an import would, then store it (live at once)."""
    entry_id = _text(turn, "entry_id")
    question = _text(turn, "question")
    async with turn.services.sessions() as session:
        retired = False
        if entry_id:
            stored = await store.entry(session, entry_id)
            if stored is None:
                return [Reply(text=f"The entry **{entry_id}** no longer exists.")]
            retired = stored.retired
        else:
            entry_id = _text(turn, "new_id")
            if await store.entry(session, entry_id) is not None:
                return [Reply(text=f"The id **{entry_id}** is already used. Choose another.")]
            entry_id = entry_id or await store.free_entry_id(session, question)
        try:
            entry = EntryData(
                id=entry_id,
                question=question,
                phrasings=_lines(_text(turn, "phrasings")),
                answer=_text(turn, "answer"),
                tags=[t.strip() for t in re.split(r"[,\n]", _text(turn, "tags")) if t.strip()],
                owner=_text(turn, "owner"),
                last_reviewed=_today(turn),
                retired=retired,
            )
        except ValidationError as error:
            problems = "\n".join(f"- {f}: {m}" for f, m in describe_errors(error))
            return [Reply(text=f"I couldn't save that yet:\n\n{problems}")]
        result = await save_entries(session, [entry], turn.now)
        await session.commit()
    log.info("faq entry saved from Teams (added %d, updated %d)", result.added, result.updated)
    return [
        Reply(
            card=Card(
                "faq_notice",
                {"title": "Saved", "message": f"**{entry.question}** ({entry.id}) is live now."},
                fallback_text=f"Saved {entry.id}.",
            ),
            replaces_card=True,
        )
    ]


async def _set_retired(turn: Turn, _argument: str) -> list[Reply]:
    entry_id = _text(turn, "entry_id")
    retire = _value(turn).get("retired") in (True, "true")
    async with turn.services.sessions() as session:
        question = await store.set_retired(session, entry_id, retire, turn.now)
        if question is None:
            return [Reply(text=f"The entry **{entry_id}** no longer exists.")]
        await session.commit()
    log.info("faq entry %s from Teams", "retired" if retire else "brought back")
    if retire:
        title = "Retired"
        message = (
            f"**{question}** won't be offered any more. Say **faq edit {entry_id}** to bring it "
            "back."
        )
    else:
        title, message = "Back in the FAQ", f"**{question}** is live again."
    return [
        Reply(
            card=Card("faq_notice", {"title": title, "message": message}, fallback_text=title),
            replaces_card=True,
        )
    ]


# --- the command table entries ------------------------------------------------------------------

FAQ = Command(
    "faq",
    "ask about the Wellbeing and Attendance Management policy (say **faq** and your question)",
    _faq,
    takes_argument=True,
    scopes=BOTH,
    usage="faq QUESTION",
    examples=("frequently asked questions", "policy questions", "hr faq", "ask about the policy"),
)
FAQ_OPEN = Command(
    "faq open",
    "HR experts: list questions waiting for an answer",
    _open,
    scopes=BOTH,
    examples=("unanswered questions", "which questions are waiting for an answer"),
    audience="hr_expert",
    requires="hr_expert",
)
FAQ_ADD = Command(
    "faq add",
    "HR admins: add an FAQ entry",
    _add,
    scopes=PERSONAL,
    examples=("add a new faq entry", "new faq question"),
    audience="hr_admin",
    requires="hr_admin",
    changes_state=True,
)
FAQ_EDIT = Command(
    "faq edit",
    "HR admins: change an FAQ entry",
    _edit,
    takes_argument=True,
    scopes=PERSONAL,
    usage="faq edit ID",
    audience="hr_admin",
    requires="hr_admin",
    changes_state=True,
)
FAQ_RETIRE = Command(
    "faq retire",
    "HR admins: stop offering an FAQ entry",
    _retire,
    takes_argument=True,
    scopes=PERSONAL,
    usage="faq retire ID",
    audience="hr_admin",
    requires="hr_admin",
    changes_state=True,
)
REGISTER_EXPERTS = Command(
    "register experts channel",
    "admins: make this channel the HR experts channel",
    _register_experts,
    scopes=CHANNEL,
    audience="admin",
    requires="admin",
    changes_state=True,
)
SHOW = Command("faq.show", "show a chosen FAQ answer", _show, scopes=BOTH, typed=False)
FEEDBACK = Command("faq.feedback", "Helpful / Not helpful", _feedback, scopes=BOTH, typed=False)
ASK_EXPERT = Command("faq.ask_expert", "ask an HR expert", _ask_expert, scopes=BOTH, typed=False)
SEND_TO_EXPERT = Command(
    "faq.send_to_expert", "send a question to the experts", _send_to_expert, typed=False
)
EXPERT_ANSWER = Command(
    "faq.expert_answer",
    "an expert's answer",
    _expert_answer,
    scopes=BOTH,
    typed=False,
    requires="hr_expert",
)
SAVE = Command("faq.save", "save an FAQ entry", _save, typed=False, requires="hr_admin")
SET_RETIRED = Command(
    "faq.retire", "retire or bring back an entry", _set_retired, typed=False, requires="hr_admin"
)

COMMANDS = (
    FAQ,
    FAQ_OPEN,
    FAQ_ADD,
    FAQ_EDIT,
    FAQ_RETIRE,
    REGISTER_EXPERTS,
    SHOW,
    FEEDBACK,
    ASK_EXPERT,
    SEND_TO_EXPERT,
    EXPERT_ANSWER,
    SAVE,
    SET_RETIRED,
)
