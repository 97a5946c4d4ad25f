"""Builders for real-shaped Teams activities, modelled on tests/fixtures/teams (recorded from
Microsoft's Teams simulator) with the ids real Teams uses."""

from __future__ import annotations

import copy
import json
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "teams"
TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
BOT_ID = "28:bot-app-id"
BOT_NAME = "Wellbeing"


def fixture(name: str) -> dict[str, Any]:
    """A recorded activity, as received from the simulator."""
    return json.loads((FIXTURES / name).read_text())


@dataclass
class TeamsUser:
    aad_object_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    name: str = "Alex Wilber"
    tenant_id: str = TENANT
    time_zone: str = "Europe/London"

    @property
    def teams_id(self) -> str:
        return f"29:{self.aad_object_id}"

    @property
    def chat_id(self) -> str:
        return f"a:personal-{self.aad_object_id}"


@dataclass
class TeamsTeam:
    aad_group_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    name: str = "Ward 7 Nursing"

    @property
    def thread_id(self) -> str:
        return f"19:{self.aad_group_id.replace('-', '')}@thread.tacv2"


def _base(
    kind: str, user: TeamsUser, service_url: str, conversation: dict[str, Any]
) -> dict[str, Any]:
    return {
        "type": kind,
        "id": str(uuid.uuid4()),
        "timestamp": "2026-11-25T10:00:00.000Z",
        "localTimestamp": "2026-11-25T10:00:00.000+00:00",
        "localTimezone": user.time_zone,
        "channelId": "msteams",
        "serviceUrl": service_url,
        "from": {"id": user.teams_id, "name": user.name, "aadObjectId": user.aad_object_id},
        "recipient": {"id": BOT_ID, "name": BOT_NAME},
        "conversation": conversation,
        "channelData": {"tenant": {"id": user.tenant_id}},
        "entities": [
            {
                "type": "clientInfo",
                "locale": "en-GB",
                "country": "GB",
                "platform": "Web",
                "timezone": user.time_zone,
            }
        ],
        "locale": "en-GB",
    }


def _personal(user: TeamsUser) -> dict[str, Any]:
    return {"conversationType": "personal", "tenantId": user.tenant_id, "id": user.chat_id}


def personal_install(user: TeamsUser, service_url: str, action: str = "add") -> dict[str, Any]:
    activity = _base("installationUpdate", user, service_url, _personal(user))
    activity["action"] = action
    activity["channelData"]["source"] = {"name": "message"}
    return activity


def personal_message(user: TeamsUser, service_url: str, text: str) -> dict[str, Any]:
    activity = _base("message", user, service_url, _personal(user))
    activity.update(text=text, textFormat="plain")
    return activity


def card_submit(
    user: TeamsUser, service_url: str, value: dict[str, Any], reply_to_id: str = "1795458335384"
) -> dict[str, Any]:
    """Action.Submit: a message with `value` (the card's data plus its inputs) and no text."""
    activity = _base("message", user, service_url, _personal(user))
    activity.update(value=copy.deepcopy(value), replyToId=reply_to_id)
    return activity


def card_execute(
    user: TeamsUser,
    service_url: str,
    verb: str,
    data: dict[str, Any],
    reply_to_id: str = "1795458335384",
) -> dict[str, Any]:
    """Action.Execute: an invoke named adaptiveCard/action."""
    activity = _base("invoke", user, service_url, _personal(user))
    activity.update(
        name="adaptiveCard/action",
        replyToId=reply_to_id,
        value={
            "action": {"type": "Action.Execute", "verb": verb, "data": copy.deepcopy(data)},
            "trigger": "manual",
        },
    )
    return activity


def _team_channel_data(user: TeamsUser, team: TeamsTeam, **extra) -> dict[str, Any]:
    return {
        "tenant": {"id": user.tenant_id},
        "team": {"id": team.thread_id, "name": team.name, "aadGroupId": team.aad_group_id},
        **extra,
    }


def team_install(
    user: TeamsUser, team: TeamsTeam, service_url: str, action: str = "add"
) -> dict[str, Any]:
    activity = _base(
        "installationUpdate",
        user,
        service_url,
        {
            "id": team.thread_id,
            "isGroup": True,
            "conversationType": "channel",
            "tenantId": user.tenant_id,
        },
    )
    activity["action"] = action
    activity["channelData"] = _team_channel_data(
        user,
        team,
        channel={"id": team.thread_id},
        settings={"selectedChannel": {"id": team.thread_id}},
    )
    return activity


def team_members_changed(
    user: TeamsUser,
    team: TeamsTeam,
    service_url: str,
    *,
    added: list[TeamsUser] = (),
    removed: list[TeamsUser] = (),
) -> dict[str, Any]:
    activity = _base(
        "conversationUpdate",
        user,
        service_url,
        {
            "id": team.thread_id,
            "isGroup": True,
            "conversationType": "channel",
            "tenantId": user.tenant_id,
        },
    )
    if added:
        activity["membersAdded"] = [
            {"id": m.teams_id, "aadObjectId": m.aad_object_id} for m in added
        ]
    if removed:
        activity["membersRemoved"] = [
            {"id": m.teams_id, "aadObjectId": m.aad_object_id} for m in removed
        ]
    event = "teamMemberAdded" if added else "teamMemberRemoved"
    activity["channelData"] = _team_channel_data(user, team, eventType=event)
    return activity


def channel_message(
    user: TeamsUser,
    team: TeamsTeam,
    service_url: str,
    text: str,
    *,
    mention: bool = True,
    channel_id: str | None = None,
) -> dict[str, Any]:
    """A channel post, @mentioning the bot by default, as a new thread."""
    channel = channel_id or team.thread_id
    message_id = str(1795458337038 + uuid.uuid4().int % 1000)
    activity = _base(
        "message",
        user,
        service_url,
        {
            "isGroup": True,
            "conversationType": "channel",
            "tenantId": user.tenant_id,
            "id": f"{channel};messageid={message_id}",
        },
    )
    body = f"<at>{BOT_NAME}</at> {text}" if mention else text
    activity.update(text=body, textFormat="plain")
    if mention:
        activity["entities"].insert(
            0,
            {
                "type": "mention",
                "text": f"<at>{BOT_NAME}</at>",
                "mentioned": {"id": BOT_ID, "name": BOT_NAME},
            },
        )
    activity["channelData"] = _team_channel_data(
        user, team, teamsChannelId=channel, teamsTeamId=team.thread_id, channel={"id": channel}
    )
    return activity


def group_chat_message(
    user: TeamsUser, service_url: str, chat_id: str, text: str
) -> dict[str, Any]:
    activity = _base(
        "message",
        user,
        service_url,
        {
            "isGroup": True,
            "conversationType": "groupChat",
            "tenantId": user.tenant_id,
            "id": chat_id,
        },
    )
    activity.update(text=f"<at>{BOT_NAME}</at> {text}", textFormat="plain")
    activity["entities"].insert(
        0,
        {
            "type": "mention",
            "text": f"<at>{BOT_NAME}</at>",
            "mentioned": {"id": BOT_ID, "name": BOT_NAME},
        },
    )
    return activity
