"""Teams, directorates and managers from an HR export (`wellbeing-bot org import FILE`).

The file is CSV or YAML with these columns, one row per team and manager (a team with several
managers has several rows; a team with none has one row with `manager` empty):

| column | required | meaning |
| --- | --- | --- |
| team_id | yes | the team's AAD group id (Teams' team details give it) |
| team_name | yes | the team's name as people know it |
| directorate | no | the directorate the team belongs to |
| manager | no | a line manager: AAD object id, or UPN/email address |
| enrolled | no | yes/no (true/false, 1/0): members get the weekly check-in; empty means no |

Every line is checked first; when any is wrong, nothing is imported and each problem is reported
with its line number. An import replaces everything imported before (it is a snapshot of HR's
data). Precedence: a team listed in the organisation config is taken from the config as a whole
(its name, directorate, managers and enrolment); the import supplies every other team.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import yaml
from sqlalchemy import Column, delete
from sqlmodel import Field, SQLModel, select
from sqlmodel.ext.asyncio.session import AsyncSession

from core.config.orgconfig import EMAIL, GUID, OrgConfig
from core.reporting import tabular
from core.store.directory import resolve_person
from core.store.models import Person, UTCDateTime

COLUMNS = ("team_id", "team_name", "directorate", "manager", "enrolled")
REQUIRED = ("team_id", "team_name")
YES = {"yes", "y", "true", "1"}
NO = {"no", "n", "false", "0", ""}


class OrgTeam(SQLModel, table=True):
    """A team from the last HR import (identity and routing data: no wellbeing data)."""

    __tablename__ = "org_team"

    id: str = Field(primary_key=True, max_length=64, description="AAD group id")
    name: str = Field(max_length=256)
    directorate: str | None = Field(default=None, max_length=256)
    enrolled: bool = Field(default=False)
    imported_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class OrgTeamManager(SQLModel, table=True):
    """A line manager of an imported team, as the file named them (AAD id or UPN/email)."""

    __tablename__ = "org_team_manager"

    team_id: str = Field(
        primary_key=True, max_length=64, foreign_key="org_team.id", ondelete="CASCADE"
    )
    manager: str = Field(primary_key=True, max_length=320)


class OrgImportError(tabular.ImportProblems):
    """A team file that cannot be imported."""


@dataclass
class ImportedTeam:
    """One team as read from the file, with the line it first appeared on."""

    id: str
    name: str
    directorate: str | None
    enrolled: bool
    line: int
    managers: list[str] = field(default_factory=list)


def _rows_from_yaml(text: str, problems: list[str]) -> list[tuple[int, dict[str, object]]]:
    loader = yaml.SafeLoader("")
    rows = []
    for line, node in tabular.yaml_mappings(text, problems, "- team_id: …"):
        data = loader.construct_mapping(node, deep=True)
        problems.extend(
            tabular.unknown_column(str(key), line, COLUMNS) for key in data if key not in COLUMNS
        )
        managers = data.get("manager")
        if isinstance(managers, list):
            for manager in managers or [""]:
                rows.append((line, {**data, "manager": manager}))
        else:
            rows.append((line, data))
    return rows


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value).strip()


def parse(text: str, *, source: str = "file", kind: str = "csv") -> list[ImportedTeam]:
    """Read and check every row; raise OrgImportError listing every problem by line."""
    problems: list[str] = []
    rows = (
        _rows_from_yaml(text, problems)
        if kind == "yaml"
        else tabular.csv_rows(text, problems, COLUMNS, REQUIRED)
    )
    teams: dict[str, ImportedTeam] = {}
    for line, row in rows:
        team_id = _text(row.get("team_id")).lower()
        name = _text(row.get("team_name"))
        directorate = _text(row.get("directorate")) or None
        manager = _text(row.get("manager")).lower()
        enrolled_text = _text(row.get("enrolled")).lower()
        bad = False
        if not GUID.match(team_id):
            problems.append(
                f"line {line}: team_id {team_id or '(empty)'!r} is not an AAD group id (a GUID)"
            )
            bad = True
        if not name:
            problems.append(f"line {line}: team_name is empty")
            bad = True
        elif len(name) > 256:
            problems.append(f"line {line}: team_name is longer than 256 characters")
            bad = True
        if directorate and len(directorate) > 256:
            problems.append(f"line {line}: directorate is longer than 256 characters")
            bad = True
        if manager and not (GUID.match(manager) or EMAIL.match(manager)):
            problems.append(
                f"line {line}: manager {manager!r} is neither an AAD object id (a GUID) nor a "
                "UPN or email address"
            )
            bad = True
        if enrolled_text not in YES | NO:
            problems.append(f"line {line}: enrolled {enrolled_text!r} should be yes or no")
            bad = True
        if bad:
            continue
        enrolled = enrolled_text in YES
        team = teams.get(team_id)
        if team is None:
            team = teams[team_id] = ImportedTeam(team_id, name, directorate, enrolled, line)
        else:
            for what, first, here in (
                ("team_name", team.name, name),
                ("directorate", team.directorate or "", directorate or ""),
                ("enrolled", "yes" if team.enrolled else "no", "yes" if enrolled else "no"),
            ):
                if first != here:
                    problems.append(
                        f"line {line}: {what} {here!r} differs from {first!r} given for the same "
                        f"team on line {team.line}"
                    )
        if manager:
            if manager in team.managers:
                problems.append(f"line {line}: manager {manager!r} is listed twice for this team")
            else:
                team.managers.append(manager)
    if not problems and not teams:
        problems.append("line 1: no teams found")
    if problems:
        raise OrgImportError(source, problems)
    return list(teams.values())


def read_file(path: Path) -> list[ImportedTeam]:
    """Parse a .csv, .yaml or .yml file (by its extension)."""
    text, kind = tabular.read_table_file(path, OrgImportError)
    return parse(text, source=str(path), kind=kind)


async def replace_imported(session: AsyncSession, teams: list[ImportedTeam], now: datetime) -> None:
    """Replace the previous import with this one (in the caller's transaction)."""
    await session.exec(delete(OrgTeamManager))
    await session.exec(delete(OrgTeam))
    await session.flush()
    for team in teams:
        session.add(
            OrgTeam(
                id=team.id,
                name=team.name,
                directorate=team.directorate,
                enrolled=team.enrolled,
                imported_at=now,
            )
        )
    await session.flush()
    for team in teams:
        for manager in team.managers:
            session.add(OrgTeamManager(team_id=team.id, manager=manager))


@dataclass(frozen=True)
class OrgTeamView:
    """A team of the organisation, wherever it was defined."""

    id: str
    name: str
    directorate: str | None
    managers: tuple[str, ...]
    enrolled: bool
    source: str
    """'config' or 'import'."""


async def org_teams(session: AsyncSession, org: OrgConfig) -> list[OrgTeamView]:
    """The organisation's teams: the config's, then imported teams the config does not list."""
    teams = [
        OrgTeamView(t.id, t.name, t.directorate, tuple(t.managers), t.enrolled, "config")
        for t in org.teams
    ]
    configured = {t.id for t in teams}
    managers: dict[str, list[str]] = {}
    for row in (await session.exec(select(OrgTeamManager))).all():
        managers.setdefault(row.team_id, []).append(row.manager)
    imported = (await session.exec(select(OrgTeam).order_by(OrgTeam.name))).all()
    teams += [
        OrgTeamView(
            t.id, t.name, t.directorate, tuple(sorted(managers.get(t.id, []))), t.enrolled, "import"
        )
        for t in imported
        if t.id not in configured
    ]
    return teams


async def resolve_all(session: AsyncSession, refs: tuple[str, ...] | list[str]) -> list[str]:
    """AAD ids for people named by id or UPN; people the bot has not seen yet are left out."""
    found = []
    for ref in refs:
        aad = await resolve_person(session, ref)
        if aad:
            found.append(aad.lower())
    return found


async def managed_by(
    session: AsyncSession, org: OrgConfig, aad_object_id: str
) -> list[OrgTeamView]:
    """The teams a person manages, whether named by AAD id or by their UPN."""
    me = {aad_object_id.lower()}
    person = await session.get(Person, aad_object_id)
    if person is not None and person.upn:
        me.add(person.upn.lower())
    return [team for team in await org_teams(session, org) if me & set(team.managers)]
