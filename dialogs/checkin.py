"""The check-in: its card (and plain-text form), validating and storing an answer once, the
thank-you that replaces the card, and the person's own history."""

from __future__ import annotations

import hmac
import json
import secrets
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import select, update

from core.config.checkinconfig import CalendarNote, CheckinQuestions
from core.context import Services, Turn
from core.db import upsert_insert
from core.events import Card, Reply
from core.privacy import counting
from core.privacy.secrets import Secrets
from core.store.cycles import CLOSED, CYCLE_ABORTED, Cycle, CycleRecipient
from core.store.wellbeing import CheckinAnswer
from dialogs.commands import Command
from dialogs.engine import Dialog, Invalid, Step
from dialogs.support import count_events, crisis_event, crisis_replies, services_card
from signposting.crisis import detect_off_loop
from signposting.routing import services_for_checkin

MAX_NOTE_CHARS = 2000
SUBMIT = "checkin submit"
HISTORY_WEEKS = 8


CARD_SIGNATURE = "checkin-card"
CARD_MAC_CHARS = 32
NOT_YOUR_CARD = (
    "This check-in card isn't yours, or it has expired, so I haven't saved that answer. "
    "Say **check in** for a fresh one."
)


def issue_card_id(keys: Secrets, aad_object_id: str, cycle_id: int | None) -> str:
    """A new card id for this person and cycle (None: an on-demand check-in), signed so an
    answer can be checked against it without storing it: a random part, then a MAC over the
    cycle, the person and that part (49 characters)."""
    nonce = secrets.token_hex(8)
    return f"{nonce}-{_card_mac(keys, aad_object_id, cycle_id, nonce)}"


def is_issued_card(keys: Secrets, aad_object_id: str, cycle_id: int | None, card_id: str) -> bool:
    """Whether the bot issued `card_id` to this person for this cycle (or for no cycle)."""
    nonce, dash, mac = card_id.rpartition("-")
    if not dash or not nonce or len(mac) != CARD_MAC_CHARS:
        return False
    return hmac.compare_digest(mac, _card_mac(keys, aad_object_id, cycle_id, nonce))


def _card_mac(keys: Secrets, aad_object_id: str, cycle_id: int | None, nonce: str) -> str:
    cycle = "on-demand" if cycle_id is None else str(cycle_id)
    message = f"{cycle}|{aad_object_id.lower()}|{nonce}"
    return keys.signature(CARD_SIGNATURE, message)[:CARD_MAC_CHARS]


@dataclass(frozen=True)
class Answer:
    """A validated check-in, as option ids."""

    mood: int
    affecting: str | None = None
    pulse: dict[str, str] = field(default_factory=dict)
    note: str | None = None


def _choice(option) -> dict[str, str]:
    title = f"{option.label} {option.emoji}" if option.emoji else option.label
    return {"title": title, "value": option.id}


def checkin_card(
    questions: CheckinQuestions,
    *,
    card_id: str,
    cycle_id: int | None,
    iso_week: int,
    heading: str = "Wellbeing Wednesday",
    intro: str | None = None,
    note: CalendarNote | None = None,
    values: dict[str, Any] | None = None,
    error: str | None = None,
) -> Card:
    """The check-in card; `values` and `error` re-show an answer that needs fixing."""
    values = values or {}
    pulse = questions.pulse.for_week(iso_week)
    context = {
        "heading": heading,
        "intro": intro,
        "note": note.model_dump() if note else None,
        "error": error,
        "mood": {
            "prompt": questions.mood.prompt,
            "choices": [_choice(o) for o in questions.mood.options],
            "value": str(values.get("mood") or ""),
        },
        "affecting": {
            "prompt": questions.affecting.prompt,
            "choices": [_choice(o) for o in questions.affecting.options],
            "value": str(values.get("affecting") or ""),
        },
        "pulse": {
            "prompt": questions.pulse.prompt,
            "scale": [_choice(o) for o in questions.pulse.scale],
            "items": [
                {
                    "id": item.id,
                    "statement": item.statement,
                    "value": str(values.get(f"pulse_{item.id}") or ""),
                }
                for item in pulse
            ],
        },
        "note_question": (
            {
                "prompt": questions.note.prompt,
                "privacy": questions.note.privacy,
                "value": str(values.get("note") or ""),
            }
            if questions.note
            else None
        ),
        "data": {"command": SUBMIT, "card_id": card_id, "cycle_id": cycle_id, "week": iso_week},
    }
    return Card("checkin", context, fallback_text=plain_text_form(questions, note, intro))


def cycle_card(
    services: Services, cycle: Cycle, aad_object_id: str, *, intro: str | None, reminder: bool
) -> Card:
    """A cycle's check-in card for one of its recipients, on a card id issued to them."""
    config = services.org.checkin
    week = cycle.scheduled_for.isocalendar().week
    return checkin_card(
        config.questions,
        card_id=issue_card_id(services.secrets, aad_object_id, cycle.id),
        cycle_id=cycle.id,
        iso_week=week,
        intro=intro,
        note=None if reminder else config.note_for(week),
    )


def plain_text_form(
    questions: CheckinQuestions, note: CalendarNote | None, intro: str | None
) -> str:
    """The same questions as text, for clients that show no cards."""
    lines = [intro] if intro else []
    if note:
        lines += [f"**{note.title}**", note.body, ""]
    lines.append(questions.mood.prompt)
    lines += [f"{o.id}. {o.label}" for o in questions.mood.options]
    lines.append("Say **check in by text** to answer with numbers.")
    return "\n".join(lines)


def parse_submission(
    questions: CheckinQuestions, value: dict[str, Any], iso_week: int
) -> tuple[Answer | None, str | None]:
    """An Answer, or a plain sentence about what is missing or wrong (nothing is stored then)."""
    mood_ids = {o.id for o in questions.mood.options}
    mood = str(value.get("mood") or "").strip()
    if not mood:
        return None, "Please choose how you're feeling. It's the only question you need to answer."
    if mood not in mood_ids:
        return None, "That answer to how you're feeling isn't one of the choices. Please pick one."
    affecting = str(value.get("affecting") or "").strip() or None
    if affecting is not None and affecting not in {o.id for o in questions.affecting.options}:
        return (
            None,
            "That answer to what's affecting you isn't one of the choices. Please pick one.",
        )
    scale = {o.id for o in questions.pulse.scale}
    pulse: dict[str, str] = {}
    for item in questions.pulse.for_week(iso_week):
        answer = str(value.get(f"pulse_{item.id}") or "").strip()
        if answer and answer not in scale:
            return None, f"The answer to \u201c{item.statement}\u201d isn't one of the choices."
        if answer:
            pulse[item.id] = answer
    note = str(value.get("note") or "").strip() or None
    if note and len(note) > MAX_NOTE_CHARS:
        return (
            None,
            f"Your note is a little long: please keep it under {MAX_NOTE_CHARS} characters.",
        )
    return Answer(int(mood), affecting, pulse, note), None


async def record_answer(
    services: Services,
    aad_object_id: str,
    answer: Answer,
    *,
    card_id: str,
    cycle_id: int | None,
    counts: list[tuple[str, str, str]] | None = None,
) -> tuple[bool, bool]:
    """Store an answer once per card, and bump the `counts` (event, need, service) in the same
    transaction when it is stored now. Returns (stored now, counted as on-demand).

    An answer counts towards its cycle only while that cycle is open (not closed or aborted, and
    before it closes); otherwise it is stored as an on-demand check-in. The insert itself checks,
    so storing costs one statement. A duplicate is reported as on-demand only when it named no
    cycle (nothing uses that flag for duplicates)."""
    now = services.clock()
    pseudonym = services.secrets.pseudonym(aad_object_id)
    async with services.sessions() as session:
        open_cycle = (
            select(Cycle.id)
            .where(
                Cycle.id == cycle_id,
                Cycle.status.not_in((CLOSED, CYCLE_ABORTED)),
                Cycle.closes_at > now,
            )
            .scalar_subquery()
            if cycle_id is not None
            else None
        )
        statement = (
            upsert_insert(session, CheckinAnswer)
            .values(
                pseudonym=pseudonym,
                cycle_id=open_cycle,
                card_id=card_id,
                mood=answer.mood,
                affecting=answer.affecting,
                pulse=json.dumps(answer.pulse, sort_keys=True),
                note=services.secrets.encrypt(answer.note) if answer.note else None,
                answered_at=now,
            )
            .on_conflict_do_nothing(index_elements=["pseudonym", "card_id"])
            .returning(CheckinAnswer.id, CheckinAnswer.cycle_id)
        )
        row = (await session.exec(statement)).first()
        stored = row is not None
        on_demand = row[1] is None if stored else cycle_id is None
        cycle_id = row[1] if stored else None
        if cycle_id is not None:
            await session.exec(
                update(CycleRecipient)
                .where(
                    CycleRecipient.cycle_id == cycle_id,
                    CycleRecipient.aad_object_id == aad_object_id,
                    CycleRecipient.answered.is_(False),
                )
                .values(answered=True)
            )
        if stored:
            await counting.bump_each(
                session, counts or (), now, time_zone=services.org.organisation.timezone
            )
        await session.commit()
    return stored, on_demand


def _label(options, option_id: str | None) -> str | None:
    return next((o.label for o in options if o.id == option_id), None)


def thanks_card(
    questions: CheckinQuestions, answer: Answer, *, on_demand_late: bool, duplicate: bool
) -> Card:
    """Replaces the check-in card so it cannot be sent twice, and says what was saved."""
    summary = [f"You said you're feeling: {_label(questions.mood.options, str(answer.mood))}"]
    affecting = _label(questions.affecting.options, answer.affecting)
    if affecting:
        summary.append(f"Affecting you most: {affecting}")
    if answer.note:
        summary.append("You added a private note. Only you can read it.")
    if duplicate:
        message = "You've already answered this one. Thank you."
    elif on_demand_late:
        message = (
            "This week's check-in had already closed, so I've saved this as an extra "
            "check-in just for you. Thank you for taking the time."
        )
    else:
        message = "Thank you for checking in."
    text = message + "\n\n" + "\n".join(summary)
    context = {"message": message, "summary": summary, "ack": None, "support": None}
    return Card("checkin_thanks", context, fallback_text=text)


def with_support(thanks: Card, support: list[Reply]) -> Card:
    """The thank-you with the acknowledgement and any suggested services in it: one card that
    replaces the pressed one (the invoke's own response for Action.Execute, one update for
    Action.Submit), so an answer costs no message of its own against Teams' per-app limit."""
    cards = [reply.card for reply in support if reply.card is not None]
    acknowledged = next((c for c in cards if c.template == "checkin_ack"), None)
    services = next((c for c in cards if c.template == "support_services"), None)
    context = {
        **thanks.context,
        "ack": acknowledged.context["message"] if acknowledged else None,
        "support": services.context if services else None,
    }
    text = "\n\n".join(
        [thanks.fallback_text or "", *(c.fallback_text or "" for c in cards)]
    ).strip()
    return Card("checkin_thanks", context, fallback_text=text)


def acknowledgement(answer: Answer) -> Reply:
    """A short, warm word after an answer, with a way to support that is always there."""
    if answer.mood <= 2:
        text = (
            "I'm sorry things are hard right now. You don't have to handle it alone: "
            "support is here whenever you want it, and it's confidential."
        )
    elif answer.mood == 3:
        text = "Thanks. If anything's on your mind, support is here whenever you want it."
    else:
        text = "Good to hear. Support is here if you ever need it."
    return Reply(
        card=Card("checkin_ack", {"message": text}, fallback_text=text + " Say **support**.")
    )


async def submit(turn: Turn, _argument: str) -> list[Reply]:
    """A check-in card was sent (Action.Submit or Action.Execute)."""
    value = turn.event.value or {}
    questions = turn.services.org.checkin.questions
    card_id = str(value.get("card_id") or "")
    cycle_id = value.get("cycle_id")
    cycle_id = (
        int(cycle_id) if isinstance(cycle_id, int | str) and str(cycle_id).isdigit() else None
    )
    week = (
        int(value["week"]) if str(value.get("week", "")).isdigit() else turn.now.isocalendar().week
    )
    if not turn.event.user_id or not card_id:
        return [
            Reply(text="Sorry, I couldn't read that check-in. Say **check in** to start a new one.")
        ]
    if not is_issued_card(turn.services.secrets, turn.event.user_id, cycle_id, card_id):
        return [Reply(text=NOT_YOUR_CARD)]
    answer, problem = parse_submission(questions, value, week)
    if answer is None:
        card = checkin_card(
            questions,
            card_id=card_id,
            cycle_id=cycle_id,
            iso_week=week,
            heading="Check-in",
            values=value,
            error=problem,
        )
        return [Reply(card=card, replaces_card=True)]
    shown = _services_for(turn, answer)
    stored, on_demand = await record_answer(
        turn.services,
        turn.event.user_id,
        answer,
        card_id=card_id,
        cycle_id=cycle_id,
        counts=_shown_counts(shown),
    )
    thanks = thanks_card(
        questions,
        answer,
        on_demand_late=stored and on_demand and cycle_id is not None,
        duplicate=not stored,
    )
    if stored:  # the services shown were counted with the answer
        thanks = with_support(thanks, _support_replies(turn, answer, shown))
    replies = [Reply(card=thanks, replaces_card=True)]
    signal = await detect_off_loop(answer.note, turn.services.org.support) if answer.note else None
    if signal is not None:
        # Urgent help comes first. The note stays the person's own encrypted note, unflagged.
        await count_events(turn, [(crisis_event(signal), "", "")])
        replies = crisis_replies(turn.services.org, signal) + replies
    return replies


def _services_for(turn: Turn, answer: Answer) -> list:
    support = turn.services.org.support
    return services_for_checkin(answer.mood, answer.affecting, answer.pulse, support=support)


def _shown_counts(services: list) -> list[tuple[str, str, str]]:
    return [(counting.SERVICE_SHOWN, "", s.id) for s in services]


def _support_replies(turn: Turn, answer: Answer, services: list) -> list[Reply]:
    replies = [acknowledgement(answer)]
    if services:
        replies.append(
            Reply(
                card=services_card(
                    turn.services.org,
                    "Support you could try",
                    "Based on what you said, these might help. "
                    "It's up to you, and it's confidential.",
                    services,
                )
            )
        )
    return replies


async def support_after(turn: Turn, answer: Answer) -> list[Reply]:
    """The acknowledgement and, where the answers suggest it, the services that could help."""
    services = _services_for(turn, answer)
    if services:
        await count_events(turn, _shown_counts(services))
    return _support_replies(turn, answer, services)


def on_demand_card(turn: Turn, aad_object_id: str) -> Card:
    week = turn.now.isocalendar().week
    return checkin_card(
        turn.services.org.checkin.questions,
        card_id=issue_card_id(turn.services.secrets, aad_object_id, None),
        cycle_id=None,
        iso_week=week,
        heading="Check-in",
    )


async def unanswered_cycle(services: Services, aad_object_id: str, now: datetime) -> Cycle | None:
    """The latest open cycle this person was sent and has not answered yet, if any."""
    async with services.sessions() as session:
        return (
            await session.exec(
                select(Cycle)
                .join(CycleRecipient, CycleRecipient.cycle_id == Cycle.id)
                .where(
                    CycleRecipient.aad_object_id == aad_object_id,
                    CycleRecipient.answered.is_(False),
                    Cycle.status.not_in((CLOSED, CYCLE_ABORTED)),
                    Cycle.closes_at > now,
                )
                .order_by(Cycle.scheduled_for.desc())
                .limit(1)
            )
        ).first()


async def check_in(turn: Turn, _argument: str) -> list[Reply]:
    """`check in`: this week's check-in when the person has one to answer (a lost or refused
    card is replaced by a fresh one that still counts), else an on-demand one."""
    if not turn.event.user_id:
        return [Reply(text="I couldn't tell who you are, so I can't start a check-in.")]
    cycle = await unanswered_cycle(turn.services, turn.event.user_id, turn.now)
    if cycle is not None:
        card = cycle_card(turn.services, cycle, turn.event.user_id, intro=None, reminder=False)
        return [Reply(card=card)]
    return [Reply(card=on_demand_card(turn, turn.event.user_id))]


async def history(turn: Turn, _argument: str) -> list[Reply]:
    """`my check-ins`: the last eight weeks of the person's own answers, as a text chart."""
    if not turn.event.user_id:
        return [Reply(text="I couldn't tell who you are, so I can't show your check-ins.")]
    since = turn.now - timedelta(weeks=HISTORY_WEEKS)
    pseudonym = turn.services.secrets.pseudonym(turn.event.user_id)
    async with turn.services.sessions() as session:
        rows = (
            await session.exec(
                select(CheckinAnswer.answered_at, CheckinAnswer.mood)
                .where(CheckinAnswer.pseudonym == pseudonym, CheckinAnswer.answered_at >= since)
                .order_by(CheckinAnswer.answered_at)
            )
        ).all()
    return [Reply(text=history_chart(turn, rows))]


def history_chart(turn: Turn, rows: list[tuple[datetime, int]]) -> str:
    """One line per week: the date, a bar as long as the mood, and the mood in words."""
    if not rows:
        return (
            "You haven't checked in during the last eight weeks. Say **check in** whenever "
            "you like. Only you can see your answers."
        )
    options = turn.services.org.checkin.questions.mood.options
    by_week: dict[tuple[int, int], list[int]] = {}
    for answered_at, mood in rows:
        iso = answered_at.isocalendar()
        by_week.setdefault((iso.year, iso.week), []).append(mood)
    lines = ["Your check-ins over the last eight weeks (only you can see this):", ""]
    for (year, week), moods in sorted(by_week.items()):
        latest = moods[-1]
        monday = datetime.fromisocalendar(year, week, 1)
        label = options[latest - 1].label
        extra = f" (and {len(moods) - 1} more)" if len(moods) > 1 else ""
        lines.append(
            f"`Week of {monday:%d %b}  {'█' * latest}{'·' * (5 - latest)}`  {label}{extra}"
        )
    return "\n".join(lines)


def _ask_mood(turn: Turn, _data: dict[str, Any]) -> Reply:
    q = turn.services.org.checkin.questions.mood
    return Reply(
        text=q.prompt
        + " Reply with a number:\n\n"
        + "\n".join(f"{o.id}. {o.label}" for o in q.options)
    )


def _ask_affecting(turn: Turn, _data: dict[str, Any]) -> Reply:
    q = turn.services.org.checkin.questions.affecting
    return Reply(
        text=q.prompt
        + " Reply with a number, or **skip**:\n\n"
        + "\n".join(f"{i}. {o.label}" for i, o in enumerate(q.options, 1))
    )


def _ask_note(turn: Turn, _data: dict[str, Any]) -> Reply:
    q = turn.services.org.checkin.questions.note
    prompt = q.prompt if q else "Anything you'd like to add?"
    privacy = q.privacy if q else ""
    return Reply(text=f"{prompt} {privacy} Type it, or say **skip**.")


def _number(options_count: int, allow_skip: bool):
    def parse(text: str) -> int | None:
        said = text.strip().lower().rstrip(".")
        if allow_skip and said in {"skip", "pass", "no", ""}:
            return None
        if said.isdigit() and 1 <= int(said) <= options_count:
            return int(said)
        raise Invalid(
            f"Please reply with a number from 1 to {options_count}"
            + (", or **skip**." if allow_skip else ".")
        )

    return parse


def _note(text: str) -> str | None:
    said = text.strip()
    if said.lower() in {"skip", "no", "nothing", "pass"}:
        return None
    if len(said) > MAX_NOTE_CHARS:
        raise Invalid(f"That's a little long: please keep it under {MAX_NOTE_CHARS} characters.")
    return said


async def _finish_text_checkin(turn: Turn, data: dict[str, Any]) -> list[Reply]:
    questions = turn.services.org.checkin.questions
    affecting = (
        questions.affecting.options[data["affecting"] - 1].id if data.get("affecting") else None
    )
    answer = Answer(mood=data["mood"], affecting=affecting, note=data.get("note"))
    await record_answer(
        turn.services,
        turn.event.user_id,
        answer,
        card_id=data["card_id"],
        cycle_id=data.get("cycle_id"),
    )
    thanks = thanks_card(questions, answer, on_demand_late=False, duplicate=False)
    return [Reply(text=thanks.fallback_text), *await support_after(turn, answer)]


def text_checkin_dialog(questions: CheckinQuestions) -> Dialog:
    steps = [
        Step("mood", _ask_mood, _number(len(questions.mood.options), allow_skip=False)),
        Step(
            "affecting", _ask_affecting, _number(len(questions.affecting.options), allow_skip=True)
        ),
    ]
    if questions.note is not None:
        steps.append(Step("note", _ask_note, _note))
    return Dialog("text-checkin", steps, _finish_text_checkin)


async def check_in_by_text(turn: Turn, _argument: str) -> list[Reply]:
    """The plain-text check-in, answered with numbers, for clients that show no cards."""
    if not turn.event.user_id:
        return [Reply(text="I couldn't tell who you are, so I can't start a check-in.")]
    return turn.services.dialogs.start(turn, "text-checkin", {"card_id": uuid.uuid4().hex})


CHECK_IN = Command(
    "check in",
    "answer a quick check-in now",
    check_in,
    phrases=("checkin", "check in now", "how am i doing"),
    examples=(
        "i want to do my check in",
        "can i do the check in now",
        "do this weeks check in",
        "start a check in",
        "i missed the check in can i do it now",
        "let me fill in the wellbeing check",
        "take the survey",
        "do the weekly questions",
        "can i answer this weeks questions",
        "log how im feeling",
        "record my mood",
        "wellbeing check",
    ),
    first_help=3,
)
CHECK_IN_BY_TEXT = Command(
    "check in by text",
    "answer a check-in by typing numbers",
    check_in_by_text,
    phrases=("text check in",),
    examples=(
        "the card wont load can i type my answers",
        "check in without the card",
        "can i answer by typing",
        "the buttons dont work let me type it",
    ),
    key_words=("text", "typing"),
)
SUBMIT_CHECKIN = Command(SUBMIT, "send a check-in card", submit, typed=False)
MY_CHECKINS = Command(
    "my check ins",
    "see your last eight weeks of check-ins",
    history,
    phrases=("my checkins", "my history", "history"),
    usage="my check-ins",
    examples=(
        "show me my past check ins",
        "what did i answer last week",
        "see my previous answers",
        "my results",
        "how have i been doing lately",
        "show my mood over the last few weeks",
        "can i see my old check ins",
        "my last check in",
        "past answers",
        "my scores",
        "look back at my check ins",
    ),
    key_words=("history",),
    first_help=4,
)
