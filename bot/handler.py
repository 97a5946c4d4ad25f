"""The bot's turn handler: installs, messages, card submits; everything else is acknowledged."""

from __future__ import annotations

import logging
from dataclasses import replace

from botbuilder.core import ConversationState, MessageFactory, TurnContext
from botbuilder.core.bot import Bot
from botbuilder.schema import (
    Activity,
    ActivityTypes,
    ChannelAccount,
    InvokeResponse,
    Mention,
)

from bot import teams
from bot.cards import card_attachment
from core import directory
from dialogs import basics
from dialogs.context import Services, Turn
from dialogs.events import Incoming, PersonalChat, Reply
from dialogs.router import Router
from scheduler.outbox import enqueue_reply

log = logging.getLogger(__name__)

DIALOG_STATE = "dialog"


class WellbeingBot(Bot):
    """Converts Teams activities to neutral events, runs the router, and sends what it returns."""

    def __init__(self, services: Services, router: Router, conversation_state: ConversationState):
        self.services = services
        self.router = router
        self.conversation_state = conversation_state
        self.dialog_state = conversation_state.create_property(DIALOG_STATE)

    async def on_turn(self, context: TurnContext) -> None:
        activity = context.activity
        expected_tenant = self.services.org.organisation.tenant_id
        if expected_tenant and teams.tenant_id(activity) != expected_tenant:
            log.warning("ignored an activity from another tenant (type %s)", activity.type)
            return
        if activity.type == ActivityTypes.message:
            await self._on_message(context)
        elif activity.type == ActivityTypes.installation_update:
            await self._on_installation_update(context)
        elif activity.type == ActivityTypes.conversation_update:
            await self._on_conversation_update(context)
        elif activity.type == ActivityTypes.invoke and activity.name == "adaptiveCard/action":
            await self._on_card_action(context)
        else:
            log.debug("acknowledged an unhandled activity of type %s", activity.type)

    async def _on_message(self, context: TurnContext) -> None:
        activity = context.activity
        event = teams.to_incoming(activity)
        if not event.personal and not teams.mentions_bot(activity) and not event.value:
            return
        await self._remember_sender(context)
        await self._run(context, event)

    async def _on_card_action(self, context: TurnContext) -> None:
        """Action.Execute: the card that replaces the pressed one goes in the invoke response."""
        await self._remember_sender(context)
        replacement = await self._run(context, teams.to_incoming(context.activity))
        if replacement is not None and replacement.card is not None:
            body = {
                "statusCode": 200,
                "type": "application/vnd.microsoft.card.adaptive",
                "value": card_attachment(replacement.card).content,
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

    async def _run(self, context: TurnContext, event: Incoming) -> Reply | None:
        """Route the event; send or queue what comes back. Returns the card that replaces the
        pressed one when the event came from Action.Execute (the caller answers with it)."""
        state = await self.dialog_state.get(context, dict)
        replies = await self.router.on_message(
            Turn(event=event, services=self.services, state=state)
        )
        await self.dialog_state.set(context, state)
        await self.conversation_state.save_changes(context)
        queued = [reply for reply in replies if reply.to is not None]
        if queued:
            async with self.services.sessions() as session:
                for reply in queued:
                    await enqueue_reply(session, event.tenant_id, reply, now=self.services.clock())
                await session.commit()
            self.services.wake_sender()
        replacement = None
        for reply in replies:
            if reply.to is not None:
                continue
            if reply.replaces_card and event.via_invoke:
                replacement = reply
            elif reply.replaces_card and context.activity.reply_to_id:
                update = MessageFactory.attachment(card_attachment(reply.card))
                update.id = context.activity.reply_to_id
                await context.update_activity(update)
            else:
                await send_reply(context, reply)
        return replacement

    async def _remember_sender(self, context: TurnContext) -> None:
        """Every message refreshes the stored reference: service URLs change by region."""
        activity = context.activity
        info = teams.conversation_info(activity)
        person = teams.aad_object_id(activity)
        async with self.services.sessions() as session:
            await directory.remember_conversation(session, info)
            if person:
                await directory.remember_person(
                    session,
                    person,
                    info.tenant_id,
                    teams_user_id=activity.from_property.id,
                    time_zone=teams.time_zone(activity),
                    personal_conversation_id=info.id if info.kind == "personal" else None,
                )
            await session.commit()

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
        async with self.services.sessions() as session:
            if team:
                await directory.remember_team(
                    session,
                    team["id"],
                    info.tenant_id,
                    aad_group_id=team.get("aadGroupId"),
                    name=team.get("name"),
                )
            await directory.remember_conversation(session, info)
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
                        now=self.services.clock(),
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
                await directory.personal_install_removed(session, person)
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
            )
            await directory.add_members(session, team["id"], joined)
            await directory.remove_members(session, team["id"], left)
            await session.commit()


async def send_reply(context: TurnContext, reply: Reply) -> None:
    """Text, then the card (with its plain-text form for clients that show no cards)."""
    if reply.text:
        message = MessageFactory.text(reply.text)
        if reply.mentions:
            message.entities = [
                Mention(
                    mentioned=ChannelAccount(id=m.user_id, name=m.name), text=m.tag, type="mention"
                )
                for m in reply.mentions
            ]
        await context.send_activity(message)
    if reply.card:
        await context.send_activity(MessageFactory.attachment(card_attachment(reply.card)))
