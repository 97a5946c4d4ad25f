"""Finding support: crisis help first, the support menu, service cards, needs recognised in what
people write, and confidential requests for the staff support coordinator.

Two router stages live here: `crisis_stage` (first, in every conversation) and `need_stage`
(personal chat, after commands and dialogs). The rest are commands and card actions.
"""

from __future__ import annotations

import logging
import re
import secrets
from typing import Any

from core.config.orgconfig import OrgConfig
from core.config.supportconfig import Service, SupportConfig
from core.context import Turn
from core.events import Card, Incoming, PersonalChat, Reply
from core.privacy import counting
from core.store.supportdata import ACTIVE_STATES
from dialogs import understanding
from dialogs.commands import Command
from signposting import referrals
from signposting.crisis import CrisisSignal, detect_off_loop
from signposting.needs import detect_needs
from signposting.routing import services_for_need, services_for_needs

log = logging.getLogger(__name__)

MOVED_TO_PRIVATE = "I've sent you a private message."
NOT_WATCHED = (
    "This chat is not watched by a person, so I can't get help to you myself. "
    "Please contact one of these now:"
)
PERSONAL = frozenset({"personal"})
_MOST_CALLS = 3
"""Call and text buttons on the crisis card: more would push the rest out of sight on a phone."""
EVERYWHERE = frozenset({"personal", "channel"})


def _support(turn: Turn) -> SupportConfig:
    return turn.services.org.support


def _private(turn: Turn, replies: list[Reply]) -> list[Reply]:
    """In a channel or group chat, send these to the person's personal chat instead, and leave
    at most a neutral line where they asked."""
    return _private_for(turn.event, replies)


def _private_for(event: Incoming, replies: list[Reply]) -> list[Reply]:
    if event.personal:
        return replies
    if not event.user_id:
        return [Reply(text="Let's keep that private: open a one-to-one chat with me.")]
    moved = [
        Reply(text=r.text, card=r.card, to=PersonalChat(event.user_id), purpose=r.purpose)
        for r in replies
    ]
    return [*moved, Reply(text=MOVED_TO_PRIVATE)]


async def count_events(turn: Turn, events: list[tuple[str, str, str]]) -> None:
    """Bump counters (event, need, service) in one transaction."""
    async with turn.services.sessions() as session:
        await counting.bump_each(
            session, events, turn.now, time_zone=turn.services.org.organisation.timezone
        )
        await session.commit()


def _service_context(service: Service, *, offer_coordinator: bool) -> dict[str, Any]:
    contact = service.contact
    facts: list[dict[str, str]] = []
    if contact.phone:
        facts.append({"title": "Phone", "value": contact.phone})
    if contact.text_message:
        facts.append({"title": "Text", "value": contact.text_message})
    if contact.email:
        facts.append({"title": "Email", "value": contact.email})
    if contact.opening_hours:
        facts.append({"title": "Open", "value": contact.opening_hours})
    if service.kind != "urgent":
        facts.append(
            {
                "title": "Refer yourself",
                "value": "Yes: contact them directly"
                if contact.self_referral
                else "No: ask your manager or GP to refer you",
            }
        )
    links: list[dict[str, str]] = []
    if contact.teams_chat:
        links.append(
            {
                "title": "Chat in Teams",
                "url": f"https://teams.microsoft.com/l/chat/0/0?users={contact.teams_chat}",
            }
        )
    if contact.email:
        links.append({"title": "Email them", "url": f"mailto:{contact.email}"})
    if contact.web:
        links.append({"title": "Website", "url": contact.web})
    return {
        "id": service.id,
        "name": service.name,
        "summary": service.summary,
        "facts": facts,
        "what_happens_next": service.what_happens_next,
        "who_will_know": service.who_will_know,
        "links": links,
        "ask_coordinator": offer_coordinator and service.kind == "staff_support_coordinator",
    }


def _service_text(service: Service) -> str:
    contact = service.contact
    parts = [f"**{service.name}**: {service.summary}"]
    for label, value in (
        ("Phone", contact.phone),
        ("Text", contact.text_message),
        ("Email", contact.email),
        ("Open", contact.opening_hours),
        ("Website", contact.web),
    ):
        if value:
            parts.append(f"{label}: {value}")
    if service.what_happens_next:
        parts.append(f"What happens next: {service.what_happens_next}")
    if service.who_will_know:
        parts.append(f"Who will know: {service.who_will_know}")
    return "\n".join(parts)


def services_card(org: OrgConfig, heading: str, intro: str, services: list[Service]) -> Card:
    """Service cards: how to reach each service and what happens next."""
    offer = referrals.coordinators_configured(org)
    context = {
        "heading": heading,
        "intro": intro,
        "services": [_service_context(s, offer_coordinator=offer) for s in services],
        "footer": "Your manager is not told that you looked. Say **support** to see everything, "
        "or **urgent help** if you need someone now.",
    }
    text = "\n\n".join([heading, intro, *(_service_text(s) for s in services)])
    return Card("support_services", context, fallback_text=text)


def urgent_leaflet(org: OrgConfig) -> list[Reply]:
    """What `urgent help` shows when asked for: every urgent service in full (numbers, what
    happens next, who will know), then the offer of the coordinator."""
    urgent = org.support.of_kind("urgent")
    offer = referrals.coordinators_configured(org)
    context = {
        "heading": "If you need help now",
        "not_watched": NOT_WATCHED,
        "services": [_service_context(s, offer_coordinator=False) for s in urgent],
        "danger": "If you are in danger or have hurt yourself, call 999 or go to A&E now.",
        "offer": "You don't have to deal with this on your own. The staff support coordinator "
        "can get in touch with you in confidence. Your manager won't be told."
        if offer
        else "You don't have to deal with this on your own. Say **support** to see who else "
        "can help, in confidence.",
        "offer_coordinator": offer,
    }
    text = "\n\n".join(
        [
            context["heading"],
            NOT_WATCHED,
            *(_service_text(s) for s in urgent),
            context["danger"],
            "When you feel able: " + context["offer"],
        ]
    )
    return [Reply(card=Card("crisis", context, fallback_text=text), purpose="crisis")]


_TEXT_TO = re.compile(
    r"text\s+['\"‘“]?(?P<word>[A-Za-z0-9]+)['\"’”]?\s+to\s+(?P<number>[0-9][0-9 ]*[0-9])",
    re.IGNORECASE,
)
_DIALLED = re.compile(r"\s*(?P<number>\+?[0-9][0-9 ]*[0-9]|[0-9])")


def _tap_actions(service: Service) -> list[dict[str, str]]:
    """Buttons that call or text a service. Teams on phones opens `tel:` and `sms:` links;
    the desktop client may not, so every title carries the number too. Only the number at the
    start of a phone entry is dialled ("0800 123 4567 (option 2)" dials 08001234567)."""
    contact = service.contact
    actions: list[dict[str, str]] = []
    dialled = _DIALLED.match(contact.phone or "")
    if dialled:
        digits = dialled["number"].replace(" ", "")
        title = (
            f"Call {contact.phone}"
            if service.is_emergency
            else f"Call {service.name} on {contact.phone}"
        )
        actions.append({"title": title, "url": f"tel:{digits}"})
    texted = _TEXT_TO.search(contact.text_message or "")
    if texted:
        number = texted["number"].replace(" ", "")
        actions.append(
            {"title": contact.text_message or "", "url": f"sms:{number}?&body={texted['word']}"}
        )
    return actions


def _plain_numbers(services: list[Service]) -> str:
    """The same numbers as words, for a client where a button opens nothing."""
    parts = []
    for service in services:
        if service.contact.phone:
            parts.append(
                service.contact.phone
                if service.is_emergency
                else f"{service.name} {service.contact.phone}"
            )
        if service.contact.text_message:
            parts.append(service.contact.text_message)
    return " · ".join(parts)


def _urgent_split(org: OrgConfig) -> tuple[list[Service], list[Service]]:
    """The organisation's urgent services: the emergency number(s), and the rest."""
    urgent = org.support.of_kind("urgent")
    return [s for s in urgent if s.is_emergency], [s for s in urgent if not s.is_emergency]


CRISIS_WORDING: dict[str, tuple[str, str]] = {
    "self": (
        "I'm really glad you told me. You don't have to go through this on your own.",
        "Please talk to someone now. You can call or text:",
    ),
    "emergency": (
        "If you're in danger or have hurt yourself, please call 999 now or go to A&E, even if "
        "you feel OK.",
        "Help can come to you if you call.",
    ),
}
NOBODY_READS = "I'm a bot, so nobody will see this. Please call or text one of these yourself"


def crisis_replies(org: OrgConfig, signal: CrisisSignal | None = None) -> list[Reply]:
    """The card for a message that signals risk, written to be read in the worst hour of
    someone's life: two short lines of care and what to do, then tap-to-call and tap-to-text
    buttons (the emergency number always among them), then the rest folded away. Happening now
    (`emergency`): 999 first. Worry about someone else: the card for helpers."""
    kind = signal.kind if signal is not None else "self"
    if kind == "someone_else":
        return helpers_replies(org)
    emergency, listening = _urgent_split(org)
    first = emergency + listening if kind == "emergency" else listening + emergency
    emergency_calls = [action for s in emergency for action in _tap_actions(s)][:1]
    listening_lines = [s for s in listening if _tap_actions(s)]
    listening_calls = [action for s in listening_lines for action in _tap_actions(s)]
    listening_calls = listening_calls[: _MOST_CALLS - len(emergency_calls)]
    if kind == "emergency":
        calls = emergency_calls + listening_calls
    else:
        calls = listening_calls + emergency_calls
    offer = referrals.coordinators_configured(org)
    opening, then = CRISIS_WORDING[kind]
    shown = [s for s in first if any(action in calls for action in _tap_actions(s))]
    numbers = _plain_numbers(shown or first)
    context = {
        "opening": opening,
        "then": then,
        "calls": calls,
        "numbers": f"{NOBODY_READS}: {numbers}." if numbers else f"{NOBODY_READS}.",
        "services": [_service_context(s, offer_coordinator=False) for s in first],
        "offer": "When you feel able, the staff support coordinator can get in touch with you "
        "in confidence. Your manager won't be told."
        if offer
        else "When you feel able, say **support** to see who else can help, in confidence.",
        "offer_coordinator": offer,
    }
    text = "\n\n".join([opening, then, context["numbers"], context["offer"]])
    return [Reply(card=Card("crisis_reply", context, fallback_text=text), purpose="crisis")]


def crisis_event(signal: CrisisSignal) -> str:
    """What to count for a crisis card: worry about someone else is counted apart, so the
    lead's figure for urgent help stays about people at risk themselves."""
    return counting.HELPERS_SHOWN if signal.kind == "someone_else" else counting.CRISIS_SHOWN


def helpers_replies(org: OrgConfig) -> list[Reply]:
    """For someone worried that another person is at risk: what helps (asking directly,
    staying with them, the numbers to pass on) and where a supporter gets support too."""
    emergency, listening = _urgent_split(org)
    calls = [action for s in emergency + listening[:1] for action in _tap_actions(s)]
    offer = referrals.coordinators_configured(org)
    to_pass_on = " or ".join(
        f"{s.name} ({s.contact.phone or s.contact.text_message})"
        for s in [s for s in listening if s.contact.phone or s.contact.text_message][:2]
    )
    steps = [
        "Ask them directly if they are thinking about suicide. Asking won't put the idea in "
        "their head, and it can be a relief to be asked.",
        "Listen, and stay with them if you can. You don't need the right words.",
        f"Help them contact {to_pass_on}, or their GP."
        if to_pass_on
        else "Help them contact their GP.",
        "Look after yourself too. "
        + (
            "The staff support coordinator, occupational health or Samaritans can talk it "
            "through with you, in confidence."
            if offer
            else "Occupational health or Samaritans can talk it through with you, or say "
            "**support** to see who else can, in confidence."
        ),
    ]
    context = {
        "opening": "Thank you for looking out for them.",
        "then": "If they are in danger now or have hurt themselves, call 999.",
        "steps": steps,
        "calls": calls,
        "offer_coordinator": offer,
    }
    text = "\n\n".join([context["opening"], context["then"], *steps])
    return [Reply(card=Card("crisis_helpers", context, fallback_text=text), purpose="crisis")]


async def _asks_the_bot(turn: Turn) -> bool:
    """Whether the understanding step is sure the message asks for a command. Nothing may stop
    the crisis check: if the reading fails (a dialog state that cannot be read, say), the
    check runs at its usual, more sensitive bar, and the failure surfaces later in the turn."""
    try:
        reading = await understanding.read(turn)
    except Exception as error:  # the crisis check must run whatever went wrong here
        log.warning("crisis check ran without the understanding step: %s", type(error).__name__)
        return False
    return understanding.asks_the_bot(reading, turn.services.commands, turn.event.text or "")


async def crisis_stage(turn: Turn) -> list[Reply] | None:
    """Before anything else: words that signal risk get urgent help, in private, and a count.

    The message itself is not stored or logged; the dialog state is left as it was, so whatever
    was in progress can carry on afterwards. When only the learned model raised it (no phrase
    did), the services for any need in the same words follow the urgent help, so a message
    the model misread ("we lost dad on Sunday") still reaches the help it was about. A message
    the understanding step is sure asks for one of the bot's commands ("can I see what I put
    last month") needs the model surer (`understanding.asks_the_bot`): the reading is the one
    the command stage then uses, read once.
    """
    text = turn.event.text
    if not text:
        return None
    signal = await detect_off_loop(text, _support(turn), asks_the_bot=await _asks_the_bot(turn))
    if signal is None:
        return None
    await count_events(turn, [(crisis_event(signal), "", "")])
    log.info(
        "crisis card (%s) shown in a %s conversation", signal.kind, turn.event.conversation_kind
    )
    replies = crisis_replies(turn.services.org, signal)
    if signal.rule == "model" and signal.kind in ("self", "emergency"):
        replies += await need_stage(turn) or []
    return _private(turn, replies)


async def crisis_without_records(event: Incoming, org: OrgConfig) -> list[Reply]:
    """The crisis card for a turn that could not reach the database: the check and the card
    need no records, so a person at risk is never told only that the bot cannot reach them.
    Nothing is counted (nothing can be written); empty when the message signals no risk."""
    signal = await detect_off_loop(event.text, org.support) if event.text else None
    if signal is None:
        return []
    log.info("crisis card (%s) shown without the database", signal.kind)
    return _private_for(event, crisis_replies(org, signal))


def names_a_need(turn: Turn) -> bool:
    """Whether the text names a need the support config knows ("to talk to someone in
    confidence", "money worries"): its matching services say more than the whole menu."""
    return bool(turn.event.text and detect_needs(turn.event.text, _support(turn)))


async def need_stage(turn: Turn) -> list[Reply] | None:
    """Personal chat: needs recognised in what the person wrote lead to the matching services."""
    if not turn.event.personal or not turn.event.text or turn.event.value:
        return None
    support = _support(turn)
    matches = detect_needs(turn.event.text, support)
    if not matches:
        return None
    needs = [m.need for m in matches]
    services = services_for_needs(needs, support)
    labels = [support.need(n).label for n in needs]
    only = needs[0] if len(needs) == 1 else ""
    await count_events(
        turn,
        [(counting.NEED_RECOGNISED, n, "") for n in needs]
        + [(counting.SERVICE_SHOWN, only, s.id) for s in services],
    )
    intro = (
        f"What I picked up: {' · '.join(labels)}. Not quite right? Say **support** to choose "
        "from the full list."
    )
    card = services_card(
        turn.services.org,
        "Thank you for telling me. These can help, in confidence",
        intro,
        services,
    )
    return [Reply(card=card)]


async def _menu(turn: Turn, _argument: str) -> list[Reply]:
    support = _support(turn)
    needs = [{"id": need.id, "label": need.label} for need in support.needs]
    intro = (
        "What would you like help with? Choose one to see who can help and how to reach them. "
        "Your manager is not told."
    )
    text = intro + "\n\n" + "\n".join(f"- {n['label']}" for n in needs)
    await count_events(turn, [(counting.MENU_SHOWN, "", "")])
    card = Card(
        "support_menu",
        {"intro": intro, "needs": needs, "urgent": "Need someone right now? Say **urgent help**."},
        fallback_text=text,
    )
    return _private(turn, [Reply(card=card)])


async def _need_chosen(turn: Turn, _argument: str) -> list[Reply]:
    support = _support(turn)
    need = support.need(str((turn.event.value or {}).get("need", "")))
    if need is None:
        return await _menu(turn, "")
    services = services_for_need(need.id, support)
    await count_events(
        turn,
        [(counting.NEED_CHOSEN, need.id, "")]
        + [(counting.SERVICE_SHOWN, need.id, s.id) for s in services],
    )
    if not services:
        text = (
            f"I don't have a service listed for {need.label.lower()} yet. The staff support "
            "coordinator or the people under **urgent help** can still help."
        )
        return [Reply(text=text)]
    card = services_card(turn.services.org, f"Who can help: {need.label}", "", services)
    return [Reply(card=card)]


async def _urgent(turn: Turn, _argument: str) -> list[Reply]:
    await count_events(turn, [(counting.CRISIS_SHOWN, "", "")])
    return _private(turn, urgent_leaflet(turn.services.org))


def _form_card(
    turn: Turn, *, error: str = "", values: dict[str, Any] | None = None, token: str = ""
) -> Card:
    support = _support(turn)
    values = values or {}
    coordinator = next(iter(support.of_kind("staff_support_coordinator")), None)
    who = (
        coordinator.who_will_know
        if coordinator and coordinator.who_will_know
        else "Only the staff support coordinators. Your manager is never told."
    )
    expected = support.coordinator_requests.expected_response
    context = {
        "intro": f"The coordinator usually gets in touch {expected}, in the way you choose.",
        "who_will_know": who,
        "error": error,
        "token": token or secrets.token_urlsafe(16),
        "name": str(values.get("name") or turn.event.user_name or ""),
        "method": str(values.get("method") or "teams"),
        "detail": str(values.get("detail") or ""),
        "time": str(values.get("time") or "any"),
        "note": str(values.get("note") or ""),
        "methods": [{"value": k, "title": v} for k, v in referrals.CONTACT_METHODS.items()],
        "times": [{"value": k, "title": v} for k, v in referrals.CONTACT_TIMES.items()],
    }
    text = (
        "Ask the staff support coordinator to get in touch. " + context["intro"] + " Who will see "
        "it: " + who
    )
    return Card("coordinator_request_form", context, fallback_text=text)


def _no_coordinator(turn: Turn) -> list[Reply]:
    """Honest when nobody can receive a request, with other ways to get support."""
    support = _support(turn)
    services = support.of_kind("staff_support_coordinator")[:1]
    services += [s for s in services_for_need("talk_confidentially", support) if s not in services]
    text = (
        "I'm sorry: I can't reach the staff support coordinator through Teams at the moment, so "
        "I haven't sent anything. You can still contact them directly, or one of these can help."
    )
    card = services_card(turn.services.org, "Other ways to get support", "", services[:3])
    return [Reply(text=text), Reply(card=card)]


async def _ask_coordinator(turn: Turn, _argument: str) -> list[Reply]:
    if not turn.event.user_id:
        return [Reply(text="I couldn't tell who you are, so I can't send a request.")]
    async with turn.services.sessions() as session:
        reachable = await referrals.reachable_coordinators(session, turn.services.org)
    if not reachable:
        return _private(turn, _no_coordinator(turn))
    return _private(turn, [Reply(card=_form_card(turn))])


async def _send_request(turn: Turn, _argument: str) -> list[Reply]:
    value = turn.event.value or {}
    if not turn.event.user_id:
        return [Reply(text="I couldn't tell who you are, so I can't send a request.")]
    try:
        form = referrals.read_form(value)
    except referrals.FormError as error:
        card = _form_card(turn, error=str(error), values=value, token=str(value.get("token", "")))
        return [Reply(card=card, replaces_card=True)]
    in_note = form.note and await detect_off_loop(form.note, _support(turn))
    first = crisis_replies(turn.services.org, in_note) if in_note else []
    org = turn.services.org
    async with turn.services.sessions() as session:
        try:
            row, created = await referrals.submit(
                session,
                org,
                tenant_id=turn.event.tenant_id,
                requester=turn.event.user_id,
                form=form,
                now=turn.now,
                secrets=turn.services.secrets,
            )
        except referrals.NoCoordinator:
            await session.commit()
            return first + _no_coordinator(turn)
        except referrals.FormError as error:
            return [Reply(text=str(error))]
        if in_note:
            await counting.bump(
                session, crisis_event(in_note), turn.now, time_zone=org.organisation.timezone
            )
        await session.commit()
    if created:
        turn.services.wake_sender()
    return [*first, Reply(card=_sent_card(turn, row), replaces_card=not first)]


def _sent_card(turn: Turn, row: Any) -> Card:
    """The person's acknowledgement: when to expect contact, who can see it, how to withdraw."""
    expected = _support(turn).coordinator_requests.expected_response
    method = referrals.CONTACT_METHODS[row.contact_method]
    method = method[0].lower() + method[1:]
    message = (
        f"Thank you. Your request has gone to the staff support coordinator. They usually get in "
        f"touch {expected}, by {method}."
    )
    privacy = (
        "Only the coordinator, and their backup if they're away, can see it. Your manager is "
        "not told."
    )
    status = f"Request #{row.id}. Say **my requests** to check on it or withdraw it."
    return Card(
        "coordinator_request_sent",
        {"message": message, "privacy": privacy, "status": status, "request_id": row.id},
        fallback_text=" ".join([message, privacy, status]),
    )


async def _my_requests(turn: Turn, _argument: str) -> list[Reply]:
    if not turn.event.user_id:
        return [Reply(text="I couldn't tell who you are.")]
    async with turn.services.sessions() as session:
        rows = await referrals.requests_of(session, turn.event.user_id)
    if not rows:
        return [
            Reply(
                text="You haven't asked the staff support coordinator to contact you. "
                "Say **support** to see who can help."
            )
        ]
    org = turn.services.org
    items = [
        {
            "id": row.id,
            "title": f"Request #{row.id}, sent {referrals.local_time(row.created_at, org)}",
            "status": referrals.STATUS_WORDS.get(row.status, row.status),
            "can_withdraw": row.status in ACTIVE_STATES,
        }
        for row in rows
    ]
    text = "Your requests to the staff support coordinator:\n\n" + "\n".join(
        f"- {i['title']}: {i['status']}" for i in items
    )
    return [Reply(card=Card("support_my_requests", {"requests": items}, fallback_text=text))]


async def _withdraw(turn: Turn, _argument: str) -> list[Reply]:
    value = turn.event.value or {}
    if not turn.event.user_id:
        return [Reply(text="I couldn't tell who you are.")]
    async with turn.services.sessions() as session:
        row = await referrals.own_request(session, value.get("request_id"), turn.event.user_id)
        if row is None:
            return [Reply(text="I can't find that request.")]
        changed = await referrals.withdraw(session, turn.services.org, row, turn.now)
        await session.commit()
    if not changed:
        return [
            Reply(
                text=f"Request #{row.id} is already {row.status}, so there's nothing to withdraw."
            )
        ]
    turn.services.wake_sender()
    return [
        Reply(
            text=f"Done: request #{row.id} is withdrawn, and the coordinator has been told not to "
            "contact you about it. You can ask again whenever you like."
        )
    ]


async def _coordinator_action(turn: Turn, action: str) -> list[Reply]:
    value = turn.event.value or {}
    if not turn.event.user_id:
        return [Reply(text="I couldn't tell who you are.")]
    org = turn.services.org
    async with turn.services.sessions() as session:
        row, said = await referrals.coordinator_action(
            session,
            org,
            request_id=value.get("request_id"),
            coordinator=turn.event.user_id,
            action=action,
            now=turn.now,
        )
        await session.commit()
        upn = await referrals.upn_of(session, row.requester_aad_id) if row is not None else None
    if row is None:
        return [Reply(text=said)]
    return [
        Reply(
            card=referrals.coordinator_card(row, org, turn.services.secrets, upn=upn),
            replaces_card=True,
        ),
        Reply(text=said),
    ]


async def _contacted(turn: Turn, _argument: str) -> list[Reply]:
    return await _coordinator_action(turn, "contacted")


async def _closed(turn: Turn, _argument: str) -> list[Reply]:
    return await _coordinator_action(turn, "closed")


SUPPORT = Command(
    "support",
    "find support: who can help, in confidence, and how to reach them",
    _menu,
    phrases=("find support", "get support", "support menu", "i need support"),
    scopes=EVERYWHERE,
    examples=(
        "who can i talk to",
        "where can i get help",
        "what support is there",
        "i need some help",
        "show me the support options",
        "who can help me",
        "what help is available for staff",
        "list the services",
        "employee assistance programme",
        "counselling",
        "i would like to speak to someone",
    ),
    first_help=1,
    asked_for_in_trouble=True,
)
URGENT_HELP = Command(
    "urgent help",
    "numbers to call or text if you need help right now",
    _urgent,
    phrases=("urgent", "crisis", "emergency", "i need help now"),
    scopes=EVERYWHERE,
    examples=(
        "crisis line number",
        "who do i call in an emergency",
        "i need help right now",
        "samaritans number",
        "emergency numbers",
        "urgent support",
    ),
    first_help=2,
    asked_for_in_trouble=True,
)
MY_REQUESTS = Command(
    "my requests",
    "see or withdraw your requests to the staff support coordinator",
    _my_requests,
    phrases=("my request", "request status"),
    examples=(
        "has the coordinator got my request",
        "what happened to my request",
        "withdraw my request",
        "cancel my coordinator request",
        "check on my referral",
    ),
)
SUPPORT_NEED = Command("support need", "services for a need", _need_chosen, typed=False)
ASK_COORDINATOR = Command(
    "ask coordinator",
    "the coordinator request form",
    _ask_coordinator,
    scopes=EVERYWHERE,
    typed=False,
)
SEND_REQUEST = Command("send coordinator request", "send the form", _send_request, typed=False)
WITHDRAW_REQUEST = Command("withdraw request", "withdraw a request", _withdraw, typed=False)
COORDINATOR_CONTACTED = Command(
    "coordinator contacted", "a coordinator made contact", _contacted, typed=False
)
COORDINATOR_CLOSED = Command("coordinator closed", "a coordinator closed it", _closed, typed=False)

COMMANDS = (
    SUPPORT,
    URGENT_HELP,
    MY_REQUESTS,
    SUPPORT_NEED,
    ASK_COORDINATOR,
    SEND_REQUEST,
    WITHDRAW_REQUEST,
    COORDINATOR_CONTACTED,
    COORDINATOR_CLOSED,
)
