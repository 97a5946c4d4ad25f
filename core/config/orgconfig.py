"""The organisation YAML: who holds which role, which teams exist, and the organisation's basics.

One validated model, loaded at start; a bad file stops the bot with the file, the key and the problem.
"""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, field_validator

from core.config.checkinconfig import CheckinConfig
from core.config.supportconfig import SupportConfig
from core.faq.config import FaqConfig
from core.privacy.aggregates import PrivacyConfig

GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _person(value: str) -> str:
    value = value.strip()
    if GUID.match(value):
        return value.lower()
    if EMAIL.match(value):
        return value.lower()
    raise ValueError(f"{value!r} is neither an AAD object id (a GUID) nor a UPN or email address")


PersonRef = Annotated[str, AfterValidator(_person)]
"""A person named in config: an AAD object id, or a UPN/email resolved from the rosters the bot sees."""


class Strict(BaseModel):
    """Unknown keys are mistakes (a typo silently ignored is a role nobody holds)."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Organisation(Strict):
    """Who the organisation is and where its clock runs."""

    name: str = Field(description="Shown to staff, e.g. in the welcome message.")
    timezone: str = Field("Europe/London", description="IANA time zone for schedules.")
    tenant_id: str | None = Field(
        None,
        description="The Microsoft 365 tenant the bot serves; messages from others are refused.",
    )
    urgent_help: str = Field(
        "If you are in danger now, call 999. For urgent advice call NHS 111. "
        "Samaritans listen any time, free, on 116 123, or text SHOUT to 85258.",
        description="One short paragraph on urgent help, shown wherever the bot says it is not watched.",
    )

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise ValueError(
                f"unknown time zone {value!r} (use an IANA name like Europe/London)"
            ) from error
        return value


class Coordinators(Strict):
    """Staff support coordinators: the primary contacts and who is told when nobody picks up."""

    primary: list[PersonRef] = Field(default_factory=list, description="Receive requests first.")
    backup: list[PersonRef] = Field(
        default_factory=list, description="Told when a request has not been picked up in time."
    )


class Roles(Strict):
    """The one list of roles every feature reads."""

    admins: list[PersonRef] = Field(
        default_factory=list, description="Run admin commands in Teams."
    )
    wellbeing_leads: list[PersonRef] = Field(
        default_factory=list, description="Receive organisation-level reports and delivery notices."
    )
    coordinators: Coordinators = Field(
        default_factory=Coordinators, description="Staff support coordinators and their backups."
    )
    hr_admins: list[PersonRef] = Field(
        default_factory=list, description="Add, edit and retire FAQ entries from Teams."
    )
    hr_experts_channel: str | None = Field(
        None, description="Teams channel id (19:…@thread.tacv2) where unanswered questions go."
    )


class TeamConfig(Strict):
    """A team known to the organisation, by its AAD group id."""

    id: str = Field(description="The team's AAD group id (Teams' team details give it).")
    name: str = Field(description="The team's name as people know it.")
    directorate: str | None = Field(None, description="The directorate the team belongs to.")
    managers: list[PersonRef] = Field(
        default_factory=list, description="Line managers who get the team-level digest."
    )
    enrolled: bool = Field(False, description="Members get the weekly check-in.")

    @field_validator("id")
    @classmethod
    def _guid(cls, value: str) -> str:
        if not GUID.match(value):
            raise ValueError(f"{value!r} is not an AAD group id (a GUID)")
        return value.lower()


class OrgConfig(Strict):
    """The whole organisation YAML."""

    organisation: Organisation = Field(description="Name, time zone, tenant and urgent help text.")
    roles: Roles = Field(default_factory=Roles, description="Who holds which role.")
    teams: list[TeamConfig] = Field(
        default_factory=list, description="Teams by AAD group id, with managers and enrolment."
    )
    checkin: CheckinConfig = Field(
        default_factory=CheckinConfig, description="Check-in questions, cadence and weekly notes."
    )
    support: SupportConfig = Field(
        default_factory=SupportConfig,
        description="Signposting: the service directory, needs, crisis phrases and routing.",
    )
    faq: FaqConfig = Field(
        default_factory=FaqConfig, description="HR FAQ: confidence thresholds for answering."
    )
    privacy: PrivacyConfig = Field(
        default_factory=PrivacyConfig,
        description="Privacy: the smallest group figures may rest on (k) and how long data is kept.",
    )

    @field_validator("teams")
    @classmethod
    def _unique_team_ids(cls, teams: list[TeamConfig]) -> list[TeamConfig]:
        seen: set[str] = set()
        for team in teams:
            if team.id in seen:
                raise ValueError(f"team id {team.id} is listed twice")
            seen.add(team.id)
        return teams


class ConfigError(Exception):
    """A organisation YAML that cannot be used, with a message that says where and why."""


def example_config_path() -> Path:
    """The bundled example organisation, found from any working directory."""
    return Path(str(resources.files("core") / "data" / "example-org.yaml"))


def _location(loc: tuple) -> str:
    parts: list[str] = []
    for item in loc:
        if isinstance(item, int):
            parts.append(f"[{item}]")
        else:
            parts.append(("." if parts else "") + str(item))
    return "".join(parts) or "(top level)"


def load_org_config(path: Path | None = None) -> OrgConfig:
    """Read and validate the organisation YAML, raising ConfigError naming file, key and problem."""
    path = Path(path) if path else example_config_path()
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigError(
            f"{path}: cannot read the organisation config ({error.strerror})"
        ) from error
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ConfigError(
            f"{path}: not valid YAML{where}: {getattr(error, 'problem', error)}"
        ) from error
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping with an 'organisation' key at the top")
    try:
        return OrgConfig.model_validate(data)
    except ValidationError as error:
        problems = [
            f"  {_location(item['loc'])}: {item['msg'].removeprefix('Value error, ')}"
            for item in error.errors()
        ]
        raise ConfigError(
            f"{path}: {len(problems)} problem(s) in the organisation config:\n"
            + "\n".join(problems)
        ) from error
