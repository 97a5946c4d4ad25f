"""Which roles the sender holds, for `help` (Command.audience): each feature already knows its
own people; this asks each once."""

from __future__ import annotations

from core.context import Turn
from dialogs import enrolment, faq, leadreport, manager

ROLES = ("manager", "lead", "coordinator", "hr_expert", "hr_admin", "admin")


async def roles_of(turn: Turn) -> frozenset[str]:
    """The roles the sender holds (HR admins see the HR experts' commands too)."""
    if not turn.event.user_id:
        return frozenset()
    held: set[str] = set()
    if await manager._managed(turn):
        held.add("manager")
    if await leadreport.is_lead(turn.services, turn.event.user_id):
        held.add("lead")
    coordinators = turn.services.org.roles.coordinators
    if await faq._holds_role(turn, [*coordinators.primary, *coordinators.backup]):
        held.add("coordinator")
    if await faq._is_hr_admin(turn):
        held |= {"hr_admin", "hr_expert"}
    if await enrolment.is_admin(turn):
        held.add("admin")
    return frozenset(held)
