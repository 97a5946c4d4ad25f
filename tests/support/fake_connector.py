"""A fake Bot Connector: records what the bot sends, serves rosters, and misbehaves on request."""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


def busiest_second(times: list[float]) -> int:
    """The most requests sent in any one second (Teams' limit is per second, sliding)."""
    times = sorted(times)
    busiest, first = 0, 0
    for last, at in enumerate(times):
        while times[first] <= at - 1.0:
            first += 1
        busiest = max(busiest, last - first + 1)
    return busiest


@dataclass
class Fault:
    """What to do instead of answering normally: a status (with Retry-After), or hang."""

    status: int | None = None
    retry_after: float | None = None
    hang: bool = False
    times: int = 1
    code: str = "Fault"
    """The error code in the body, as Teams gives it (`ConversationBlockedByUser`, …)."""
    body: dict[str, Any] | None = None
    """The whole error body instead, for Teams' other shape (`{"errorCode": 209, …}`)."""


@dataclass
class Sent:
    method: str
    path: str
    conversation_id: str
    body: dict[str, Any]
    authorization: str | None


@dataclass
class FakeConnector:
    """Plays the Bot Connector service at `url`; tests read `.sent` and set `.faults`."""

    sent: list[Sent] = field(default_factory=list)
    rosters: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    faults: list[Fault] = field(default_factory=list)
    page_size: int = 2
    url: str = ""
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))
    _arrived: asyncio.Condition | None = None

    def fail_next(self, fault: Fault) -> None:
        self.faults.append(fault)

    def activities(self, conversation_id: str | None = None) -> list[dict[str, Any]]:
        return [
            s.body
            for s in self.sent
            if conversation_id is None or s.conversation_id.split(";")[0] == conversation_id
        ]

    def texts(self, conversation_id: str | None = None) -> list[str]:
        return [a.get("text", "") for a in self.activities(conversation_id) if a.get("text")]

    def cards(self, conversation_id: str | None = None) -> list[dict[str, Any]]:
        return [
            att["content"]
            for a in self.activities(conversation_id)
            for att in a.get("attachments") or []
            if att.get("contentType") == "application/vnd.microsoft.card.adaptive"
        ]

    async def wait_for(self, count: int, timeout: float = 20.0) -> None:
        """Wait until at least `count` activities have arrived (proactive sends are asynchronous)."""
        assert self._arrived is not None
        async with self._arrived:
            await asyncio.wait_for(self._arrived.wait_for(lambda: len(self.sent) >= count), timeout)

    async def _misbehave(self) -> web.StreamResponse | None:
        if not self.faults:
            return None
        fault = self.faults[0]
        fault.times -= 1
        if fault.times <= 0:
            self.faults.pop(0)
        if fault.hang:
            await asyncio.sleep(3600)
        headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else {}
        return web.json_response(
            fault.body or {"error": {"code": fault.code, "message": "injected"}},
            status=fault.status or 500,
            headers=headers,
        )

    async def _record(self, request: web.Request, conversation_id: str) -> web.Response:
        faulty = await self._misbehave()
        if faulty is not None:
            return faulty
        body = await request.json()
        self.sent.append(
            Sent(
                request.method,
                request.path,
                conversation_id,
                body,
                request.headers.get("Authorization"),
            )
        )
        assert self._arrived is not None
        async with self._arrived:
            self._arrived.notify_all()
        return web.json_response({"id": f"activity-{next(self._ids)}"})

    async def send_to_conversation(self, request: web.Request) -> web.Response:
        return await self._record(request, request.match_info["conversation_id"])

    async def reply_to_activity(self, request: web.Request) -> web.Response:
        return await self._record(request, request.match_info["conversation_id"])

    async def update_activity(self, request: web.Request) -> web.Response:
        return await self._record(request, request.match_info["conversation_id"])

    async def create_conversation(self, request: web.Request) -> web.Response:
        faulty = await self._misbehave()
        if faulty is not None:
            return faulty
        body = await request.json()
        member = (body.get("members") or [{}])[0].get("id", "unknown")
        conversation_id = f"a:personal-{member}"
        self.sent.append(
            Sent("POST", request.path, conversation_id, body, request.headers.get("Authorization"))
        )
        return web.json_response({"id": conversation_id})

    async def paged_members(self, request: web.Request) -> web.Response:
        faulty = await self._misbehave()
        if faulty is not None:
            return faulty
        roster = self.rosters.get(request.match_info["conversation_id"], [])
        start = int(request.query.get("continuationToken") or 0)
        size = int(request.query.get("pageSize") or self.page_size)
        page = roster[start : start + size]
        body: dict[str, Any] = {"members": page}
        if start + size < len(roster):
            body["continuationToken"] = str(start + size)
        return web.json_response(body)

    def app(self) -> web.Application:
        app = web.Application()
        base = "/v3/conversations"
        # Any id at all, braces too (aiohttp's default segment pattern refuses them).
        conversation = base + "/{conversation_id:[^/]+}"
        app.router.add_post(base, self.create_conversation)
        app.router.add_post(conversation + "/activities", self.send_to_conversation)
        app.router.add_post(
            conversation + "/activities/{activity_id:[^/]+}", self.reply_to_activity
        )
        app.router.add_put(conversation + "/activities/{activity_id:[^/]+}", self.update_activity)
        app.router.add_get(conversation + "/pagedmembers", self.paged_members)
        return app
