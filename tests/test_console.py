"""The terminal console: a scripted session against the real app over real HTTP, and the way it
presses Action.Submit and Action.Execute buttons and shows updated cards."""

from __future__ import annotations

import io
import socket
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from sqlmodel import select

from bot.cli import main
from bot.console import ADAPTIVE_CARD, Console, ConsoleUser
from core.store.models import Conversation, Person
from tests.support.activities import TENANT


class Script:
    """Types the given lines at the console's prompts, echoing them as a terminal would."""

    def __init__(self, lines: list[str], out: io.StringIO):
        self.lines = list(lines)
        self.out = out
        self.prompts: list[str] = []

    async def __call__(self, prompt: str) -> str | None:
        self.prompts.append(prompt)
        self.out.write(prompt)
        if not self.lines:
            self.out.write("\n")
            return None
        line = self.lines.pop(0)
        self.out.write(line + "\n")
        return line


def _console(url: str, lines: list[str]) -> tuple[Console, io.StringIO]:
    out = io.StringIO()
    user = ConsoleUser.new(name="Sam Patel", tenant_id=TENANT, time_zone="Europe/London")
    return Console(url, user=user, read_line=Script(lines, out), out=out), out


async def test_install_welcome_help_and_a_card_button(bot):
    console, out = _console(bot.url, ["help", "1", "/quit"])
    assert await console.run() == 0
    transcript = out.getvalue()
    welcome, typed_help, pressed, leaving = transcript.split("you> ")

    org = bot.services.org.organisation.name
    assert f"Hello, I'm the wellbeing bot for {org}." in welcome
    assert "Nobody reads this chat" in welcome and "116 123" in welcome
    assert "[1] See what I can do" in welcome
    assert "(Type a button's number to press it.)" in welcome

    assert typed_help.startswith("help\n")
    assert "Here's what I can do" in typed_help
    assert "help: see what I can do" in typed_help and "privacy: how I look after" in typed_help

    assert pressed.startswith("1\n(You pressed “More”.)")  # only the newest card's buttons
    assert "Here's what I can do" in pressed and "resume: turn check-ins back on" in pressed
    assert leaving.startswith("/quit\n") and "Bye for now." in leaving

    install, message, submit = console.sent
    assert install["type"] == "installationUpdate" and install["action"] == "add"
    assert message["type"] == "message" and message["text"] == "help"
    assert submit["type"] == "message"
    assert submit["value"] == {"command": "help", "argument": "more"}
    assert "text" not in submit
    welcome_card = console.shown[0]
    assert welcome_card.activity["attachments"][0]["content"]["actions"][0]["title"] == (
        "See what I can do"
    )
    help_card = console.shown[1]
    assert help_card.activity["attachments"][0]["content"]["actions"][0]["title"] == "More"
    assert submit["replyToId"] == help_card.id
    for activity in console.sent:
        assert activity["channelId"] == "msteams"
        assert activity["conversation"]["conversationType"] == "personal"
        assert activity["conversation"]["tenantId"] == TENANT
        assert activity["from"]["aadObjectId"] == console.user.aad_object_id
        assert activity["entities"][0] == {
            "type": "clientInfo",
            "locale": "en-GB",
            "country": "GB",
            "platform": "Web",
            "timezone": "Europe/London",
        }

    # The bot took the console for Teams: it stored the person and the console's serviceUrl.
    async with bot.services.sessions() as session:
        person = await session.get(Person, console.user.aad_object_id)
        stored = (
            await session.exec(
                select(Conversation).where(Conversation.aad_object_id == person.aad_object_id)
            )
        ).one()
    assert person.personal_installed and person.time_zone == "Europe/London"
    assert stored.service_url == console.service_url


async def test_in_a_text_dialog_a_typed_digit_is_an_answer_not_a_button(bot):
    # The welcome card has buttons, but the newest message is the check-in's question (text):
    # "2" answers it, as it would in Teams.
    console, out = _console(bot.url, ["check in by text", "2", "/quit"])
    assert await console.run() == 0
    typed = [a for a in console.sent if a["type"] == "message"]
    assert [a.get("text") for a in typed] == ["check in by text", "2"]
    assert "value" not in typed[1]
    assert "Reply with a number, or skip" in out.getvalue()  # the next question


async def test_the_faqs_closest_questions_are_numbered_and_shown_whole(bot):
    # Long questions would be cut short on a button: each is a tappable box with its whole
    # text, and the console numbers it like a button.
    console, out = _console(bot.url, ["faq nights after being off sick", "/quit"])
    assert await console.run() == 0
    card = console.shown[-1].activity["attachments"][0]["content"]
    choices = [e["selectAction"] for e in card["body"] if "selectAction" in e]
    assert choices and all(a["data"]["command"] == "faq.show" for a in choices)
    assert f"[1] {choices[0]['title']}" in out.getvalue()
    assert [a.title for a in console.shown[-1].interactive.actions][: len(choices)] == [
        a["title"] for a in choices
    ]


def _card(*body: dict[str, Any], actions: list[dict[str, Any]]) -> dict[str, Any]:
    return {"type": "AdaptiveCard", "version": "1.5", "body": list(body), "actions": actions}


class ScriptedBot:
    """A stand-in bot that sends two cards on install and records what the console sends."""

    def __init__(self) -> None:
        self.url = ""
        self.received: list[dict[str, Any]] = []
        self.card_ids: dict[str, str] = {}

    async def _card_message(self, activity: dict[str, Any], card: dict[str, Any], path="") -> str:
        """Send a card to the console's connector (PUT to an activity id replaces that card)."""
        base = activity["serviceUrl"].rstrip("/")
        conversation = activity["conversation"]["id"]
        url = f"{base}/v3/conversations/{conversation}/activities{path}"
        reply = {
            "type": "message",
            "attachments": [{"contentType": ADAPTIVE_CARD, "content": card}],
        }
        async with (
            aiohttp.ClientSession() as session,
            session.request("PUT" if path else "POST", url, json=reply) as response,
        ):
            assert response.status == 200
            return (await response.json())["id"]

    def _execute_card(self) -> dict[str, Any]:
        return _card(
            {"type": "TextBlock", "text": "How are you this week?"},
            {
                "type": "Input.ChoiceSet",
                "id": "mood",
                "label": "Mood",
                "isRequired": True,
                "errorMessage": "Please choose one.",
                "choices": [
                    {"title": "Good", "value": "good"},
                    {"title": "Low", "value": "low"},
                ],
            },
            {"type": "Input.Text", "id": "note", "label": "Anything to add?"},
            actions=[
                {
                    "type": "Action.Execute",
                    "title": "Send",
                    "verb": "checkin.answer",
                    "data": {"cycle": 7},
                }
            ],
        )

    async def messages(self, request: web.Request) -> web.Response:
        activity = await request.json()
        self.received.append(activity)
        if activity["type"] == "installationUpdate":
            self.card_ids["first"] = await self._card_message(activity, self._execute_card())
            self.card_ids["submit"] = await self._card_message(
                activity,
                _card(
                    {"type": "Input.Toggle", "id": "share", "label": "Share?", "title": "Yes"},
                    actions=[
                        {"type": "Action.OpenUrl", "title": "Read more", "url": "https://x.test"},
                        {"type": "Action.Submit", "title": "Save", "data": {"command": "save"}},
                    ],
                ),
            )
        elif activity["type"] == "message" and activity.get("value"):
            await self._card_message(
                activity,
                _card({"type": "TextBlock", "text": "Saved your choice."}, actions=[]),
                f"/{activity['replyToId']}",
            )
            self.card_ids["execute"] = await self._card_message(activity, self._execute_card())
        elif activity["type"] == "invoke":
            thanks = _card({"type": "TextBlock", "text": "Thank you for checking in."}, actions=[])
            return web.json_response(
                {"statusCode": 200, "type": ADAPTIVE_CARD, "value": thanks}, status=200
            )
        return web.Response(status=200)


@pytest.fixture
async def scripted_bot():
    fake = ScriptedBot()
    app = web.Application()
    app.router.add_post("/api/messages", fake.messages)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    fake.url = str(server.make_url("/api/messages"))
    yield fake
    await server.close()


async def test_buttons_are_pressed_the_way_teams_sends_them(scripted_bot):
    # Only the newest card answers to a number: "Read more" opens a link, "Save" submits (asking
    # the toggle first); the bot updates that card and sends a new one, whose Execute button the
    # next number presses (never the older card sent at install with the same button).
    lines = ["1", "2", "y", "1", "", "7", "2", "maybe later"]
    console, out = _console(scripted_bot.url, lines)
    assert await console.run() == 0
    transcript = out.getvalue()

    assert "That button opens https://x.test in your browser." in transcript
    submit = scripted_bot.received[1]
    assert submit["type"] == "message" and "text" not in submit
    assert submit["value"] == {"command": "save", "share": "true"}
    assert submit["replyToId"] == scripted_bot.card_ids["submit"]
    assert "card (updated: it replaces the card you pressed)" in transcript
    assert "Saved your choice." in transcript

    assert "Please choose one." in transcript  # the required choice was left blank once
    assert "Please type a number from 1 to 2." in transcript  # then answered out of range
    execute = scripted_bot.received[2]
    assert execute["type"] == "invoke" and execute["name"] == "adaptiveCard/action"
    assert execute["replyToId"] == scripted_bot.card_ids["execute"]
    assert execute["value"] == {
        "action": {
            "type": "Action.Execute",
            "verb": "checkin.answer",
            "data": {"cycle": 7, "mood": "low", "note": "maybe later"},
        },
        "trigger": "manual",
    }
    updated = transcript.rindex("card (updated")
    assert transcript.index("Thank you for checking in.") > updated
    assert len(scripted_bot.received) == 3


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def test_an_unreachable_bot_is_explained():
    console, out = _console(f"http://127.0.0.1:{_closed_port()}/api/messages", ["hello"])
    assert await console.run() == 2
    assert "Can't reach the bot at" in out.getvalue() and "./run-bot" in out.getvalue()


def test_the_console_explains_itself(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["console", "--help"])
    assert exit_.value.code == 0
    text = capsys.readouterr().out
    assert "--url" in text and "number" in text and "/quit" in text
