"""What line managers read, kept as data (dialogs/data/manager.yaml) and checked when the bot
starts: prompts, the messages around the digest, and the checklist guides. Someone who edits the
words never touches code, and a mistake stops the bot at start with the file and the place
named, not on a manager's message."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

PROMPT_THEMES = (
    "demands",
    "low_mood",
    "support",
    "control",
    "relationships",
    "role",
    "change",
    "personal",
    "health",
)
"""The themes a team's digest can raise, each needing a team idea (dialogs/manager.py)."""


class GuidanceError(ValueError):
    """The guidance file cannot be used; the message names the file and what is wrong."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


Words = Field(min_length=1)


class Prompts(_Strict):
    opener: str = Words
    one_to_one: tuple[str, ...] = Field(min_length=3)
    """Three are chosen each time."""
    team_ideas: dict[str, str]
    general_ideas: tuple[str, ...] = Field(min_length=2)
    """Up to two fill the team ideas."""
    risk_assessment: str = Words
    reviews: str = Words

    @model_validator(mode="after")
    def _every_theme_has_an_idea(self) -> Prompts:
        missing = [theme for theme in PROMPT_THEMES if not self.team_ideas.get(theme)]
        if missing:
            raise ValueError(f"team_ideas needs an idea for {', '.join(missing)}")
        return self


class Services(_Strict):
    mentioned: tuple[str, ...] = Field(min_length=1)
    """The kinds of support service a digest mentions, in order."""
    kind_words: dict[str, str]

    @model_validator(mode="after")
    def _every_kind_is_described(self) -> Services:
        missing = [kind for kind in self.mentioned if not self.kind_words.get(kind)]
        if missing:
            raise ValueError(f"kind_words needs words for {', '.join(missing)}")
        return self


class Messages(_Strict):
    hidden: str = Words
    trust_note: str = Words
    refusal: str = Words
    not_a_manager: str = Words


class GuideSection(_Strict):
    heading: str = Words
    items: tuple[str, ...] = Field(min_length=1)


class Guide(_Strict):
    """A conversation guide as a checklist; its first alias is what `guide` offers."""

    id: str = Field(pattern=r"^[a-z_]+$")
    title: str = Words
    intro: str = Words
    aliases: tuple[str, ...] = Field(min_length=1)
    sections: tuple[GuideSection, ...] = Field(min_length=1)


class ManagerGuidance(_Strict):
    prompts: Prompts
    services: Services
    messages: Messages
    guides: tuple[Guide, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _guides_named_once(self) -> ManagerGuidance:
        seen: dict[str, str] = {}
        for guide in self.guides:
            for name in (guide.id.replace("_", " "), *guide.aliases):
                if seen.get(name, guide.id) != guide.id:
                    raise ValueError(
                        f"guides {seen[name]!r} and {guide.id!r} both answer to {name!r}"
                    )
                seen[name] = guide.id
        return self


SHIPPED = Path(str(resources.files("dialogs") / "data" / "manager.yaml"))


def load(path: Path) -> ManagerGuidance:
    """Read and check a guidance file; GuidanceError says where it is wrong."""
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise GuidanceError(f"{path}: cannot read the manager guidance: {error}") from error
    try:
        return ManagerGuidance.model_validate(document)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in problem['loc']) or 'the file'}: {problem['msg']}"
            for problem in error.errors()
        )
        raise GuidanceError(f"{path}: the manager guidance is not valid: {problems}") from error


@lru_cache(maxsize=1)
def shipped() -> ManagerGuidance:
    """The guidance shipped with the bot (read once; the app factory reads it at start)."""
    return load(SHIPPED)
