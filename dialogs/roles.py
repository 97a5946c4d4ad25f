"""Who holds which role, asked in one place: the router refuses a command whose `requires=` role
the sender lacks (one wording, here), and `help` lists the commands of the roles they hold
(Command.audience). People are named in the organisation config by AAD id or by a UPN seen in a
roster; managers come from the imported teams; the HR experts are whoever is in their channel."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from core.config import orgimport
from core.context import Services, Turn
from core.faq import store as faq_store
from core.reporting.leadreport import lead_ids
from core.store.directory import resolve_person
from dialogs.commands import Command

WHO = {
    "manager": "line managers",
    "lead": "the organisation's wellbeing leads",
    "coordinator": "the staff support coordinators",
    "hr_expert": "the HR experts",
    "hr_admin": "HR admins",
    "admin": "the bot's admins",
}
HOW = {
    "manager": "Ask your wellbeing lead to name you as your team's manager.",
    "lead": "If you think you should be one, ask whoever looks after the bot to add you as a "
    "wellbeing lead.",
    "coordinator": "Ask whoever looks after the bot to add you to roles.coordinators in the "
    "organisation config.",
    "hr_expert": "Try it in the HR experts channel.",
    "hr_admin": "If you should be one, ask for your account to be added to roles.hr_admins in the "
    "organisation config.",
    "admin": "If you should be one, ask for your account to be added to roles.admins in the "
    "organisation config.",
}


def refusal(command: Command) -> str:
    """What someone hears when they use a command their roles do not allow."""
    role = command.requires or ""
    what = f"use **{command.name}**" if command.typed else "do that"
    return f"Only {WHO[role]} can {what}. {HOW[role]}"


async def holds_role(turn: Turn, people: list[str]) -> bool:
    """Whether the sender is one of `people` (AAD ids, or UPNs resolved from the rosters)."""
    person = turn.event.user_id
    if not person or not people:
        return False
    async with turn.services.sessions() as session:
        for ref in people:
            if await resolve_person(session, ref) == person:
                return True
    return False


async def is_admin(turn: Turn) -> bool:
    return await holds_role(turn, turn.services.org.roles.admins)


async def is_hr_admin(turn: Turn) -> bool:
    return await holds_role(turn, turn.services.org.roles.hr_admins)


async def is_coordinator(turn: Turn) -> bool:
    coordinators = turn.services.org.roles.coordinators
    return await holds_role(turn, [*coordinators.primary, *coordinators.backup])


async def experts_channel(turn: Turn) -> str | None:
    """The HR experts channel: the organisation config's, else the one an admin registered."""
    async with turn.services.sessions() as session:
        return await faq_store.experts_channel(
            session, turn.event.tenant_id, turn.services.org.roles.hr_experts_channel
        )


async def is_hr_expert(turn: Turn) -> bool:
    """Experts are whoever is in the experts channel; HR admins may act from anywhere."""
    experts = await experts_channel(turn)
    here = turn.event.conversation_id.partition(";messageid=")[0]
    in_channel = not turn.event.personal and experts is not None and here == experts
    return in_channel or await is_hr_admin(turn)


async def is_lead(services: Services, aad_object_id: str | None) -> bool:
    """Whether someone is one of the organisation's wellbeing leads (also asked of a report
    link's holder each time it is opened)."""
    if not aad_object_id:
        return False
    async with services.sessions() as session:
        return aad_object_id.lower() in await lead_ids(session, services.org)


async def managed_teams(turn: Turn) -> list[orgimport.OrgTeamView]:
    """The imported teams the sender manages (by AAD id or UPN)."""
    if not turn.event.user_id:
        return []
    async with turn.services.sessions() as session:
        return await orgimport.managed_by(session, turn.services.org, turn.event.user_id)


async def _is_manager(turn: Turn) -> bool:
    return bool(await managed_teams(turn))


async def _is_lead(turn: Turn) -> bool:
    return await is_lead(turn.services, (turn.event.user_id or "").lower())


CHECKS: dict[str, Callable[[Turn], Awaitable[bool]]] = {
    "manager": _is_manager,
    "lead": _is_lead,
    "coordinator": is_coordinator,
    "hr_expert": is_hr_expert,
    "hr_admin": is_hr_admin,
    "admin": is_admin,
}


async def allowed(turn: Turn, command: Command) -> bool:
    """Whether the sender may run `command` (true when it requires no role)."""
    return command.requires is None or await CHECKS[command.requires](turn)


async def roles_of(turn: Turn) -> frozenset[str]:
    """The roles the sender holds, for `help` (HR admins see the HR experts' commands too)."""
    if not turn.event.user_id:
        return frozenset()
    held: set[str] = set()
    if await _is_manager(turn):
        held.add("manager")
    if await _is_lead(turn):
        held.add("lead")
    if await is_coordinator(turn):
        held.add("coordinator")
    if await is_hr_admin(turn):
        held |= {"hr_admin", "hr_expert"}
    if await is_admin(turn):
        held.add("admin")
    return frozenset(held)
