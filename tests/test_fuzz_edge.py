"""Property-based fuzzing of POST /api/messages (issue 20): whatever arrives, never a 5xx, never
a crashed turn in the log, and nothing stored from an activity the edge refused.

Two sources of activities: whole activities built from the Bot Framework activity's schema with
any content, half of them then broken; and the recorded Teams activities (tests/fixtures/teams,
copied from /work/shared/fixtures/teams) with one to three fields deleted, retyped, swapped for
tricky strings or made long. Every example goes through the real app, its database and the
fake Bot Connector. `--fuzz-examples N` sets the examples per test (README, "Quick start").

Hypothesis runs its examples in a worker thread and hands each to the app's event loop, so the
app keeps one loop, one database and one connector for all of them, as a server does.
"""

from __future__ import annotations

import asyncio
import copy
import logging
import uuid
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from tests.support import activities
from tests.support.activities import BOT_ID, BOT_NAME, FIXTURES, TeamsTeam, TeamsUser, fixture
from tests.support.rows import row_counts

TRICKY_STRINGS = [
    "",
    " ",
    "²",
    "١٢",
    "1" * 30,
    "-1",
    "0",
    "2147483648",
    "1_000",
    " 7 ",
    "1.5",
    "true",
    "null",
    "<at>[</at>",
    "<at>(</at>",
    f"<at>{BOT_NAME}</at>",
    "..",
    "a/b?c#d",
    "%2F",
    "\u202e",
    "😀" * 3,
    "Europe/London",
    "Nowhere/Land",
    "../../etc/passwd",
    "x" * 600,
]
TRICKY_NUMBERS = [0, -1, 1, 53, 54, 2**31, 2**63, 10**30, -(10**30), 1.5, 1e308]

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.sampled_from(TRICKY_NUMBERS),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20),
    st.sampled_from(TRICKY_STRINGS),
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
# Strings a client can send that a database can store (no NUL, no lone surrogates); the
# mutations below add the ones it cannot.
words = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), max_size=40)
ids = st.one_of(
    st.sampled_from(["29:1", "a:1", "19:abc@thread.tacv2;messageid=17", BOT_ID]),
    st.uuids().map(str),
    words.filter(bool),
)
row_ids = st.integers(0, 2**31 - 1) | st.integers(0, 10**9).map(str)


def accounts() -> st.SearchStrategy:
    return st.fixed_dictionaries(
        {"id": ids},
        optional={"name": words, "aadObjectId": st.uuids().map(str) | ids, "role": words},
    )


def conversations() -> st.SearchStrategy:
    return st.fixed_dictionaries(
        {"id": ids},
        optional={
            "conversationType": st.sampled_from(["personal", "channel", "groupChat"]) | words,
            "tenantId": st.uuids().map(str),
            "isGroup": st.booleans(),
        },
    )


def entities() -> st.SearchStrategy:
    mention = st.fixed_dictionaries(
        {
            "type": st.sampled_from(["mention", "Mention"]),
            "mentioned": st.just({"id": BOT_ID, "name": BOT_NAME}) | accounts(),
        },
        optional={"text": st.sampled_from([f"<at>{BOT_NAME}</at>", "<at>[</at>", ""]) | words},
    )
    client_info = st.fixed_dictionaries(
        {"type": st.just("clientInfo")},
        optional={"timezone": st.sampled_from(["Europe/London", "Nowhere/Land", ""]) | words},
    )
    other = st.fixed_dictionaries({"type": words}, optional={"x": json_values})
    return st.one_of(mention, client_info, other)


def channel_data() -> st.SearchStrategy:
    return st.fixed_dictionaries(
        {},
        optional={
            "tenant": st.fixed_dictionaries({"id": st.uuids().map(str)}),
            "team": st.fixed_dictionaries(
                {"id": ids}, optional={"name": words, "aadGroupId": st.uuids().map(str)}
            ),
            "channel": st.fixed_dictionaries(
                {}, optional={"id": ids, "type": st.sampled_from(["standard", "private"])}
            ),
            "eventType": st.sampled_from(["teamMemberAdded", "teamMemberRemoved"]) | words,
        },
    )


def card_data(commands: list[str]) -> st.SearchStrategy:
    return st.fixed_dictionaries(
        {"command": st.sampled_from(commands)},
        optional={
            "card_id": st.uuids().map(lambda u: u.hex),
            "cycle_id": row_ids | st.none(),
            "week": st.integers(1, 53),
            "mood": st.sampled_from(["1", "2", "3", "4", "5", "0", "6", "x"]),
            "affecting": words,
            "note": words,
            "argument": words,
            "need": words,
            "token": words,
            "request_id": row_ids,
            "question_id": row_ids,
            "escalation_id": row_ids,
            "entry_id": words,
        },
    )


def whole_activities(service_url: str, commands: list[str]) -> st.SearchStrategy:
    """Activities of the Bot Framework's schema, every field of the right type, with any
    content: the kinds Teams sends, any command, card data, mentions, team events."""
    data = card_data(commands)
    return st.fixed_dictionaries(
        {
            "type": st.sampled_from(
                ["message", "invoke", "conversationUpdate", "installationUpdate", "typing"]
            )
            | words.filter(bool),
            "channelId": st.just("msteams"),
            "serviceUrl": st.just(service_url),
            "conversation": conversations(),
            "from": accounts(),
            "recipient": st.just({"id": BOT_ID, "name": BOT_NAME}) | accounts(),
        },
        optional={
            "id": ids,
            "text": st.sampled_from(commands) | words,
            "value": data
            | st.fixed_dictionaries({"action": st.fixed_dictionaries({"data": data})}),
            "name": st.sampled_from(["adaptiveCard/action", "task/fetch"]) | words,
            "action": st.sampled_from(["add", "remove", "add-upgrade"]) | words,
            "entities": st.lists(entities(), max_size=3),
            "channelData": channel_data(),
            "membersAdded": st.lists(accounts(), max_size=2),
            "membersRemoved": st.lists(accounts(), max_size=2),
            "replyToId": ids,
            "locale": st.sampled_from(["en-GB", "cy-GB"]),
            "localTimezone": st.sampled_from(["Europe/London", "Nowhere/Land"]) | words,
        },
    )


def shaped_activities(service_url: str, commands: list[str]) -> st.SearchStrategy:
    """Whole activities, half of them with one to three fields broken."""
    whole = whole_activities(service_url, commands)
    return whole | whole.flatmap(lambda activity: mutated_activities([activity]))


def _seeds(service_url: str) -> list[dict[str, Any]]:
    """The recorded Teams activities, and the bot's own card submits built the same way."""
    user, team = TeamsUser(), TeamsTeam()
    checkin = {"command": "checkin submit", "card_id": uuid.uuid4().hex, "cycle_id": 1, "week": 48}
    built = [
        activities.card_submit(user, service_url, {**checkin, "mood": "2", "note": "tired"}),
        activities.card_execute(user, service_url, "checkin submit", {**checkin, "mood": "4"}),
        activities.channel_message(user, team, service_url, "how many sick days can I take?"),
        activities.team_members_changed(user, team, service_url, added=[TeamsUser()]),
    ]
    recorded = [fixture(path.name) for path in sorted(FIXTURES.glob("*.json"))]
    for activity in recorded:
        activity["serviceUrl"] = service_url
    return recorded + built


def _places(node: Any) -> list[tuple[Any, Any]]:
    """Every (container, key or index) in an activity, the activity's own fields too."""
    found: list[tuple[Any, Any]] = []
    pending = [node]
    while pending:
        container = pending.pop()
        keys = container.keys() if isinstance(container, dict) else range(len(container))
        for key in keys:
            found.append((container, key))
            if isinstance(container[key], dict | list) and container[key]:
                pending.append(container[key])
    return found


@st.composite
def mutated_activities(draw: st.DrawFn, seeds: list[dict[str, Any]]) -> dict[str, Any]:
    """A recorded activity with one to three of its fields broken."""
    activity = copy.deepcopy(draw(st.sampled_from(seeds)))
    for _ in range(draw(st.integers(1, 3))):
        container, key = draw(st.sampled_from(_places(activity)))
        original = container[key]
        how = draw(st.sampled_from(["delete", "any", "tricky", "long", "wrap", "number"]))
        if how == "delete":
            del container[key]
        elif how == "any":
            container[key] = draw(json_values)
        elif how == "tricky":
            container[key] = draw(st.sampled_from(TRICKY_STRINGS))
        elif how == "long":
            container[key] = "x" * draw(st.sampled_from([65, 257, 513, 1_025, 20_000, 50_000]))
        elif how == "wrap":
            container[key] = draw(st.sampled_from([[original], {"id": original}, str(original)]))
        else:
            container[key] = draw(st.sampled_from(TRICKY_NUMBERS))
        if not activity:
            break
    return activity


class _TurnFailures(logging.Handler):
    """Counts the app's 'turn failed' lines: a crashed turn, whatever was answered."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        if "turn failed" in record.getMessage():
            self.count += 1


async def _fuzz(bot, examples: int, strategy: st.SearchStrategy) -> None:
    loop = asyncio.get_running_loop()
    failures = _TurnFailures()
    logging.getLogger("bot.app").addHandler(failures)

    async def post(activity: dict[str, Any]) -> int:
        before = await row_counts(bot.services.sessions)
        crashed = failures.count
        response = await bot.post(activity)
        assert response.status < 500, (response.status, await response.text())
        assert failures.count == crashed, "a turn failed"
        if response.status == 400:
            assert await row_counts(bot.services.sessions) == before, "stored from a refused body"
        return response.status

    @settings(
        max_examples=examples,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(strategy)
    def property_(activity: dict[str, Any]) -> None:
        status = asyncio.run_coroutine_threadsafe(post(activity), loop).result(timeout=60)
        event(f"answered {status}")  # --hypothesis-show-statistics

    try:
        await asyncio.to_thread(property_)
    finally:
        logging.getLogger("bot.app").removeHandler(failures)


def _commands(bot) -> list[str]:
    return [command.name for command in bot.services.commands.commands]


@pytest.fixture
def examples(request) -> int:
    return request.config.getoption("--fuzz-examples")


async def test_activities_of_any_shape_never_crash_a_turn(bot, examples):
    await _fuzz(bot, examples, shaped_activities(bot.connector.url, _commands(bot)))


async def test_broken_teams_activities_never_crash_a_turn(bot, examples):
    await _fuzz(bot, examples, mutated_activities(_seeds(bot.connector.url)))
