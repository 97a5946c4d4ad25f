"""Proactive sends to the Bot Connector REST API through one shared aiohttp session.

botbuilder's ConnectorClient sends through `requests` in a thread pool, with a 100 s timeout and
retries of its own that ignore 429: fine for replies within a turn, wrong for a paced fan-out.
Here: explicit timeouts, no hidden retries, and the status handed back to the outbox to decide.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from typing import Any
from urllib.parse import quote

import aiohttp
from botframework.connector.auth import AuthenticationConstants, ServiceClientCredentialsFactory

from bot.cards import attachment_json
from core.config.settings import Settings
from core.events import Reply, reply_from_payload
from core.transport import Budget, Destination, SendOutcome

log = logging.getLogger(__name__)
TOKEN_REUSE_SECONDS = 30 * 60
# Replies within a turn are retried as the SDK's connector client retried them (msrest's
# policy): up to three more times on a timeout, a dropped connection, 408 or a 5xx other than
# 501 and 505, after 0, 1.6 and 3.2 s (or a 503's Retry-After, at most 10 s); and, unlike it,
# on 429 (Teams' per-app limit, which replies share with the fan-out) after its Retry-After.
REPLY_RETRIES = 3
REPLY_BACKOFF = 0.8
REPLY_RETRY_AFTER_CAP = 10.0
REPLY_RETRY_STATUSES = frozenset({408, 429, *range(500, 600)} - {501, 505})
REPLY_RATE_LIMIT_WAIT = 2.0
"""The longest Retry-After a turn waits out for a 429; a longer one (or a 429 on the last try)
raises RateLimited, and the turn hands the reply to the outbox, which waits and paces it."""
ERROR_CODE = re.compile(r"[A-Za-z][A-Za-z0-9_.]{0,63}")
MESSAGE_WRITES_BLOCKED_ERROR = 209


class RosterError(Exception):
    """Teams would not list a team's members (the message is the status, never the data)."""


class ReplyError(Exception):
    """The Bot Connector did not take a reply (the message is the status, never the data)."""


class RateLimited(ReplyError):
    """Teams refused a reply for its per-app limit (429) longer than a turn can wait."""


def reply_address(incoming: Any) -> dict[str, Any]:
    """What the SDK's conversation reference puts on a reply to `incoming` (a botbuilder
    Activity): where it goes, from the bot, to the sender, in the sender's locale, as a reply."""
    fields = {
        "serviceUrl": incoming.service_url,
        "channelId": incoming.channel_id,
        "from": incoming.recipient.serialize() if incoming.recipient else None,
        "conversation": incoming.conversation.serialize() if incoming.conversation else None,
        "recipient": incoming.from_property.serialize() if incoming.from_property else None,
        "locale": incoming.locale,
        "replyToId": incoming.id,
    }
    return {key: value for key, value in fields.items() if value is not None}


def mention_entities(reply: Reply) -> list[dict[str, Any]]:
    """Teams mention entities: the `<at>name</at>` text in the message, and who it is."""
    return [
        {"type": "mention", "text": m.tag, "mentioned": {"id": m.user_id, "name": m.name}}
        for m in reply.mentions
    ]


def outgoing_activity(reply: Reply, banner: str = "") -> dict[str, Any]:
    """One message activity: the text above the card, as Teams shows it."""
    activity: dict[str, Any] = {"type": "message"}
    if reply.text:
        activity["text"] = reply.text
        activity["textFormat"] = "markdown"
    if reply.mentions:
        activity["entities"] = mention_entities(reply)
    if reply.card is not None:
        activity["attachments"] = [attachment_json(reply.card, banner)]
        if reply.card.fallback_text:
            activity["summary"] = reply.card.fallback_text[:200]
    return activity


def error_code(body: dict[str, Any]) -> str | None:
    """The error code in a Connector's error body: `{"error": {"code": …}}`, or the subCode
    inside the JSON text of `{"errorCode": 209, "message": "{\\"subCode\\": …}"}` (how Teams
    says MessageWritesBlocked). Only a plain identifier is kept, never free text."""
    error = body.get("error")
    code = error.get("code") if isinstance(error, dict) else None
    message = body.get("message")
    if code is None and isinstance(message, str):
        try:
            inner = json.loads(message)
        except ValueError:
            inner = None
        code = inner.get("subCode") if isinstance(inner, dict) else None
    if code is None and body.get("errorCode") == MESSAGE_WRITES_BLOCKED_ERROR:
        code = "MessageWritesBlocked"
    return code if isinstance(code, str) and ERROR_CODE.fullmatch(code) else None


def _retry_after(headers) -> float | None:
    value = headers.get("Retry-After")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


class ConnectorTransport:
    """Implements core.transport.Transport against the real (or a fake) Bot Connector."""

    def __init__(
        self,
        settings: Settings,
        credentials_factory: ServiceClientCredentialsFactory,
        *,
        timeout: float = 15.0,
        connect_timeout: float = 5.0,
        budget: Budget | None = None,
    ):
        self.settings = settings
        self.budget = budget
        """The tenants' shared timetables: every reply attempt and created chat takes a slot
        (the outbox's sender takes one for each message it sends)."""
        self.credentials_factory = credentials_factory
        self.timeout = aiohttp.ClientTimeout(total=timeout, connect=connect_timeout)
        self._session: aiohttp.ClientSession | None = None
        self._token: tuple[str, float] | None = None
        self._token_lock = asyncio.Lock()

    async def start(self) -> None:
        if self._session is None:
            self._session = aiohttp.ClientSession(
                timeout=self.timeout, connector=aiohttp.TCPConnector(limit=64)
            )

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json"}
        if self.settings.local_mode:
            return headers
        async with self._token_lock:
            if self._token is None or time.monotonic() - self._token[1] > TOKEN_REUSE_SECONDS:
                credentials = await self.credentials_factory.create_credentials(
                    self.settings.microsoft_app_id,
                    AuthenticationConstants.TO_CHANNEL_FROM_BOT_OAUTH_SCOPE,
                    AuthenticationConstants.TO_CHANNEL_FROM_BOT_LOGIN_URL,
                    True,
                )
                # msal's token call blocks; keep it off the event loop.
                token = await asyncio.to_thread(credentials.get_access_token)
                self._token = (token, time.monotonic())
        headers["Authorization"] = f"Bearer {self._token[0]}"
        return headers

    async def _post(
        self, url: str, body: dict[str, Any]
    ) -> tuple[int, dict[str, Any], float | None]:
        assert self._session is not None, "transport not started"
        async with self._session.post(url, json=body, headers=await self._headers()) as response:
            try:
                payload = await response.json(content_type=None)
            except ValueError:
                payload = {}
            return (
                response.status,
                payload if isinstance(payload, dict) else {},
                _retry_after(response.headers),
            )

    async def _slot(self, tenant_id: str | None, *, urgent: bool) -> None:
        """Wait for the tenant's next slot. A reply goes even when the timetable cannot be
        read (the database away): the turn may be carrying the apology for just that."""
        if self.budget is None or not tenant_id:
            return
        try:
            await self.budget.acquire(tenant_id, urgent=urgent)
        except Exception as error:
            if not urgent:
                raise
            log.warning("reply sent without a slot: %s", type(error).__name__)

    async def reply(
        self, address: dict[str, Any], activity: dict[str, Any], *, tenant_id: str | None = None
    ) -> None:
        """Send a message within a turn, addressed by `reply_address`: a reply to the incoming
        activity, or, when `activity` has an id, an update of that message (the pressed card).
        Each attempt first takes a slot of `tenant_id`'s timetable, ahead of the fan-out.
        Built as JSON directly: the SDK's msrest serialiser and its `requests` thread cost
        several milliseconds of CPU a message. Raises ReplyError when it is not taken."""
        assert self._session is not None, "transport not started"
        body = {**activity, **address}
        conversation = quote(body["conversation"]["id"], safe="")
        base = f"{body['serviceUrl'].rstrip('/')}/v3/conversations/{conversation}/activities"
        if activity.get("id"):
            method, url = "PUT", f"{base}/{quote(activity['id'], safe='')}"
        elif body.get("replyToId"):
            method, url = "POST", f"{base}/{quote(body['replyToId'], safe='')}"
        else:
            method, url = "POST", base
        for attempt in range(REPLY_RETRIES + 1):
            retry_after = None
            await self._slot(tenant_id, urgent=True)
            try:
                async with self._session.request(
                    method, url, json=body, headers=await self._headers()
                ) as response:
                    await response.read()
                    if 200 <= response.status < 300:
                        return
                    problem = f"HTTP {response.status}"
                    if response.status not in REPLY_RETRY_STATUSES:
                        raise ReplyError(problem)
                    if response.status in (429, 503):
                        retry_after = _retry_after(response.headers)
                    if response.status == 429 and (retry_after or 0.0) > REPLY_RATE_LIMIT_WAIT:
                        raise RateLimited(problem)
            except (TimeoutError, aiohttp.ClientError) as error:
                problem = type(error).__name__
            if attempt == REPLY_RETRIES:
                raise RateLimited(problem) if problem == "HTTP 429" else ReplyError(problem)
            delay = REPLY_BACKOFF * 2 ** (attempt - 1) if attempt else 0.0
            if retry_after is not None:
                delay = min(retry_after, REPLY_RETRY_AFTER_CAP)
            await asyncio.sleep(delay)

    async def list_members(
        self, service_url: str, team_id: str, tenant_id: str | None = None
    ) -> list[dict[str, Any]]:
        """Every member of a team, page by page (Teams' paged member listing); each page is a
        request against the tenant's limit, so it takes a slot as the fan-out does."""
        assert self._session is not None, "transport not started"
        url = f"{service_url.rstrip('/')}/v3/conversations/{quote(team_id, safe='')}/pagedmembers"
        members: list[dict[str, Any]] = []
        token: str | None = None
        for _ in range(1000):
            params = {"pageSize": "500", **({"continuationToken": token} if token else {})}
            await self._slot(tenant_id, urgent=False)
            async with self._session.get(
                url, params=params, headers=await self._headers()
            ) as response:
                if response.status != 200:
                    raise RosterError(f"HTTP {response.status}")
                page = await response.json(content_type=None)
            members += page.get("members") or []
            token = page.get("continuationToken")
            if not token:
                return members
        raise RosterError("too many pages")

    async def send(self, destination: Destination, payload: dict[str, Any]) -> SendOutcome:
        activity = outgoing_activity(reply_from_payload(payload), self.settings.card_banner)
        base = destination.service_url.rstrip("/") + "/v3/conversations"
        conversation_id = destination.conversation_id
        created: str | None = None
        if conversation_id is None:
            # Outside the try: a database that cannot give the slot is not a failed send (the
            # sender hands the claim back), and nothing has reached Teams yet.
            await self._slot(destination.tenant_id, urgent=False)
        try:
            if conversation_id is None:
                status, payload, retry_after = await self._post(
                    base,
                    {
                        "bot": {"id": destination.bot_id},
                        "members": [{"id": destination.user_id}],
                        "channelData": {"tenant": {"id": destination.tenant_id}},
                        "tenantId": destination.tenant_id,
                        "isGroup": False,
                    },
                )
                if not 200 <= status < 300 or not payload.get("id"):
                    return SendOutcome(
                        status or 500,
                        retry_after,
                        error="could not create chat",
                        code=error_code(payload),
                    )
                conversation_id = created = payload["id"]
            target = conversation_id
            if destination.thread_id:
                target = f"{conversation_id};messageid={destination.thread_id}"
            body = {
                **activity,
                "from": {"id": destination.bot_id},
                "conversation": {"id": target},
                "channelId": "msteams",
            }
            status, payload, retry_after = await self._post(
                f"{base}/{quote(target, safe='')}/activities", body
            )
        except TimeoutError:
            return SendOutcome(0, error="timed out")
        except aiohttp.ClientError as error:
            return SendOutcome(0, error=type(error).__name__)
        if not 200 <= status < 300:
            return SendOutcome(status, retry_after, code=error_code(payload))
        return SendOutcome(
            status, retry_after, activity_id=payload.get("id"), conversation_id=created
        )
