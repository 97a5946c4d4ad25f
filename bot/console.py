"""A terminal chat with a running bot, so anyone can try it without Teams or an Azure account.

The console plays both sides of Teams: the client (it posts real-shaped Teams activities to the
bot's /api/messages) and the Bot Connector (its own small web server on 127.0.0.1 is the
`serviceUrl` the bot replies to). Adaptive Cards are shown as text with numbered buttons; a
number presses one, the way Teams would send it (Action.Submit as a message with `value`,
Action.Execute as an `adaptiveCard/action` invoke).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import re
import textwrap
import threading
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TextIO
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import aiohttp
from aiohttp import web

LineSource = Callable[[str], Awaitable[str | None]]
"""Ask for one line with a prompt; None means the input has ended."""

ADAPTIVE_CARD = "application/vnd.microsoft.card.adaptive"
INVOKE_MESSAGE = "application/vnd.microsoft.activity.message"
INVOKE_ERROR = "application/vnd.microsoft.error"
CONSOLE_BOT_ID = "28:wellbeing-console-bot"
CONSOLE_BOT_NAME = "Wellbeing"
CONSOLE_TEAM = "19:console-team@thread.tacv2"
"""The team (and its General channel) the console's channel messages are posted in."""
CONSOLE_GROUP_CHAT = "19:console-group-chat@thread.v2"
PLACES = ("personal", "channel", "group")
DEFAULT_TENANT = "8a2b6a3e-5f0d-4c1e-9b7a-2d4c6e8f0a1b"
DEFAULT_WIDTH = 78
QUIT = ("/quit", "/exit")

HELP_TEXT = """\
Type a message and press Enter to send it to the bot, as you would in Teams.
When a card has buttons, they are numbered: type the number to press one. If the card
asks questions, you will be asked each one in turn (press Enter to leave one blank).
  /help    show this again
  /as WHO  become someone else: a role (/as manager, /as lead, /as coordinator, /as staff,
           /as admin) or an AAD id; /as alone lists the roles
  /in WHERE  talk somewhere else: /in channel (a team channel, @mentioning the bot),
           /in group (a group chat, @mentioning it), /in personal (your chat with it)
  /cancel  stop answering a card's questions without sending anything
  /quit    leave the console (so does Ctrl-D)
What the bot sends other people you have been (or the coordinators) is shown too, with
whom it went to."""


@dataclass(frozen=True)
class ConsoleUser:
    """Who the console pretends to be: a Teams user with an AAD object id in a tenant."""

    aad_object_id: str
    name: str
    tenant_id: str
    time_zone: str

    @property
    def teams_id(self) -> str:
        return f"29:{self.aad_object_id}"

    @property
    def chat_id(self) -> str:
        return f"a:console-{self.aad_object_id}"

    @classmethod
    def new(cls, *, name: str, tenant_id: str, time_zone: str) -> ConsoleUser:
        """A new person each session, so the bot greets them the way it greets a newcomer."""
        return cls(str(uuid.uuid4()), name, tenant_id, time_zone)


@dataclass
class CardAction:
    """A button the person can press by number."""

    title: str
    kind: str
    spec: dict[str, Any]


@dataclass
class CardInput:
    """A question on a card, asked in turn when a button that submits is pressed."""

    id: str
    kind: str
    label: str
    spec: dict[str, Any]


@dataclass
class CardView:
    """A card (or a message's suggested actions) as printable lines, buttons and questions."""

    lines: list[str] = field(default_factory=list)
    actions: list[CardAction] = field(default_factory=list)
    inputs: list[CardInput] = field(default_factory=list)


@dataclass
class Shown:
    """A message the bot sent, as the console displayed it; cards can be pressed or updated."""

    id: str
    conversation_id: str
    activity: dict[str, Any]
    views: list[CardView] = field(default_factory=list)
    carried_inputs: list[CardInput] = field(default_factory=list)

    @property
    def interactive(self) -> CardView | None:
        """The last card in this message that has buttons, if any."""
        return next((view for view in reversed(self.views) if view.actions), None)


def _plain(text: str) -> str:
    """Markdown the bot sends, made quieter for a terminal (bold markers and HTML breaks)."""
    text = re.sub(r"<br\s*/?>", "\n", text, flags=re.IGNORECASE)
    return text.replace("**", "").replace("&nbsp;", " ")


def wrap_text(text: str, width: int, indent: str = "", hanging: str = "") -> list[str]:
    """Wrap each paragraph; a bulleted line's continuation lines up under its text."""
    lines: list[str] = []
    for paragraph in _plain(text).split("\n"):
        if not paragraph.strip():
            lines.append("")
            continue
        lead = "  " if paragraph.lstrip().startswith(("- ", "* ", "• ")) else hanging
        lines.extend(
            textwrap.wrap(
                paragraph,
                width=width,
                initial_indent=indent,
                subsequent_indent=indent + lead,
                break_on_hyphens=False,
            )
        )
    return lines


class CardRenderer:
    """Turns Adaptive Card JSON into readable text, numbering the buttons it finds."""

    def __init__(self, width: int = DEFAULT_WIDTH):
        self.width = width

    def render(self, card: dict[str, Any]) -> CardView:
        """The card's body in order, then its actions, numbered from 1."""
        view = CardView()
        self._items(card.get("body") or [], view, depth=0)
        self._actions(card.get("actions") or [], view, depth=0)
        return view

    def _wrap(self, view: CardView, text: str, depth: int, hanging: str = "") -> None:
        """Add text to the card, wrapped to fit inside its box and indented by nesting."""
        view.lines.extend(wrap_text(text, max(self.width - 4, 20), "  " * depth, hanging))

    def _items(self, items: list[Any], view: CardView, depth: int) -> None:
        """Render visible elements only: hidden ones are hidden in Teams too."""
        for item in items:
            if isinstance(item, dict) and item.get("isVisible", True) is not False:
                self._element(item, view, depth)

    def _element(self, element: dict[str, Any], view: CardView, depth: int) -> None:
        """One element as text; anything the console can't show is named, never dropped."""
        kind = str(element.get("type", ""))
        spaced = str(element.get("spacing", "")).lower() in ("medium", "large", "extralarge")
        if (spaced or element.get("separator")) and view.lines and view.lines[-1]:
            view.lines.append("")
        if kind == "TextBlock":
            self._wrap(view, str(element.get("text", "")), depth)
        elif kind == "RichTextBlock":
            inlines = element.get("inlines") or []
            text = "".join(i if isinstance(i, str) else str(i.get("text", "")) for i in inlines)
            self._wrap(view, text, depth)
        elif kind == "FactSet":
            for fact in element.get("facts") or []:
                self._wrap(view, f"{fact.get('title', '')}: {fact.get('value', '')}", depth, "    ")
        elif kind in ("Container", "Column", "TableCell") and _pressable(element):
            self._choice(element, view, depth)
        elif kind in ("Container", "Column", "TableCell"):
            self._items(element.get("items") or [], view, depth)
        elif kind == "ColumnSet":
            self._items(element.get("columns") or [], view, depth)
        elif kind == "Table":
            for row in element.get("rows") or []:
                self._items(row.get("cells") or [], view, depth)
        elif kind == "ActionSet":
            self._actions(element.get("actions") or [], view, depth)
        elif kind in ("Image", "Media"):
            if element.get("altText"):
                view.lines.append("  " * depth + f"[picture: {element['altText']}]")
        elif kind == "ImageSet":
            self._items(element.get("images") or [], view, depth)
        elif kind.startswith("Input."):
            self._input(element, view, depth)
        else:
            view.lines.append("  " * depth + f"[{kind or 'something'} this console can't show]")

    def _choice(self, element: dict[str, Any], view: CardView, depth: int) -> None:
        """A tappable box (its `selectAction`, as a long question on the FAQ's cards): numbered
        like a button, its whole text shown because a button's title would be cut short."""
        action = element["selectAction"]
        title = str(action.get("title") or action.get("verb") or action["type"])
        view.actions.append(CardAction(title, str(action["type"]), action))
        self._wrap(view, f"[{len(view.actions)}] {title}", depth, "    ")

    def _input(self, element: dict[str, Any], view: CardView, depth: int) -> None:
        """Show a question with its choices; it is asked when a button that submits is pressed."""
        kind = str(element["type"])
        label = str(
            element.get("label") or element.get("title") or element.get("placeholder") or ""
        )
        label = label or str(element.get("id", "a question"))
        view.inputs.append(CardInput(str(element.get("id", "")), kind, label, element))
        line = f"? {label}"
        if kind == "Input.ChoiceSet":
            choices = ", ".join(str(c.get("title", "")) for c in element.get("choices") or [])
            line += f" ({choices})"
        elif kind == "Input.Toggle":
            line += f" ({element.get('title') or 'yes or no'})"
        self._wrap(view, line, depth, "  ")

    def _actions(self, actions: list[Any], view: CardView, depth: int) -> None:
        """Number the buttons a person can press (toggles and disabled ones are left out)."""
        for action in actions:
            if not isinstance(action, dict):
                continue
            kind = str(action.get("type", ""))
            if kind == "Action.ToggleVisibility" or action.get("isEnabled") is False:
                continue
            title = str(action.get("title") or action.get("verb") or kind)
            view.actions.append(CardAction(title, kind, action))
            view.lines.append("  " * depth + f"[{len(view.actions)}] {title}")


def _pressable(element: dict[str, Any]) -> bool:
    action = element.get("selectAction")
    return isinstance(action, dict) and action.get("isEnabled") is not False


def suggested_actions_view(activity: dict[str, Any]) -> CardView | None:
    """Teams' suggested actions (quick replies under a message) as numbered buttons."""
    suggested = (activity.get("suggestedActions") or {}).get("actions") or []
    view = CardView()
    for action in suggested:
        if isinstance(action, dict) and action.get("type") in ("imBack", "messageBack"):
            view.actions.append(CardAction(str(action.get("title", "")), "imBack", action))
            view.lines.append(f"[{len(view.actions)}] {action.get('title', '')}")
    return view if view.actions else None


async def terminal_lines(prompt: str) -> str | None:
    """Read a line from the terminal without blocking the event loop (the bot may speak first).

    A daemon thread, not the default executor, so Ctrl-C never waits for a pending read.
    """
    loop = asyncio.get_running_loop()
    answer: asyncio.Future[str | None] = loop.create_future()

    def _read() -> None:
        try:
            line: str | None = input(prompt)
        # End of input, or a terminal or pipe that has gone away: either way the session is over.
        except (EOFError, OSError):
            line = None
        # Closing the console while a read is pending leaves nobody to tell; that is fine.
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(_settle, line)

    def _settle(line: str | None) -> None:
        if not answer.done():
            answer.set_result(line)

    threading.Thread(target=_read, daemon=True).start()
    return await answer


class Console:
    """One chat session: starts the connector, installs the app, then relays lines and presses."""

    def __init__(
        self,
        bot_url: str,
        *,
        user: ConsoleUser,
        read_line: LineSource = terminal_lines,
        out: TextIO,
        width: int = DEFAULT_WIDTH,
        reply_wait: float = 5.0,
        quiet: float = 0.3,
        returning: bool = False,
        cast: dict[str, ConsoleUser] | None = None,
        reachable: tuple[str, ...] = (),
        team_group_id: str | None = None,
    ):
        self.bot_url = bot_url
        self.returning = returning
        """The person was named with --user: the same person as in an earlier session."""
        self.cast = dict(cast or {})
        """Who else the console can be, by role (`/as manager`)."""
        self.reachable = reachable
        """Roles installed quietly at the start, so the bot can reach them (the coordinators)."""
        self.names: dict[str, str] = {user.chat_id: user.name}
        """Each chat the console plays, by the name of its person."""
        self._installed: set[str] = set()
        self._muted: dict[str, asyncio.Event] = {}
        """Chats installed quietly, until their welcome has come (and been left unshown)."""
        self.place = "personal"
        """Where typed messages go: the person's own chat, a team channel or a group chat."""
        self.team_group_id = team_group_id or str(uuid.uuid4())
        """The console team's AAD group id (the CLI passes the first configured team's)."""
        self.reply_wait = reply_wait
        """Seconds to wait for a first reply that comes after the turn, through the bot's outbox."""
        self.quiet = quiet
        """Seconds without a new message before the console asks for the next line."""
        self.user = user
        self.read_line = read_line
        self.out = out
        self.renderer = CardRenderer(width)
        self.width = width
        self.shown: list[Shown] = []
        self._pressable: list[Shown] = []
        """What the bot sent or updated since the person last sent anything: only these
        buttons answer to a typed number, so in a text dialog a digit is an answer."""
        self.sent: list[dict[str, Any]] = []
        """Every activity the console posted to the bot, in order (a transcript of this side)."""
        self.service_url = ""
        self._ids = itertools.count(1795458335001)
        self._session: aiohttp.ClientSession | None = None
        self._leaving = False
        self.output_lost = False
        self._arrivals = 0
        self._arrived = asyncio.Event()

    # The Bot Connector side: where the bot's replies arrive.

    def connector_app(self) -> web.Application:
        """The Bot Connector routes a bot uses in a personal chat, served by the console."""
        app = web.Application()
        base = "/v3/conversations"
        app.router.add_post(base, self._create_conversation)
        app.router.add_post(base + "/{conversation}/activities", self._receive)
        app.router.add_post(base + "/{conversation}/activities/{activity}", self._receive)
        app.router.add_put(base + "/{conversation}/activities/{activity}", self._update)
        app.router.add_delete(base + "/{conversation}/activities/{activity}", self._delete)
        app.router.add_get(base + "/{conversation}/pagedmembers", self._paged_members)
        app.router.add_get(base + "/{conversation}/members", self._members)
        app.router.add_get(base + "/{conversation}/members/{member}", self._member)
        return app

    def _member_json(self) -> dict[str, Any]:
        """The console's person as Teams' roster APIs describe a member."""
        return {
            "id": self.user.teams_id,
            "name": self.user.name,
            "aadObjectId": self.user.aad_object_id,
            "tenantId": self.user.tenant_id,
            "userRole": "user",
        }

    async def _receive(self, request: web.Request) -> web.Response:
        """A new message or a reply from the bot: show it and give it an id, as Teams does."""
        activity = await request.json()
        activity_id = str(next(self._ids))
        if activity.get("type") == "message":
            shown = Shown(activity_id, request.match_info["conversation"], activity)
            self.shown.append(shown)
            self._pressable.append(shown)
            self._show(shown, updated=False)
            self._note_arrival()
        return web.json_response({"id": activity_id})

    async def _update(self, request: web.Request) -> web.Response:
        """The bot replaced one of its messages (usually a pressed card): show the new one."""
        activity = await request.json()
        activity_id = request.match_info["activity"]
        shown = self._find(activity_id)
        if shown is None:
            return web.json_response(
                {"error": {"code": "NotFound", "message": "no such activity"}}, status=404
            )
        shown.activity, shown.views, shown.carried_inputs = activity, [], []
        if shown in self._pressable:
            self._pressable.remove(shown)
        self._pressable.append(shown)
        self._show(shown, updated=True)
        self._note_arrival()
        return web.json_response({"id": activity_id})

    async def _delete(self, request: web.Request) -> web.Response:
        """The bot took a message back: forget it so its buttons can no longer be pressed."""
        shown = self._find(request.match_info["activity"])
        if shown is not None:
            self.shown.remove(shown)
            if shown in self._pressable:
                self._pressable.remove(shown)
            self._say("(The bot deleted one of its messages.)")
            self._note_arrival()
        return web.Response(status=200)

    async def _create_conversation(self, request: web.Request) -> web.Response:
        """A proactive send opens a chat: the console's person always gets their own chat back."""
        body = await request.json()
        member = ((body.get("members") or [{}])[0] or {}).get("id", "")
        for user in (self.user, *self.cast.values()):
            if member in (user.teams_id, user.aad_object_id):
                return web.json_response({"id": user.chat_id})
        return web.json_response({"id": f"a:console-someone-else-{uuid.uuid4().hex[:8]}"})

    async def _paged_members(self, _request: web.Request) -> web.Response:
        """The roster of the console's chat: just the console's person."""
        return web.json_response({"members": [self._member_json()]})

    async def _members(self, _request: web.Request) -> web.Response:
        """The older, unpaged roster call, answered the same way."""
        return web.json_response([self._member_json()])

    async def _member(self, _request: web.Request) -> web.Response:
        """One member's details (TeamsInfo.get_member): the console's person."""
        return web.json_response(self._member_json())

    def _note_arrival(self) -> None:
        self._arrivals += 1
        self._arrived.set()

    async def _settle(self, before: int, wait_for_first: float) -> None:
        """Let replies sent after the turn (through the bot's outbox) arrive before the next
        prompt: wait for a first one if none came during the turn, then for a quiet moment."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait_for_first
        while self._arrivals == before and loop.time() < deadline:
            self._arrived.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._arrived.wait(), deadline - loop.time())
        settle_by = loop.time() + max(self.reply_wait, self.quiet)
        while loop.time() < settle_by:
            self._arrived.clear()
            try:
                await asyncio.wait_for(self._arrived.wait(), self.quiet)
            except TimeoutError:
                return

    def _find(self, activity_id: str) -> Shown | None:
        """The message the bot sent with this id (the first, if a shown card opened inside it)."""
        return next((s for s in self.shown if s.id == activity_id), None)

    # What the person sees.

    def _say(self, text: str = "") -> None:
        """Print at once: the bot may speak while the person is typing."""
        if self.output_lost:
            return
        try:
            self.out.write(text + "\n")
            self.out.flush()
        except BrokenPipeError:
            # Whoever read the output (say, `| head`) has gone: nobody can see the chat any more.
            self.output_lost = self._leaving = True

    def _show(self, shown: Shown, *, updated: bool) -> None:
        """Print a message: its text, its cards with numbered buttons, its suggested replies."""
        activity = shown.activity
        if shown.conversation_id in self._muted:
            self._muted[shown.conversation_id].set()
            return
        elsewhere = not self._here(shown.conversation_id)
        who = "Bot"
        if elsewhere:
            other = self.names.get(shown.conversation_id.split(";")[0])
            who = f"Bot, to {other}" if other else f"Bot (in another chat, {shown.conversation_id})"
        if activity.get("text"):
            prefix = f"{who}: "
            wrapped = wrap_text(str(activity["text"]), self.width - len(prefix)) or [""]
            self._say(prefix + wrapped[0])
            for line in wrapped[1:]:
                self._say((" " * len(prefix) + line).rstrip())
        for attachment in activity.get("attachments") or []:
            if attachment.get("contentType") == ADAPTIVE_CARD and isinstance(
                attachment.get("content"), dict
            ):
                view = self.renderer.render(attachment["content"])
                shown.views.append(view)
                self._print_card(view, who, updated=updated)
            else:
                name = attachment.get("name") or attachment.get("contentType", "an attachment")
                self._say(f"{who} sent {name} (this console can only show Adaptive Cards).")
        suggested = suggested_actions_view(activity)
        if suggested is not None:
            shown.views.append(suggested)
            for line in suggested.lines:
                self._say("  " + line)
        if shown.interactive is not None and not elsewhere:
            self._say("  (Type a button's number to press it.)")

    def _print_card(self, view: CardView, who: str, *, updated: bool) -> None:
        """A card in a box, so where one card ends and the next begins is plain to see."""
        title = " card (updated: it replaces the card you pressed) " if updated else " card "
        rule = "-" * max(self.width - len(title) - 5, 4)
        self._say(f"{who}:")
        self._say(f"  +-{title}{rule}")
        for line in view.lines:
            self._say(f"  | {line}".rstrip())
        self._say("  +" + "-" * (self.width - 3))

    # The Teams client side: what the person does.

    def _activity(self, kind: str, user: ConsoleUser | None = None, **extra: Any) -> dict[str, Any]:
        """A Teams-shaped activity from this person (or `user`) in their personal chat."""
        user = user or self.user
        now = datetime.now(UTC)
        try:
            local = now.astimezone(ZoneInfo(user.time_zone))
        except (ZoneInfoNotFoundError, ValueError):
            local = now
        activity = {
            "type": kind,
            "id": str(uuid.uuid4()),
            "timestamp": now.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "localTimestamp": local.isoformat(timespec="milliseconds"),
            "localTimezone": user.time_zone,
            "channelId": "msteams",
            "serviceUrl": self.service_url,
            "from": {
                "id": user.teams_id,
                "name": user.name,
                "aadObjectId": user.aad_object_id,
            },
            "recipient": {"id": CONSOLE_BOT_ID, "name": CONSOLE_BOT_NAME},
            "conversation": {
                "conversationType": "personal",
                "tenantId": user.tenant_id,
                "id": user.chat_id,
            },
            "channelData": {"tenant": {"id": user.tenant_id}},
            **self._elsewhere(user, kind),
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
        activity.update(extra)
        return activity

    def _elsewhere(self, user: ConsoleUser, kind: str) -> dict[str, Any]:
        """What a channel or group chat changes in an activity, as Teams sends it there."""
        if self.place == "personal":
            return {}
        if self.place == "group":
            conversation = {"id": CONSOLE_GROUP_CHAT, "conversationType": "groupChat"}
            channel_data: dict[str, Any] = {"tenant": {"id": user.tenant_id}}
        else:
            thread = CONSOLE_TEAM
            if kind == "message":
                thread += f";messageid={next(self._ids)}"
            conversation = {"id": thread, "conversationType": "channel"}
            channel_data = {
                "tenant": {"id": user.tenant_id},
                "team": {
                    "id": CONSOLE_TEAM,
                    "name": "Console team",
                    "aadGroupId": self.team_group_id,
                },
                "channel": {"id": CONSOLE_TEAM, "name": "General"},
                "teamsChannelId": CONSOLE_TEAM,
                "teamsTeamId": CONSOLE_TEAM,
            }
        conversation |= {"isGroup": True, "tenantId": user.tenant_id}
        return {"conversation": conversation, "channelData": channel_data}

    def _here(self, conversation_id: str) -> bool:
        """Whether a message went to where the person is now (a channel's threads included)."""
        if self.place == "channel":
            return conversation_id.split(";")[0] == CONSOLE_TEAM
        if self.place == "group":
            return conversation_id == CONSOLE_GROUP_CHAT
        return conversation_id == self.user.chat_id

    async def _post(
        self, activity: dict[str, Any], *, wait_for_reply: bool = True
    ) -> tuple[int, Any] | None:
        """Send an activity to the bot and let its replies arrive; None (after saying why) when it
        could not be delivered."""
        assert self._session is not None
        self.sent.append(activity)
        self._pressable.clear()
        before = self._arrivals
        try:
            async with self._session.post(self.bot_url, json=activity) as response:
                text = await response.text()
                status = response.status
        except aiohttp.ClientError as error:
            self._say(
                f"Can't reach the bot at {self.bot_url} ({type(error).__name__}). Is it running? "
                "Start it with ./run-bot in another terminal, or pass --url."
            )
            return None
        try:
            body = json.loads(text) if text else None
        except json.JSONDecodeError:
            body = text
        if status in (401, 403):
            self._say(
                f"The bot refused the console ({status}): it has a MicrosoftAppId, so it only "
                "accepts messages signed by the Bot Framework. Run it in local mode (no "
                "MicrosoftAppId) to chat with it here."
            )
            return None
        if status >= 400:
            reason = body.get("error") if isinstance(body, dict) else body
            self._say(f"The bot answered {status}: {reason or 'no reason given'}")
            return None
        await self._settle(before, self.reply_wait if wait_for_reply else 0.0)
        return status, body

    async def install(self, user: ConsoleUser | None = None, *, quietly: bool = False) -> bool:
        """Add the app in personal scope, as Teams does when someone installs it; `quietly`
        for someone else, whose welcome is not shown."""
        user = user or self.user
        self.names[user.chat_id] = user.name
        self._installed.add(user.chat_id)
        before = self._arrivals
        activity = self._activity("installationUpdate", user, action="add")
        activity["channelData"]["source"] = {"name": "message"}
        if quietly:
            self._muted[user.chat_id] = welcomed = asyncio.Event()
        try:
            posted = await self._post(activity, wait_for_reply=not quietly)
            if quietly and posted is not None:
                # The welcome comes through the bot's outbox, after the install's turn; none comes
                # when the bot knew them already, so the wait is bounded.
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(welcomed.wait(), self.reply_wait)
        finally:
            self._muted.pop(user.chat_id, None)
        if posted is None:
            return False
        if self._arrivals == before and not quietly:
            self._say(
                "(The bot installed quietly. It welcomes each person once, so it may already "
                "know you; if its organisation config sets a tenant_id, pass that with --tenant.)"
            )
        return True

    async def send_text(self, text: str) -> None:
        """A typed message, as Teams posts it: in a channel or group chat, @mentioning the bot."""
        if self.place == "personal":
            await self._post(self._activity("message", text=text, textFormat="plain"))
            return
        mention = f"<at>{CONSOLE_BOT_NAME}</at>"
        activity = self._activity("message", text=f"{mention} {text}", textFormat="plain")
        activity["entities"].insert(
            0,
            {
                "type": "mention",
                "text": mention,
                "mentioned": {"id": CONSOLE_BOT_ID, "name": CONSOLE_BOT_NAME},
            },
        )
        await self._post(activity)

    async def move(self, where: str) -> bool:
        """`/in channel`, `/in group` or `/in personal`: talk there from now on, adding the app
        to the team or chat the first time, as someone there would."""
        where = where.lower()
        if where not in PLACES:
            self._say(f"Say /in {', /in '.join(PLACES)}.")
            return True
        self.place = where
        described = {
            "personal": "your personal chat with the bot",
            "channel": "the General channel of the console's team (you @mention the bot)",
            "group": "a group chat (you @mention the bot)",
        }[where]
        self._say(f"(You are now in {described}.)")
        key = {"channel": CONSOLE_TEAM, "group": CONSOLE_GROUP_CHAT}.get(where)
        if key is not None and key not in self._installed:
            self._installed.add(key)
            self.names[key] = "the channel" if where == "channel" else "the group chat"
            activity = self._activity("installationUpdate", action="add")
            activity["conversation"]["id"] = key
            await self._post(activity)
        return not self._leaving

    def _current(self) -> Shown | None:
        """The newest card in this chat with buttons, sent since the person last said anything:
        a number presses one of them. Otherwise a number is a message (a text dialog's
        answer), never a press on an older card."""
        for shown in reversed(self._pressable):
            if self._here(shown.conversation_id) and shown.interactive is not None:
                return shown
        return None

    async def _ask(self, question: CardInput) -> Any:
        """Ask one of a card's questions; choices are answered by number."""
        spec = question.spec
        required = bool(spec.get("isRequired"))
        choices = spec.get("choices") or []
        while True:
            self._say(f"  {question.label}")
            if question.kind == "Input.ChoiceSet":
                for number, choice in enumerate(choices, start=1):
                    self._say(f"    {number}. {choice.get('title', '')}")
                many = bool(spec.get("isMultiSelect"))
                hint = "numbers, separated by commas" if many else "a number"
            elif question.kind == "Input.Toggle":
                hint = "y or n"
            else:
                hint = "your answer"
            skip = "" if required else ", or Enter to skip"
            line = await self.read_line(f"  ({hint}{skip}, /cancel to stop) > ")
            if line is None or line.strip().lower() in QUIT:
                self._leaving = True
                return None
            line = line.strip()
            if line.lower() == "/cancel":
                self._say("  (Nothing was sent.)")
                return None
            if not line:
                if required:
                    self._say(f"  {spec.get('errorMessage') or 'This one needs an answer.'}")
                    continue
                if question.kind == "Input.Toggle":
                    return spec.get("value", spec.get("valueOff", "false"))
                return spec.get("value", "")
            if question.kind == "Input.ChoiceSet":
                picked = [p.strip() for p in line.split(",")] if many else [line]
                if all(p.isdigit() and 1 <= int(p) <= len(choices) for p in picked):
                    return ",".join(str(choices[int(p) - 1].get("value", "")) for p in picked)
                self._say(f"  Please type {hint} from 1 to {len(choices)}.")
                continue
            if question.kind == "Input.Toggle":
                if line.lower() in ("y", "yes", "n", "no"):
                    on = line.lower().startswith("y")
                    return spec.get("valueOn", "true") if on else spec.get("valueOff", "false")
                self._say("  Please type y or n.")
                continue
            return line

    async def _gather(self, questions: list[CardInput]) -> dict[str, Any] | None:
        """Every answer for a submit, by input id; None when the person cancelled or left."""
        answers: dict[str, Any] = {}
        for question in questions:
            if not question.id:
                continue
            answer = await self._ask(question)
            if answer is None:
                return None
            answers[question.id] = answer
        return answers

    async def press(self, number: int) -> None:
        """Press button `number` on the latest card with buttons, as Teams would send it."""
        shown = self._current()
        view = shown.interactive if shown else None
        if shown is None or view is None:
            return
        if not 1 <= number <= len(view.actions):
            self._say(f"That card's buttons are numbered 1 to {len(view.actions)}.")
            return
        action = view.actions[number - 1]
        spec = action.spec
        self._say(f"(You pressed “{action.title}”.)")
        if action.kind == "Action.OpenUrl":
            self._say(f"That button opens {spec.get('url', 'a web page')} in your browser.")
            return
        if action.kind == "Action.ShowCard":
            await self._show_card(shown, view, spec)
            return
        if action.kind == "imBack":
            value = spec.get("value")
            text = value if isinstance(value, str) else spec.get("text") or action.title
            await self.send_text(str(text))
            return
        questions = [*shown.carried_inputs, *view.inputs]
        if spec.get("associatedInputs") == "none":
            questions = []
        answers = await self._gather(questions)
        if answers is None:
            return
        data = spec.get("data")
        if action.kind == "Action.Execute":
            await self._execute(
                shown, spec, {**(data if isinstance(data, dict) else {}), **answers}
            )
        elif action.kind == "Action.Submit":
            await self._submit(shown, data, answers)
        else:
            self._say(f"This console can't press a {action.kind} button.")

    async def _show_card(self, shown: Shown, view: CardView, spec: dict[str, Any]) -> None:
        """Action.ShowCard opens a card inside the card; its buttons submit the outer inputs too."""
        inner = self.renderer.render(spec.get("card") or {})
        opened = Shown(shown.id, shown.conversation_id, shown.activity, [inner])
        opened.carried_inputs = [*shown.carried_inputs, *view.inputs]
        self.shown.append(opened)
        self._pressable.append(opened)
        self._print_card(inner, "Bot", updated=False)
        if inner.actions:
            self._say("  (Type a button's number to press it.)")

    async def _submit(self, shown: Shown, data: Any, answers: dict[str, Any]) -> None:
        """Action.Submit: a message whose `value` is the button's data merged with the answers."""
        extra: dict[str, Any] = {"replyToId": shown.id}
        if isinstance(data, dict) and isinstance(data.get("msteams"), dict):
            teams = data["msteams"]
            if teams.get("type") == "imBack":
                await self.send_text(str(teams.get("value", "")))
                return
            if teams.get("type") == "messageBack":
                value = teams.get("value")
                extra["value"] = {**(value if isinstance(value, dict) else {}), **answers}
                if teams.get("text"):
                    extra["text"] = teams["text"]
                await self._post(self._activity("message", **extra))
                return
        extra["value"] = {**(data if isinstance(data, dict) else {}), **answers}
        await self._post(self._activity("message", **extra))

    async def _execute(self, shown: Shown, spec: dict[str, Any], data: dict[str, Any]) -> None:
        """Action.Execute: an invoke; Teams shows the response's message, or swaps in its card."""
        action: dict[str, Any] = {"type": "Action.Execute", "verb": spec.get("verb"), "data": data}
        if spec.get("id"):
            action["id"] = spec["id"]
        activity = self._activity(
            "invoke",
            name="adaptiveCard/action",
            replyToId=shown.id,
            value={"action": action, "trigger": "manual"},
        )
        result = await self._post(activity, wait_for_reply=False)
        if result is None:
            return
        _status, body = result
        if not isinstance(body, dict):
            return
        kind, value = body.get("type"), body.get("value")
        if kind == INVOKE_MESSAGE and value:
            self._say(f"(Teams shows under the card: {value})")
        elif kind == ADAPTIVE_CARD and isinstance(value, dict):
            original = self._find(shown.id)
            if original is not None:
                original.activity = {
                    **original.activity,
                    "attachments": [{"contentType": ADAPTIVE_CARD, "content": value}],
                }
                original.views, original.carried_inputs = [], []
                self._pressable.append(original)
                self._show(original, updated=True)
        elif kind == INVOKE_ERROR:
            message = value.get("message") if isinstance(value, dict) else value
            self._say(f"(Teams shows an error: {message or 'something went wrong'})")

    async def handle(self, line: str) -> bool:
        """Act on one line the person typed; False when they asked to leave."""
        text = line.strip()
        if not text:
            return True
        if text.lower() in QUIT:
            return False
        if text.lower() == "/help":
            self._say(HELP_TEXT)
            return True
        if text.lower() == "/as" or text.lower().startswith("/as "):
            return await self.become(text[3:].strip())
        if text.lower() == "/in" or text.lower().startswith("/in "):
            return await self.move(text[3:].strip())
        if text.isdigit() and self._current() is not None:
            await self.press(int(text))
            return not self._leaving
        await self.send_text(text)
        return True

    async def become(self, who: str) -> bool:
        """`/as manager` (a role) or `/as AAD_ID`: carry on as that person, installing the app
        for them the first time, as their own Teams would."""
        if not who:
            roles = ", ".join(f"{role} ({user.name})" for role, user in self.cast.items())
            self._say(f"You can be: {roles or 'nobody else here'}; or /as AAD_ID.")
            return True
        user = self.cast.get(who.lower())
        if user is None:
            try:
                user = ConsoleUser(
                    str(uuid.UUID(who)),
                    f"Person {who[:8]}",
                    self.user.tenant_id,
                    self.user.time_zone,
                )
            except ValueError:
                self._say(f"No role called {who!r}. Type /as to list them, or give an AAD id.")
                return True
        self.user = user
        self.names[user.chat_id] = user.name
        self._say(f"(You are now {user.name}, in their personal chat with the bot.)")
        if user.chat_id not in self._installed:
            await self.install(user)
        return not self._leaving

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[Console]:
        """The connector listening on a free loopback port, and a client session for the bot."""
        runner = web.AppRunner(self.connector_app(), access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        host, port = runner.addresses[0][:2]
        self.service_url = f"http://{host}:{port}/"
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60))
        try:
            yield self
        finally:
            await self._session.close()
            await runner.cleanup()

    async def run(self) -> int:
        """The whole session: 0 when the person left, 2 when the bot could not be reached."""
        async with self.running():
            who = (
                "the same person each time you come back as them"
                if self.returning
                else "a new person each session; --user AAD_ID or --as ROLE comes back as one"
            )
            self._say(
                f"Chatting with the bot at {self.bot_url} as {self.user.name} ({who}). "
                "Type /help for how this works, /quit to leave."
            )
            others = [
                self.cast[role]
                for role in self.reachable
                if role in self.cast and self.cast[role].chat_id != self.user.chat_id
            ]
            await asyncio.gather(*(self.install(user, quietly=True) for user in others))
            if not await self.install():
                return 2
            while True:
                line = await self.read_line("you> ")
                if line is None or not await self.handle(line) or self._leaving:
                    break
        self._say("Bye for now.")
        return 0
