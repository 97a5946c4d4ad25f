"""Reading Teams activities: who, where, and what, converted once at the edge."""

from __future__ import annotations

import re
from typing import Any

from botbuilder.core import TurnContext
from botbuilder.schema import Activity

from core.events import ConversationKind, Incoming
from core.store.directory import ConversationInfo

_AT_TAG = re.compile(r"<at>.*?</at>", re.IGNORECASE | re.DOTALL)
_KINDS: dict[str, ConversationKind] = {
    "personal": "personal",
    "channel": "channel",
    "groupChat": "groupChat",
}


def channel_data(activity: Activity) -> dict[str, Any]:
    data = activity.channel_data
    return data if isinstance(data, dict) else {}


def tenant_id(activity: Activity) -> str:
    conversation_tenant = (
        getattr(activity.conversation, "tenant_id", None) if activity.conversation else None
    )
    return conversation_tenant or (channel_data(activity).get("tenant") or {}).get("id") or ""


def conversation_kind(activity: Activity) -> ConversationKind:
    kind = (
        getattr(activity.conversation, "conversation_type", None) if activity.conversation else None
    )
    if kind in _KINDS:
        return _KINDS[kind]
    if channel_data(activity).get("team"):
        return "channel"
    return "groupChat" if getattr(activity.conversation, "is_group", False) else "personal"


def aad_object_id(activity: Activity) -> str | None:
    sender = activity.from_property
    value = getattr(sender, "aad_object_id", None) if sender else None
    return value.lower() if value else None


def team_info(activity: Activity) -> dict[str, Any] | None:
    team = channel_data(activity).get("team")
    return team if isinstance(team, dict) and team.get("id") else None


def time_zone(activity: Activity) -> str | None:
    for entity in activity.entities or []:
        props = getattr(entity, "additional_properties", None) or {}
        if getattr(entity, "type", None) == "clientInfo" and props.get("timezone"):
            return props["timezone"]
    return getattr(activity, "local_timezone", None) or None


def mentions_bot(activity: Activity) -> bool:
    bot_id = activity.recipient.id if activity.recipient else None
    for mention in TurnContext.get_mentions(activity):
        mentioned = (mention.additional_properties or {}).get("mentioned") or {}
        if bot_id and mentioned.get("id") == bot_id:
            return True
    return False


def message_text(activity: Activity) -> str:
    """The text with the bot's @mention (and any other <at> tags) removed. Not with the SDK's
    remove_recipient_mention: it fails on a mention of the bot in a message without text, and
    removes the bot's name wherever else the text says it."""
    text = activity.text or ""
    return _AT_TAG.sub(" ", text).replace("&nbsp;", " ").strip()


def submitted_value(activity: Activity) -> dict[str, Any] | None:
    """Inputs from Action.Submit (`value`) or Action.Execute (`value.action.data` plus the verb)."""
    value = activity.value
    if not isinstance(value, dict):
        return None
    action = value.get("action")
    if activity.type == "invoke" and isinstance(action, dict):
        data = dict(action.get("data") or {})
        if action.get("verb"):
            data.setdefault("verb", action["verb"])
        return data
    return dict(value)


def to_incoming(activity: Activity) -> Incoming:
    return Incoming(
        tenant_id=tenant_id(activity),
        user_id=aad_object_id(activity),
        conversation_kind=conversation_kind(activity),
        conversation_id=activity.conversation.id,
        text=message_text(activity),
        value=submitted_value(activity),
        time_zone=time_zone(activity),
        via_invoke=activity.type == "invoke",
        team_id=(team_info(activity) or {}).get("id"),
        user_name=getattr(activity.from_property, "name", None) or None,
        channel_type=(channel_data(activity).get("channel") or {}).get("type"),
    )


def conversation_info(activity: Activity) -> ConversationInfo:
    """The reference to store; channel conversations lose the ';messageid=' thread suffix."""
    reference = TurnContext.get_conversation_reference(activity)
    kind = conversation_kind(activity)
    conversation_id = activity.conversation.id
    if kind == "channel":
        conversation_id = conversation_id.split(";messageid=")[0]
        reference.conversation.id = conversation_id
    reference.activity_id = None
    team = team_info(activity)
    return ConversationInfo(
        id=conversation_id,
        kind=kind,
        tenant_id=tenant_id(activity),
        service_url=activity.service_url,
        bot_id=activity.recipient.id if activity.recipient else "",
        reference=reference.serialize(),
        aad_object_id=aad_object_id(activity) if kind == "personal" else None,
        team_id=team["id"] if team else None,
    )
