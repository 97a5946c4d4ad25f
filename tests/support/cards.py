"""Reading the cards the bot sent, as a person would: what they can read and press."""

from __future__ import annotations

from typing import Any


def card_text(card: Any) -> str:
    """Every string a person can read on a card (texts, titles, labels, values)."""
    parts: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key in ("text", "title", "label", "value"):
                if isinstance(node.get(key), str):
                    parts.append(node[key])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(card)
    return "\n".join(parts)


def submits(card: Any) -> list[dict[str, Any]]:
    """The data of every Action.Submit on a card, anywhere in it."""
    found: list[dict[str, Any]] = []
    if isinstance(card, dict):
        if card.get("type") == "Action.Submit":
            found.append(card["data"])
        for value in card.values():
            found += submits(value)
    elif isinstance(card, list):
        for item in card:
            found += submits(item)
    return found


def buttons(card: Any) -> list[dict[str, Any]]:
    """Every button on a card, wherever it sits (its actions, an ActionSet or a tappable box in its body), in
    the order a person sees them."""
    found: list[dict[str, Any]] = []
    for element in card.get("body") or []:
        if element.get("type") == "ActionSet":
            found += element["actions"]
        elif "selectAction" in element:
            found.append(element["selectAction"])
    return found + list(card.get("actions") or [])


def cards_of(sent: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The cards among sent activities, in order."""
    return [
        attachment["content"]
        for activity in sent
        for attachment in activity.get("attachments") or []
    ]
