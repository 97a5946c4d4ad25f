"""The edge of /api/messages: a request body becomes an activity a turn can trust, or a clear 400.

Everything the bot reads from an activity is checked here, once, against the shapes the Bot
Framework and Teams define, with bounds that fit the database's columns. So a turn never meets
a body nested too deep to parse, a conversation without an id, a mention it cannot read, a
tenant that is not an object, a card id of 20,000 characters or a cycle id the database cannot
hold. What Teams really sends and the bot does not use (other entities, fields added later)
passes untouched. Reasons name the field and the rule, never what was sent.
"""

from __future__ import annotations

import json
import math
import re
from typing import Annotated, Any, Literal, TypeVar
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    StrictBool,
    StringConstraints,
    Tag,
    ValidationError,
)
from pydantic.alias_generators import to_camel

MAX_DEPTH = 32
"""Objects and arrays inside one another. Teams sends four or five; the JSON reader gives up
near a thousand, and the code after it sooner."""
MAX_TEXT = 40_000
"""Characters in a message's text: Teams' own limit for a message is about 28 KB."""
MAX_CARD_INPUT = 10_000
"""Characters in one value a card sends back; the bot's longest input allows 6,000."""
MAX_ROW_ID = 2**31 - 1
"""The largest id a database INTEGER column holds on both engines."""


class BadActivity(Exception):
    """The body is not an activity the bot takes (answer 400 with the reason)."""


def read_body(body: bytes) -> dict[str, Any]:
    """The body as JSON that every later step can walk: not too deep, finite numbers, strings
    the database can store. Raises BadActivity."""
    try:
        payload = json.loads(body, parse_constant=_no_constant)
    except RecursionError:
        raise BadActivity("body nests too deeply") from None
    # JSONDecodeError, bytes that are no Unicode, NaN, and numbers past Python's digit limit.
    except ValueError:
        raise BadActivity("body is not valid JSON") from None
    _check_tree(payload)
    if not isinstance(payload, dict) or not isinstance(payload.get("type"), str):
        raise BadActivity("body is not a Bot Framework activity (no 'type')")
    return payload


def _no_constant(_name: str) -> Any:
    raise ValueError("NaN and Infinity are not JSON")


def _check_tree(payload: Any) -> None:
    """Walk the whole body once, without recursion."""
    pending = [(payload, 0)]
    while pending:
        node, depth = pending.pop()
        if isinstance(node, dict | list):
            if depth >= MAX_DEPTH:
                raise BadActivity(f"body nests deeper than {MAX_DEPTH} levels")
            if isinstance(node, dict):
                for key, value in node.items():
                    _check_string(key)
                    pending.append((value, depth + 1))
            else:
                pending.extend((value, depth + 1) for value in node)
        elif isinstance(node, str):
            _check_string(node)
        elif isinstance(node, float) and not math.isfinite(node):
            raise BadActivity("a number in the body is too large")


def _check_string(value: str) -> None:
    """Strings the database can store: PostgreSQL refuses NUL, and no engine takes a lone
    surrogate. Lengths are the models' business, field by field."""
    if "\x00" in value:
        raise BadActivity("a string in the body holds a NUL character")
    if value.isascii():
        return
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise BadActivity("a string in the body holds an unpaired surrogate") from None


def check(payload: dict[str, Any]) -> None:
    """Raise BadActivity unless `payload` has the shape the bot relies on."""
    activity = _validate(_Activity, payload, ())
    if activity.type == "message" and isinstance(activity.value, dict):
        _validate(_CardData, activity.value, ("value",))
    elif activity.type == "invoke" and activity.name == "adaptiveCard/action":
        _validate(_ExecuteValue, activity.value, ("value",))


M = TypeVar("M", bound=BaseModel)


def _validate(model: type[M], data: Any, where: tuple[str, ...]) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as error:
        first = error.errors(include_url=False, include_input=False)[0]
        path = ".".join(_segment(part) for part in (*where, *first["loc"]))
        raise BadActivity(f"{path or 'activity'} {_rule(first)}") from None


_RULES = {
    "missing": "is required",
    "model_type": "must be an object",
    "model_attributes_type": "must be an object",
    "dict_type": "must be an object",
    "list_type": "must be an array",
    "string_type": "must be a string",
    "bool_type": "must be true or false",
    "string_too_short": "must not be empty",
}


def _rule(error: Any) -> str:
    """A pydantic error as a short rule, in the reason's words."""
    context = error.get("ctx") or {}
    if error["type"] == "string_too_long":
        return f"must be at most {context['max_length']} characters"
    if error["type"] == "string_pattern_mismatch":
        return f"must match {context['pattern']}"
    if error["type"] == "value_error":
        return str(context["error"])
    return _RULES.get(error["type"]) or error["msg"]


def _segment(part: str | int) -> str:
    """A field's name as the reason gives it: free-form keys (a card's inputs) are not ours to
    repeat, so only names the models know appear."""
    return str(part) if isinstance(part, int) or part in _KNOWN_NAMES else "*"


def _text(limit: int, *, required: bool = False) -> Any:
    return Annotated[str, StringConstraints(min_length=1 if required else 0, max_length=limit)]


def _plain_id(value: str) -> str:
    """Ids go into the Bot Connector's URLs as path segments: none is '.' or '..' (which would
    address another resource), and none holds spaces or control characters (Teams' never do)."""
    if value and (not value.strip(".") or not value.isprintable() or " " in value):
        raise ValueError("must be an id: printable, without spaces, not dots alone")
    return value


def _id(limit: int, *, required: bool = False) -> Any:
    return Annotated[_text(limit, required=required), AfterValidator(_plain_id)]


# Sizes follow the columns that keep them (core/store/models.py): person and tenant ids 64, Teams
# user and bot ids 256, conversation, team and channel ids 512.
AadId = _id(64)
UserId = _id(256, required=True)
ActivityId = _id(256)
ConversationId = _id(512, required=True)
ThreadId = _id(512)
Name = _text(256)
Word = _text(64)
NonEmptyWord = _text(64, required=True)
MentionText = _text(1024)
EntityType = _text(256)
Text = _text(MAX_TEXT)
Command = _text(200)
Argument = _text(1000)


def _service_url(value: str) -> str:
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 (a port that is no number raises here)
    except ValueError:
        raise ValueError("must be an http or https URL") from None
    if (
        parts.scheme not in ("http", "https")
        or not parts.hostname
        or not value.isascii()
        or any(c.isspace() or not c.isprintable() for c in value)
        or parts.username is not None
        or parts.query
        or parts.fragment
    ):
        raise ValueError("must be an http or https URL")
    return value


def _row_id(low: int, high: int) -> Any:
    """A number the bot issued (a cycle, request or question id): an integer or ASCII digits."""

    def check(value: Any) -> Any:
        number = value if type(value) is int else None
        if isinstance(value, str) and re.fullmatch(r"[0-9]{1,10}", value):
            number = int(value)
        if number is None or not low <= number <= high:
            raise ValueError(f"must be a whole number from {low} to {high}")
        return value

    return Annotated[int | str, AfterValidator(check)]


ServiceUrl = Annotated[
    str, StringConstraints(min_length=1, max_length=512), AfterValidator(_service_url)
]
RowId = _row_id(0, MAX_ROW_ID)
IsoWeek = _row_id(1, 53)
CardId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
CardKey = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.-]{1,64}$")]
Int64 = Annotated[int, Field(ge=-(2**63), lt=2**63)]
CardInput = _text(MAX_CARD_INPUT) | Int64 | float | StrictBool | None
Scalar = _text(256) | Int64 | float | StrictBool | None


class _Model(BaseModel):
    """Field names as the Bot Framework spells them; types exactly as JSON gives them."""

    model_config = ConfigDict(alias_generator=to_camel, extra="allow", strict=True)


class _Stored(_Model):
    """Kept in the conversation reference the bot stores, unknown fields too: those are bounded
    as well (Teams adds only short scalars here)."""

    __pydantic_extra__: dict[Word, Scalar] = Field(init=False)


class _Account(_Stored):
    id: UserId
    name: Name | None = None
    aad_object_id: AadId | None = None
    role: Word | None = None


class _Conversation(_Stored):
    id: ConversationId
    conversation_type: Word | None = None
    tenant_id: AadId | None = None
    is_group: bool | None = None
    name: Name | None = None


class _Mention(_Model):
    type: EntityType
    mentioned: _Account
    text: MentionText | None = None


class _ClientInfo(_Model):
    type: Literal["clientInfo"]
    timezone: Word | None = None
    locale: Word | None = None
    country: Word | None = None
    platform: Word | None = None


class _Entity(_Model):
    type: EntityType


def _entity_kind(entity: Any) -> str:
    """The SDK takes any entity whose type is 'mention', in any case, as a mention."""
    kind = entity.get("type") if isinstance(entity, dict) else None
    if isinstance(kind, str) and kind.lower() == "mention":
        return "mention"
    return "clientInfo" if kind == "clientInfo" else "entity"


AnyEntity = Annotated[
    Annotated[_Mention, Tag("mention")]
    | Annotated[_ClientInfo, Tag("clientInfo")]
    | Annotated[_Entity, Tag("entity")],
    Discriminator(_entity_kind),
]


class _Tenant(_Model):
    id: AadId | None = None


class _Team(_Model):
    id: ThreadId | None = None
    name: Name | None = None
    aad_group_id: AadId | None = None


class _Channel(_Model):
    id: ThreadId | None = None
    name: Name | None = None
    type: Word | None = None


class _ChannelData(_Model):
    tenant: _Tenant | None = None
    team: _Team | None = None
    channel: _Channel | None = None
    event_type: Word | None = None


class _Activity(_Model):
    type: NonEmptyWord
    id: ActivityId | None = None
    channel_id: NonEmptyWord
    service_url: ServiceUrl
    conversation: _Conversation
    from_: _Account = Field(alias="from")
    recipient: _Account
    text: Text | None = None
    name: Name | None = None
    action: Word | None = None
    reply_to_id: ActivityId | None = None
    locale: Word | None = None
    local_timezone: Word | None = None
    entities: list[AnyEntity] | None = None
    channel_data: _ChannelData | None = None
    members_added: list[_Account] | None = None
    members_removed: list[_Account] | None = None
    value: Any = None


class _CardData(BaseModel):
    """What the bot's own cards send back: their data, plus the person's inputs as strings."""

    model_config = ConfigDict(extra="allow", strict=True)
    __pydantic_extra__: dict[CardKey, CardInput] = Field(init=False)

    command: Command | None = None
    argument: Argument | None = None
    card_id: CardId | None = None
    cycle_id: RowId | None = None
    week: IsoWeek | None = None
    request_id: RowId | None = None
    question_id: RowId | None = None
    escalation_id: RowId | None = None


class _ExecuteAction(_Model):
    type: Word | None = None
    verb: Command | None = None
    data: _CardData | None = None


class _ExecuteValue(_Model):
    """An adaptiveCard/action invoke: Action.Execute's verb and data."""

    action: _ExecuteAction
    trigger: Word | None = None


def _names(*models: type[BaseModel]) -> frozenset[str]:
    names: set[str] = {"value", "mention", "clientInfo", "entity"}
    for model in models:
        for name, field in model.model_fields.items():
            names.update({name, field.alias or name})
    return frozenset(names)


_KNOWN_NAMES = _names(
    _Account,
    _Conversation,
    _Mention,
    _ClientInfo,
    _Entity,
    _Tenant,
    _Team,
    _Channel,
    _ChannelData,
    _Activity,
    _CardData,
    _ExecuteAction,
    _ExecuteValue,
)
