"""Adaptive Cards rendered from Jinja2 templates (one per card, grouped under bot/templates)."""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from botbuilder.core import CardFactory
from botbuilder.schema import Attachment
from jinja2 import Environment, PackageLoader, StrictUndefined

from core.events import Card

ADAPTIVE_CARD_VERSION = "1.5"


@lru_cache(maxsize=1)
def _environment() -> Environment:
    environment = Environment(
        loader=PackageLoader("bot", "templates"),
        undefined=StrictUndefined,
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,  # shipped files: no stat() of the template on every card sent
    )
    environment.policies["json.dumps_kwargs"] = {"ensure_ascii": False, "sort_keys": False}
    environment.globals["card_version"] = ADAPTIVE_CARD_VERSION
    return environment


def render_card(card: Card) -> dict[str, Any]:
    """The card's JSON; a template that renders invalid JSON is a bug, so it raises loudly."""
    template = _environment().get_template(f"{card.template}.json.j2")
    text = template.render(**card.context)
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(
            f"card template {card.template!r} rendered invalid JSON: {error}"
        ) from error


def _content(card: Card, banner: str = "") -> dict[str, Any]:
    """The rendered card, carrying its plain-text form for clients without cards, and the
    deployment's banner on top when it has one (a demo or a test system)."""
    rendered = render_card(card)
    if card.fallback_text:
        rendered.setdefault("fallbackText", card.fallback_text)
    if banner:
        line = {
            "type": "TextBlock",
            "text": banner,
            "wrap": True,
            "isSubtle": True,
            "size": "Small",
        }
        rendered["body"] = [line, *rendered.get("body", [])]
    return rendered


def card_attachment(card: Card, banner: str = "") -> Attachment:
    """The card as a Teams attachment, for replies the SDK sends within a turn."""
    return CardFactory.adaptive_card(_content(card, banner))


def attachment_json(card: Card, banner: str = "") -> dict[str, Any]:
    """The same attachment as the Bot Connector's JSON, for proactive sends. Built directly: the
    SDK's msrest serialiser walks every node of the card and cost ~4 ms a message."""
    return {
        "contentType": CardFactory.content_types.adaptive_card,
        "content": _content(card, banner),
    }


def template_names() -> list[str]:
    """Every card template the bot ships (the card validation test walks these)."""
    return sorted(
        name.removesuffix(".json.j2")
        for name in _environment().list_templates()
        if name.endswith(".json.j2") and not name.startswith("_")
    )
