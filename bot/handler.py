"""The bot's turn handler: installs, messages, card submits; everything else is acknowledged."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

from botbuilder.core import TurnContext
from botbuilder.core.bot import Bot
from botbuilder.schema import (
    Activity,
    ActivityTypes,
    InvokeResponse,
)

from bot import teams
from bot.cards import attachment_json
from bot.connector import ConnectorTransport, RateLimited, outgoing_activity, reply_address
from bot.storage import DatabaseStorage
from core import db
from core.context import Services, Turn
from core.events import ChannelPost, Incoming, PersonalChat, Recipient, Reply
from core.store import directory
from core.store.outbox import enqueue_reply
from dialogs import basics
from dialogs.router import Router
from dialogs.support import crisis_without_records

log = logging.getLogger(__name__)

DIALOG_STATE = "dialog"

# Turns that may hold a database connection at once. The pool has 20 (core/db.py); the outbox
# sender's writes take at most 4 (scheduler/sender.py, db_concurrency), plus its heartbeat and
# claim. Turns beyond these wait here, first come first served, instead of timing out at the
# pool during a fan-out (a turn holds one connection, lent to all its sessions).
TURN_CONNECTIONS = 12
TURN_TIMEOUT = 10.0
"""Seconds a turn waits for the database (a free connection included) before it gives up and
apologises: Teams waits 15 s for the answer to a message or a card press."""
DATABASE_APOLOGY = (
    "Sorry, I can't reach my records just now, so I couldn't do that. "
    "Please try again in a few minutes."
)


def state_key(activity: Activity) -> str:
    """botbuilder ConversationState's storage key, so state stored by either is the same row."""
    channel_id = activity.channel_id
    conversation_id = activity.conversation.id if activity.conversation else None
    if not channel_id or not conversation_id:
        raise TypeError("activity has no channel id or conversation id")
    return f"{channel_id}/conversations/{conversation_id}"


def _fingerprint(document: dict[str, Any]) -> str:
    return json.dumps(
        {k: v for k, v in document.items() if k != "e_tag"}, sort_keys=True, default=repr
    )


class WellbeingBot(Bot):
    """Converts Teams activities to neutral events, runs the router, and sends what it returns."""

    def __init__(
        self,
        services: Services,
        router: Router,
        storage: DatabaseStorage,
        transport: ConnectorTransport,
        *,
        turn_timeout: float = TURN_TIMEOUT,
    ):
        self.services = services
        self.turn_timeout = turn_timeout
        self.router = router
        self.storage = storage
        self.transport = transport  # sends the turn's replies as well as the outbox's
        self._connections = asyncio.Semaphore(TURN_CONNECTIONS)

    @contextlib.asynccontextmanager
    async def _database(self) -> AsyncIterator[None]:
        """The database part of a message turn: one connection for all of it (checked out once,
        after waiting for a free place among TURN_CONNECTIONS), given back before the replies go
        out over HTTP."""
        async with self._connections, self.services.sessions.one_connection():
            yield

    async def on_turn(self, context: TurnContext) -> None:
        activity = context.activity
        expected_tenant = self.services.org.organisation.tenant_id
        if expected_tenant and teams.tenant_id(activity) != expected_tenant:
            log.warning("ignored an activity from another tenant (type %s)", activity.type)
            return
        if activity.type == ActivityTypes.message:
            await self._on_message(context)
        elif activity.type == ActivityTypes.installation_update:
            await db.abandon_after(self._on_installation_update(context), self.turn_timeout)
        elif activity.type == ActivityTypes.conversation_update:
            await db.abandon_after(self._on_conversation_update(context), self.turn_timeout)
        elif activity.type == ActivityTypes.invoke and activity.name == "adaptiveCard/action":
            await self._on_card_action(context)
        elif activity.type == ActivityTypes.invoke:
            # Teams can send invokes the bot has no use for; the SDK would answer 501 for them.
            log.debug("acknowledged an unhandled invoke")
            await context.send_activity(
                Activity(type=ActivityTypes.invoke_response, value=InvokeResponse(status=200))
            )
        else:
            log.debug("acknowledged an unhandled activity of type %s", activity.type)

    async def _on_message(self, context: TurnContext) -> None:
        activity = context.activity
        event = teams.to_incoming(activity)
        if not event.personal and not teams.mentions_bot(activity) and not event.value:
            return
        replies = await self._routed_in_time(context, event)
        if replies is None:
            replies = await crisis_without_records(event, self.services.org) or [
                Reply(text=DATABASE_APOLOGY)
            ]
        await self._deliver(context, event, replies)

    async def _on_card_action(self, context: TurnContext) -> None:
        """Action.Execute: the card that replaces the pressed one goes in the invoke response."""
        event = teams.to_incoming(context.activity)
        replies = await self._routed_in_time(context, event)
        if replies is None:
            body = {
                "statusCode": 200,
                "type": "application/vnd.microsoft.activity.message",
                "value": DATABASE_APOLOGY,
            }
            await context.send_activity(
                Activity(
                    type=ActivityTypes.invoke_response, value=InvokeResponse(status=200, body=body)
                )
            )
            return
        replacement = await self._deliver(context, event, replies)
        if replacement is not None and replacement.card is not None:
            body = {
                "statusCode": 200,
                "type": "application/vnd.microsoft.card.adaptive",
                "value": attachment_json(replacement.card, self.services.card_banner)["content"],
            }
        else:
            body = {
                "statusCode": 200,
                "type": "application/vnd.microsoft.activity.message",
                "value": "Done",
            }
        await context.send_activity(
            Activity(
                type=ActivityTypes.invoke_response, value=InvokeResponse(status=200, body=body)
            )
        )

    async def _routed_in_time(self, context: TurnContext, event: Incoming) -> list[Reply] | None:
        """The database part of a turn and its replies, or None when the database could not be
        reached or did not answer within `turn_timeout` (a partition makes it silent, not
        refuse): the turn is then given up, so the person hears an apology within Teams' 15 s,
        and a card press gets it in its invoke response instead of a 501."""

        async def routed() -> list[Reply]:
            async with self._database():
                return await self._route(context, event, await self._remember_sender(context))

        try:
            return await db.abandon_after(routed(), self.turn_timeout)
        except db.DatabaseTimeout:
            log.error("turn gave up waiting for the database after %g s", self.turn_timeout)
        except Exception as error:
            if not db.is_unreachable(error):
                raise
            log.error("turn could not reach the database: %s", type(error).__name__)
        return None

    async def _route(
        self, context: TurnContext, event: Incoming, document: dict[str, Any] | None
    ) -> list[Reply]:
        """Route the event with the conversation's dialog state (`document`, as stored, or None);
        queue the replies addressed elsewhere. The state is written back only when it changed (a
        conversation with no dialog in progress and none stored gets no row)."""
        key = state_key(context.activity)
        stored = document is not None
        document = document if stored else {}
        before = _fingerprint(document)
        if DIALOG_STATE not in document:
            document[DIALOG_STATE] = {}
        state = document[DIALOG_STATE]
        replies = await self.router.on_message(
            Turn(event=event, services=self.services, state=state)
        )
        if (stored or document != {DIALOG_STATE: {}}) and _fingerprint(document) != before:
            await self.storage.write({key: document})  # conditional on the e-tag read
        queued = [reply for reply in replies if reply.to is not None]
        if queued:
            async with self.services.sessions() as session:
                for reply in queued:
                    await enqueue_reply(session, event.tenant_id, reply, now=self.services.clock())
                await session.commit()
            self.services.wake_sender()
        return replies

    async def _deliver(
        self, context: TurnContext, event: Incoming, replies: list[Reply]
    ) -> Reply | None:
        """Send the replies to this conversation. Returns the card that replaces the pressed one
        when the event came from Action.Execute (the caller answers with it)."""
        replacement = None
        address = reply_address(context.activity)
        for reply in replies:
            if reply.to is not None:
                continue
            if reply.replaces_card and event.via_invoke:
                replacement = reply
                continue
            unsent = reply
            try:
                if reply.replaces_card and context.activity.reply_to_id:
                    update = {
                        **reply_messages(reply, self.services.card_banner)[-1],
                        "id": context.activity.reply_to_id,
                    }
                    await self.transport.reply(address, update, tenant_id=event.tenant_id)
                else:
                    for message in reply_messages(reply, self.services.card_banner):
                        await self.transport.reply(address, message, tenant_id=event.tenant_id)
                        if reply.text and reply.card:  # the text went: only the card is left
                            unsent = replace(reply, text=None, mentions=())
            except RateLimited:
                to = _same_place(event)
                if to is None:
                    raise
                await self._hand_to_outbox(event, to, unsent)
        return replacement

    async def _hand_to_outbox(self, event: Incoming, to: Recipient, reply: Reply) -> None:
        """A reply Teams refused for its rate limit longer than the turn can wait goes through
        the outbox (sealed: it may hold what the person answered, or name them), which paces
        and retries it on the same per-tenant timetable as the fan-out, as a new message in
        the same chat, or the same channel thread."""
        queued = replace(reply, to=to, replaces_card=False)
        async with self.services.sessions() as session:
            await enqueue_reply(
                session,
                event.tenant_id,
                queued,
                now=self.services.clock(),
                secrets=self.services.secrets,
            )
            await session.commit()
        self.services.wake_sender()
        log.info("a reply refused for Teams' rate limit was handed to the outbox")

    async def _remember_sender(self, context: TurnContext) -> dict[str, Any] | None:
        """Every message refreshes the stored reference: service URLs change by region. Returns
        the conversation's stored dialog state (None when there is none), read in the same
        transaction: one query for the routing rows, one for the state, one commit."""
        activity = context.activity
        info = teams.conversation_info(activity)
        person = teams.aad_object_id(activity)
        key = state_key(activity)
        async with self.services.sessions() as session:
            now = self.services.clock()
            loaded = await directory.load_routing(session, info.id, person)
            await directory.remember_conversation(session, info, now=now)
            if person:
                await directory.remember_person(
                    session,
                    person,
                    info.tenant_id,
                    teams_user_id=activity.from_property.id,
                    time_zone=teams.time_zone(activity),
                    personal_conversation_id=info.id if info.kind == "personal" else None,
                    now=now,
                )
            document = (await self.storage.read_in(session, [key])).get(key)
            await session.commit()
        del loaded
        return document

    async def _on_installation_update(self, context: TurnContext) -> None:
        activity = context.activity
        action = (activity.action or "").lower()
        if action.startswith("add"):
            await self._installed(context)
        elif action.startswith("remove"):
            await self._uninstalled(context)

    async def _installed(self, context: TurnContext) -> None:
        activity = context.activity
        info = teams.conversation_info(activity)
        person = teams.aad_object_id(activity)
        team = teams.team_info(activity)
        newly_personal = False
        now = self.services.clock()
        async with self.services.sessions() as session:
            if team:
                await directory.remember_team(
                    session,
                    team["id"],
                    info.tenant_id,
                    aad_group_id=team.get("aadGroupId"),
                    name=team.get("name"),
                    now=now,
                )
            await directory.remember_conversation(session, info, now=now)
            if info.kind == "personal" and person:
                existing = await session.get(directory.Person, person)
                newly_personal = existing is None or not existing.personal_installed
                await directory.remember_person(
                    session,
                    person,
                    info.tenant_id,
                    teams_user_id=activity.from_property.id,
                    time_zone=teams.time_zone(activity),
                    personal_conversation_id=info.id,
                    now=now,
                )
                if newly_personal:
                    # Through the paced outbox: an admin pre-installing the app for every member
                    # of staff makes a flood of installs, and Teams' rate limits still apply.
                    welcome = basics.welcome(
                        self.services.org.organisation.name,
                        self.services.org.organisation.urgent_help,
                        self.services.commands,
                    )
                    await enqueue_reply(
                        session,
                        info.tenant_id,
                        replace(welcome, to=PersonalChat(person), purpose="welcome"),
                        now=now,
                    )
            await session.commit()
        log.info("installed in a %s conversation", info.kind)
        if newly_personal:
            self.services.wake_sender()

    async def _uninstalled(self, context: TurnContext) -> None:
        activity = context.activity
        info = teams.conversation_info(activity)
        person = teams.aad_object_id(activity)
        async with self.services.sessions() as session:
            if info.kind == "personal" and person:
                await directory.personal_install_removed(session, person, now=self.services.clock())
            elif info.team_id:
                await directory.forget_team(session, info.team_id)
            else:
                await directory.forget_conversation(session, info.id)
            await session.commit()
        log.info("uninstalled from a %s conversation", info.kind)

    async def _on_conversation_update(self, context: TurnContext) -> None:
        activity = context.activity
        bot_id = activity.recipient.id if activity.recipient else None
        added = activity.members_added or []
        removed = activity.members_removed or []
        if any(member.id == bot_id for member in added):
            await self._installed(context)
        if any(member.id == bot_id for member in removed):
            await self._uninstalled(context)
            return
        team = teams.team_info(activity)
        if not team:
            return
        joined = [m.aad_object_id.lower() for m in added if m.id != bot_id and m.aad_object_id]
        left = [m.aad_object_id.lower() for m in removed if m.id != bot_id and m.aad_object_id]
        async with self.services.sessions() as session:
            await directory.remember_team(
                session,
                team["id"],
                teams.tenant_id(activity),
                aad_group_id=team.get("aadGroupId"),
                name=team.get("name"),
                now=self.services.clock(),
            )
            await directory.add_members(session, team["id"], joined)
            await directory.remove_members(session, team["id"], left)
            await session.commit()


def _same_place(event: Incoming) -> Recipient | None:
    """Where a reply to `event` goes when the outbox sends it: the person's chat with the bot,
    or the channel thread (or group chat) it was asked in."""
    if event.personal:
        return PersonalChat(event.user_id) if event.user_id else None
    conversation, _, thread = event.conversation_id.partition(";messageid=")
    return ChannelPost(conversation, thread or None) if conversation else None


def reply_messages(reply: Reply, banner: str = "") -> list[dict[str, Any]]:
    """A reply in the turn as Bot Connector JSON: its text (with any mentions), then its card,
    each built as the outbox builds a message (bot.connector.outgoing_activity)."""
    messages = []
    if reply.text:
        messages.append(outgoing_activity(replace(reply, card=None, replaces_card=False)))
    if reply.card:
        messages.append(
            outgoing_activity(replace(reply, text=None, mentions=(), replaces_card=False), banner)
        )
    return messages
