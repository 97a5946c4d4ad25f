"""Which services to offer: for needs (from the menu or free text) and for check-in answers.

The rules live in the `support.routing` config section; this module only applies them, so a
wellbeing lead can change where people are pointed without touching code.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from core.config.supportconfig import CheckinRule, Service, SupportConfig


def services_for_need(need: str, support: SupportConfig) -> list[Service]:
    """The 1–3 services for one need: its routing rule, else the services that help with it."""
    targets = support.routing.needs.get(need)
    if targets:
        services = support.resolve(targets)
    else:
        services = [s for s in support.services if need in s.helps_with and s.kind != "urgent"]
    return services[: support.routing.max_services]


def services_for_needs(needs: Iterable[str], support: SupportConfig) -> list[Service]:
    """Services for several needs at once: each need's first choice, then the rest, without
    repeats, up to `max_services`."""
    per_need = [services_for_need(need, support) for need in needs]
    chosen: list[Service] = []
    for rank in range(max((len(s) for s in per_need), default=0)):
        for services in per_need:
            if rank < len(services) and services[rank] not in chosen:
                chosen.append(services[rank])
    return chosen[: support.routing.max_services]


def _rule_matches(
    rule: CheckinRule, mood: int | None, affecting: str | None, pulse: Mapping[str, Any]
) -> bool:
    if rule.mood_at_most is not None and (mood is None or mood > rule.mood_at_most):
        return False
    if rule.mood_at_least is not None and (mood is None or mood < rule.mood_at_least):
        return False
    if rule.affecting and affecting not in rule.affecting:
        return False
    if rule.pulse:
        return any(
            str(pulse.get(item)) in answers
            for item, answers in rule.pulse.items()
            if pulse.get(item) is not None
        )
    return True


def services_for_checkin(
    mood: int | None,
    affecting: str | None,
    pulse: Mapping[str, Any] | None,
    *,
    support: SupportConfig,
) -> list[Service]:
    """Services suggested by check-in answers (mood 1–5, the 'affecting' option id, pulse item
    id to answer id): every matching rule adds its services in order, up to `max_services`.
    An empty list means the answers suggest nothing in particular."""
    chosen: list[Service] = []
    for rule in support.routing.checkin:
        if _rule_matches(rule, mood, affecting, pulse or {}):
            chosen += [s for s in support.resolve(rule.services) if s not in chosen]
    return chosen[: support.routing.max_services]
