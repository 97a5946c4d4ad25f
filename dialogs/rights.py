"""A person's rights over what the bot holds about them: `export my data` (a short-lived signed
link to a file, served by the bot's own web server) and `delete my data` (after a confirmation),
each written to the audit log without content.

Why a link and not Teams' file consent flow: the link works on every Teams client, needs no
`supportsFiles` in the app package (off by default), and puts no copy of health data in the
person's OneDrive; it expires after 15 minutes, works once (core/privacy/links.py) and is useless to
anyone without the bot's keys.

Why a sure reading of "send me a copy of my data" exports at once while `delete my data` always
asks: the link goes only to the person who asked, in their own personal chat (`private_result`,
which the command table allows only for personal-chat commands), works once, expires, is never
logged, and changes nothing they have; a wrong guess shows them only what they could ask for.
Erasure cannot be undone, so it asks however it was said. An unsure reading of either still
asks "did you mean …?".
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from core.context import Services, Turn
from core.events import Card, Reply
from core.privacy import links, persondata
from core.privacy.secrets import Secrets, SecretsError
from core.store import audit
from core.store.cycles import cycle_dates
from dialogs.commands import Command
from signposting.referrals import unseal

EXPORT_TTL = timedelta(minutes=15)
EXPORT_PATH = "/export/"
EXPORT_LINK = "export"
"""The purpose of export links (core/privacy/links.py)."""
CONFIRM, CANCEL = "delete my data confirm", "delete my data cancel"

DELETED = (
    "Your check-in answers and your private notes",
    "Anything saved from a conversation in progress with me",
    "Any request to the staff support coordinator that is still open, and what you wrote in "
    "closed ones",
)
KEPT = (
    "Team and organisation summaries already made: they were frozen as totals when each week "
    "closed and hold nothing about you on your own. Where they counted you, that record is made "
    "anonymous.",
    "A note in the audit log that you deleted your data, and when (never what it was), so the "
    "organisation can show it did what you asked.",
    "What I need to reach you while I'm installed (your Teams id and this chat) and your choice "
    "about check-ins. Uninstall me to remove those too.",
)


def _when(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _decrypted(secrets: Secrets, value: Any) -> Any:
    """Encrypted strings inside a stored document, decrypted for the person's own copy."""
    if isinstance(value, dict):
        return {k: _decrypted(secrets, v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decrypted(secrets, v) for v in value]
    if isinstance(value, str) and value.startswith("gAAAAA"):
        try:
            text = secrets.decrypt(value)
        except SecretsError:
            return value
        try:
            return json.loads(text)
        except ValueError:
            return text
    return value


def _labels(
    services: Services,
) -> tuple[dict[str, str], dict[str, str], dict[str, str], dict[str, str]]:
    """What the card showed for each stored id: moods, what affects people, the work
    statements and their scale (an export says "Not sure", not "unsure")."""
    questions = services.org.checkin.questions
    return (
        {o.id: o.label for o in questions.mood.options},
        {o.id: o.label for o in questions.affecting.options},
        {i.id: i.statement for i in questions.pulse.items},
        {o.id: o.label for o in questions.pulse.scale},
    )


async def collect_export(services: Services, aad_object_id: str, now: datetime) -> dict[str, Any]:
    """Everything held about one person (core/privacy/persondata.py's inventory, table by table),
    decrypted, as one JSON document for them alone."""
    secrets = services.secrets
    async with services.sessions() as session:
        who = await persondata.subject(session, aad_object_id, secrets.pseudonym(aad_object_id))
        held = await persondata.read_all(session, who, services.org)
        cycles = await cycle_dates(session)
    shown = {key: show(held[key]) for key, show in _shown(services, cycles, who).items()}
    return {
        "about": (
            "Everything the wellbeing bot holds about you, made for you alone on "
            f"{now:%-d %B %Y at %H:%M} UTC. Your check-ins are stored under a code made from your "
            "Microsoft account id, not your name; your notes are stored encrypted and shown "
            "here decrypted."
        ),
        **shown,
    }


def _shown(
    services: Services, cycles: dict[int, Any], who: persondata.Subject
) -> dict[str, Callable[[Any], Any]]:
    """How each part of the inventory reads in the export, in the document's order."""
    secrets = services.secrets
    moods, affecting, statements, scale = _labels(services)

    def you(person) -> dict[str, Any]:
        return {
            "aad_object_id": who.aad_object_id,
            "upn": person.upn if person else None,
            "time_zone": person.time_zone if person else None,
            "bot_installed_in_personal_chat": bool(person and person.personal_installed),
            "unreachable_since": _when(person.unreachable_since) if person else None,
        }

    def choice(participation) -> dict[str, Any]:
        return {
            "status": participation.status if participation else "active",
            "paused_until": _when(participation.paused_until) if participation else None,
        }

    def check_in(a) -> dict[str, Any]:
        return {
            "answered_at": _when(a.answered_at),
            "wellbeing_wednesday": (
                str(cycles[a.cycle_id]) if a.cycle_id in cycles else "one you started yourself"
            ),
            "mood": moods.get(str(a.mood), str(a.mood)),
            "affecting_you_most": affecting.get(a.affecting or "", a.affecting),
            "statements": {
                statements.get(item, item): scale.get(choice, choice)
                for item, choice in json.loads(a.pulse or "{}").items()
            },
            "private_note": secrets.decrypt(a.note) if a.note else None,
        }

    def request(r) -> dict[str, Any]:
        return {
            "status": r.status,
            "contact_method": r.contact_method,
            "contact_time": r.contact_time,
            "name_given": unseal(secrets, r.requester_name),
            "contact_detail": unseal(secrets, r.contact_detail),
            "note": unseal(secrets, r.note),
            "created_at": _when(r.created_at),
            "contacted_at": _when(r.contacted_at),
            "closed_at": _when(r.closed_at),
        }

    def question(r) -> dict[str, Any]:
        return {
            "question": r.question,
            "status": r.status,
            "answer": r.answer,
            "asked_at": _when(r.created_at),
            "answered_at": _when(r.answered_at),
        }

    return {
        "you": you,
        "chats_with_the_bot": lambda rows: [
            {"id": c.id, "kind": c.kind, "updated_at": _when(c.updated_at)} for c in rows
        ],
        "teams_you_are_in": lambda rows: [
            {"name": name, "aad_group_id": group} for name, group in rows
        ],
        "teams_you_manage": lambda rows: [{"name": t.name, "aad_group_id": t.id} for t in rows],
        "check_in_choice": choice,
        "check_ins": lambda rows: [check_in(a) for a in rows],
        "check_ins_sent_to_you": lambda rows: [
            {
                "wellbeing_wednesday": str(cycles.get(r.cycle_id)),
                "answered": r.answered,
                "reminded": r.reminded,
            }
            for r in rows
        ],
        "messages_sent_to_you": lambda rows: [
            {
                "purpose": m.purpose,
                "status": m.status,
                "queued_at": _when(m.created_at),
                "sent_at": _when(m.sent_at),
            }
            for m in rows
        ],
        "conversation_state": lambda rows: [
            {
                "updated_at": _when(s.updated_at),
                "document": _decrypted(secrets, json.loads(s.document)),
            }
            for s in rows
        ],
        "counted_in_team_summaries": lambda count: count,
        "requests_to_the_staff_support_coordinator": lambda rows: [request(r) for r in rows],
        "questions_passed_to_hr_experts": lambda rows: [question(r) for r in rows],
        "audit_log": lambda rows: [
            {"at": _when(e.at), "action": e.action, "by_you": e.actor == who.aad_object_id}
            for e in rows
        ],
    }


async def erase(
    services: Services, session: AsyncSession, aad_object_id: str, now: datetime
) -> dict[str, int]:
    """Delete a person's wellbeing data (in the caller's transaction, as core/privacy/persondata.py's
    inventory says); rows by table, and the erasure audited."""
    who = await persondata.subject(
        session, aad_object_id, services.secrets.pseudonym(aad_object_id)
    )
    removed = await persondata.erase(session, who)
    audit.record(session, actor=aad_object_id, action=audit.ERASE, at=now)
    return removed


# ---- the chat side -----------------------------------------------------------------------------


async def _export(turn: Turn, _argument: str) -> list[Reply]:
    """`export my data`: a link, for this person only, that works once within 15 minutes."""
    if not turn.event.user_id or not turn.event.personal:
        return [Reply(text="I couldn't tell who you are, so I can't export anything.")]
    async with turn.services.sessions() as session:
        token = await links.issue(
            session, turn.services.secrets, EXPORT_LINK, turn.event.user_id, {}, turn.now
        )
        audit.record(session, actor=turn.event.user_id, action=audit.EXPORT_LINK, at=turn.now)
        await session.commit()
    url = turn.services.public_url.rstrip("/") + EXPORT_PATH + token
    lines = [
        "Here's everything I hold about you, to read on a page or save as a file.",
        "The link works once, for 15 minutes, and only gives your own data. It includes your "
        "check-ins and private notes, so open it somewhere private and please don't forward it.",
    ]
    text = "\n\n".join([*lines, f"[Open my data]({url})"])
    return [
        Reply(
            card=Card(
                "rights_export",
                {"title": "Your data", "lines": lines, "url": url},
                fallback_text=text,
            )
        )
    ]


async def _delete(turn: Turn, _argument: str) -> list[Reply]:
    """`delete my data`: say exactly what goes and what stays, and ask to confirm."""
    if not turn.event.user_id:
        return [Reply(text="I couldn't tell who you are, so I haven't deleted anything.")]
    intro = "This permanently deletes:"
    text = "\n".join(
        [
            intro,
            *(f"- {line}" for line in DELETED),
            "It can't be undone. What stays, and why:",
            *(f"- {line}" for line in KEPT),
            "Say **yes delete my data** to go ahead, or just carry on to keep everything.",
        ]
    )
    return [
        Reply(
            card=Card(
                "rights_delete_confirm",
                {
                    "title": "Delete your data?",
                    "intro": intro,
                    "deleted": list(DELETED),
                    "kept": list(KEPT),
                    "confirm": CONFIRM,
                    "cancel": CANCEL,
                },
                fallback_text=text,
            )
        )
    ]


async def _confirm(turn: Turn, _argument: str) -> list[Reply]:
    """The person confirmed: erase, and replace the confirmation card with what was done."""
    if not turn.event.user_id:
        return [Reply(text="I couldn't tell who you are, so I haven't deleted anything.")]
    async with turn.services.sessions() as session:
        await erase(turn.services, session, turn.event.user_id, turn.now)
        await session.commit()
    turn.state.clear()
    title = "Done. I've deleted your data."
    text = "\n".join([title, *(f"- {line}" for line in DELETED), "What stays, and why:"])
    text += "\n" + "\n".join(f"- {line}" for line in KEPT)
    card = Card(
        "rights_deleted",
        {"title": title, "deleted": list(DELETED), "kept": list(KEPT)},
        fallback_text=text,
    )
    return [Reply(card=card, replaces_card=bool(turn.event.value))]


async def _cancel(turn: Turn, _argument: str) -> list[Reply]:
    message = "Okay, I haven't deleted anything."
    card = Card("rights_deleted", {"title": message, "deleted": [], "kept": []}, message)
    return [Reply(card=card, replaces_card=True)]


EXPORT = Command(
    "export my data",
    "download everything I hold about you",
    _export,
    phrases=("download my data", "my data", "export"),
    examples=(
        "send me a copy of everything you have on me",
        "what data do you hold about me",
        "can i get my information",
        "subject access request",
        "give me my data",
        "i want a copy of my answers",
        "download everything you know about me",
        "what information do you keep on me",
        "export all my check ins",
        "sar",
    ),
    changes_state=True,
    private_result=True,
)
DELETE = Command(
    "delete my data",
    "delete your check-ins, notes and what I keep about you",
    _delete,
    phrases=("erase my data", "forget me", "remove my data"),
    examples=(
        "delete everything you have on me",
        "wipe my data",
        "get rid of my answers",
        "i want my information deleted",
        "remove everything about me",
        "clear my history",
        "delete all my check ins",
        "right to be forgotten",
        "erase me from the system",
        "delete my account",
    ),
    changes_state=True,
    asks_first=True,
)
DELETE_CONFIRMED = Command(
    "yes delete my data",
    "confirm deleting your data",
    _confirm,
    scopes=frozenset({"personal"}),
    guessable=False,
    changes_state=True,
)
CONFIRM_DELETE = Command(CONFIRM, "confirm deleting your data", _confirm, typed=False)
CANCEL_DELETE = Command(CANCEL, "keep your data", _cancel, typed=False)


async def export_link(services: Services, token: str, now: datetime) -> links.LinkState:
    """Whether an export link can still be used; uses nothing (link scanners open links)."""
    async with services.sessions() as session:
        state, _data = await links.check(
            session, services.secrets, EXPORT_LINK, token, EXPORT_TTL, now
        )
    return state


async def export_document(
    services: Services, token: str, now: datetime
) -> tuple[links.LinkState, dict[str, Any] | None]:
    """Use an export link, once: everything held about its person (READY), or why not;
    audited."""
    async with services.sessions() as session:
        state, data = await links.use(
            session, services.secrets, EXPORT_LINK, token, EXPORT_TTL, now
        )
        if state is not links.LinkState.READY or data is None:
            return state, None
        aad_object_id = data["aad"]
        audit.record(session, actor=aad_object_id, action=audit.EXPORT, at=now)
        await session.commit()
    return state, await collect_export(services, aad_object_id, now)
