"""Every Adaptive Card the bot can send parses and validates with Microsoft's own adaptivecards
package, with every input labelled and a version Teams renders (1.5 or lower)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bot.cards import card_attachment, template_names
from core.events import Card
from tests.support import node

SAMPLES = Path(__file__).resolve().parent / "fixtures" / "cards"
TEAMS_MAX_VERSION = (1, 5)


def _samples(template: str) -> list[dict[str, Any]]:
    path = SAMPLES / f"{template}.json"
    if not path.exists():
        pytest.fail(
            f"card template {template!r} has no samples: add tests/fixtures/cards/{template}.json "
            "(a JSON list of context dicts; see tests/fixtures/cards/README.md)"
        )
    samples = json.loads(path.read_text(encoding="utf-8"))
    assert isinstance(samples, list) and samples, f"{path.name} must be a non-empty JSON list"
    assert all(isinstance(s, dict) for s in samples), f"{path.name}: each sample is a dict"
    return samples


def _rendered(template: str) -> list[dict[str, Any]]:
    """The cards exactly as the bot attaches them (fallback text included)."""
    return [
        card_attachment(Card(template, context, fallback_text="plain text")).content
        for context in _samples(template)
    ]


def unlabelled_inputs(card: Any) -> list[str]:
    """Inputs with no visible label: screen readers and Teams' mobile client need one."""
    found: list[str] = []
    if isinstance(card, dict):
        kind = card.get("type")
        if isinstance(kind, str) and kind.startswith("Input."):
            label = card.get("label")
            if not isinstance(label, str) or not label.strip():
                found.append(f"{kind} {card.get('id', '(no id)')}")
        for value in card.values():
            found.extend(unlabelled_inputs(value))
    elif isinstance(card, list):
        for item in card:
            found.extend(unlabelled_inputs(item))
    return found


def _version(card: dict[str, Any]) -> tuple[int, ...]:
    return tuple(int(part) for part in str(card.get("version", "")).split("."))


@pytest.fixture(scope="module")
def official_reports() -> dict[str, list[dict[str, Any]]]:
    """One node run for every sample of every template, keyed by template."""
    batch = [
        {"name": f"{template}[{index}]", "card": card}
        for template in template_names()
        if (SAMPLES / f"{template}.json").exists()
        for index, card in enumerate(_rendered(template))
    ]
    reports: dict[str, list[dict[str, Any]]] = {}
    for report in node.validate("cards", batch):
        reports.setdefault(report["name"].split("[")[0], []).append(report)
    return reports


def test_the_templates_are_found():
    assert {"welcome", "help", "fallback"} <= set(template_names())


@pytest.mark.parametrize("template", template_names())
def test_every_template_has_samples_and_follows_our_rules(template):
    for index, card in enumerate(_rendered(template)):
        assert card["type"] == "AdaptiveCard"
        assert _version(card) <= TEAMS_MAX_VERSION, f"{template}[{index}]: version above 1.5"
        assert unlabelled_inputs(card) == [], f"{template}[{index}]: inputs without a label"


@pytest.mark.parametrize("template", template_names())
def test_every_template_passes_the_official_parser(template, official_reports):
    samples = _samples(template)
    reports = official_reports.get(template, [])
    assert len(reports) == len(samples)
    for report in reports:
        assert report["events"] == [], f"{report['name']}: {report['events']}"
        assert report["errors"] == [], f"{report['name']}: {report['errors']}"


def test_the_checks_catch_what_they_are_for():
    """A card with an unknown element, an unknown property and an unlabelled input is refused."""
    card = {
        "type": "AdaptiveCard",
        "version": "1.5",
        "body": [
            {"type": "TextBlock", "text": "Hi", "colour": "good"},
            {"type": "Input.Text", "id": "note"},
            {"type": "Input.Texts", "id": "typo", "label": "Typo"},
            {"type": "Input.Text", "id": "note", "label": "Twice"},
        ],
        "actions": [{"type": "Action.Submit", "title": "Send", "data": {"command": "x"}}],
    }
    [report] = node.validate("cards", [{"name": "bad", "card": card}])
    events, errors = "\n".join(report["events"]), "\n".join(report["errors"])
    assert 'unknown property "colour" on TextBlock' in events
    assert 'Unknown element type "Input.Texts"' in events
    assert "DuplicateId" in errors
    assert unlabelled_inputs(card) == ["Input.Text note"]


def _texts(element: Any) -> list[str]:
    """Every TextBlock's text in an element, show-cards included."""
    if isinstance(element, dict):
        own = [element["text"]] if element.get("type") == "TextBlock" else []
        return own + [text for value in element.values() for text in _texts(value)]
    if isinstance(element, list):
        return [text for item in element for text in _texts(item)]
    return []


def test_the_checkin_thanks_card_folds_how_a_service_works_behind_a_button() -> None:
    """After a hard check-in the card says what could help and how to reach it; how a service
    works and who will know are one tap away, so the card stays short on a phone. The support
    card someone asked for keeps them in view."""
    with_support = next(s for s in _samples("checkin_thanks") if s.get("support"))
    card = card_attachment(Card("checkin_thanks", with_support)).content
    services = [item for item in card["body"] if item.get("type") == "Container"]
    assert services, "the sample with support shows services"
    for container in services:
        visible = [i for i in container["items"] if i.get("type") != "ActionSet"]
        assert "Who will know" not in _texts(visible)
        folded = [
            action
            for item in container["items"]
            if item.get("type") == "ActionSet"
            for action in item["actions"]
            if action["type"] == "Action.ShowCard"
        ]
        assert len(folded) == 1 and folded[0]["title"] == "How it works"
        assert "Who will know" in _texts(folded[0]["card"])

    asked_for = card_attachment(Card("support_services", _samples("support_services")[0])).content
    assert "Who will know" in _texts(asked_for["body"])
    assert "How it works" not in json.dumps(asked_for)
