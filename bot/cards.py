"""Adaptive Cards rendered from Jinja2 templates (one per card, grouped under bot/templates)."""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from botbuilder.core import CardFactory
from botbuilder.schema import Attachment
from jinja2 import Environment, PackageLoader, StrictUndefined

from dialogs.events import Card

ADAPTIVE_CARD_VERSION = "1.5"


@lru_cache(maxsize=1)
def _environment() -> Environment:
    environment = Environment(
        loader=PackageLoader("bot", "templates"),
        undefined=StrictUndefined,
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
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


def card_attachment(card: Card) -> Attachment:
    """The card as a Teams attachment, carrying its plain-text form for clients without cards."""
    rendered = render_card(card)
    if card.fallback_text:
        rendered.setdefault("fallbackText", card.fallback_text)
    return CardFactory.adaptive_card(rendered)


def template_names() -> list[str]:
    """Every card template the bot ships (the card validation test walks these)."""
    return sorted(
        name.removesuffix(".json.j2")
        for name in _environment().list_templates()
        if name.endswith(".json.j2") and not name.startswith("_")
    )
