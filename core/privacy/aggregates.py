"""The one place check-in answers become figures, and the rules that decide which figures anyone
but the person may see (docs/privacy.md, "The rules for figures").

Only this module reads answers for reporting. What leaves it is either `Figures` (exact counts for
a group that passed every rule, for storing in core/reporting/frozen.py) or a `Summary` (banded words a
manager may read). Both are built only here: `Figures` refuses to exist below the threshold, and a
hidden `Summary` carries no answer-derived value at all.

The rules, in order:
1. A group is shown only when at least k people answered (k + 1 when one of them can see figures
   and so knows their own answer), and it has more members than k, so that a shown summary never
   means that everyone answered.
2. Across cycles, a group is hidden when the people it counts differ from those of any of its own
   figures already shown (still held, within the retention period) by between 1 and k - 1 people.
3. Within a cycle, every "atom" of the shown groups (the people who share exactly the same set of
   shown groups) must itself pass rule 1's size test; groups are hidden until that holds. Every
   sum or difference of shown figures is constant on atoms, so no combination of them can isolate
   fewer than k people.
"""

from __future__ import annotations

import json
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import delete, func, update
from sqlmodel import Field as SQLField
from sqlmodel import SQLModel, select
from sqlmodel.ext.asyncio.session import AsyncSession

from core.config.checkinconfig import CheckinQuestions
from core.privacy.secrets import Secrets
from core.store.cycles import CycleRecipient
from core.store.models import Team, TeamMember
from core.store.wellbeing import CheckinAnswer

MIN_K = 3
"""k is never below this, whatever the config says."""
SMALL_CELL = 3
"""A count below this is never shown on its own: it reads as 'a few or none'."""

TEAM, DIRECTORATE, ORGANISATION = "team", "directorate", "organisation"
KINDS = (TEAM, DIRECTORATE, ORGANISATION)
_KEEP_RANK = {ORGANISATION: 0, DIRECTORATE: 1, TEAM: 2}
"""When figures must be hidden, organisation figures go first, then directorates; team figures
(what managers get every week) are kept when another choice works."""

GroupKey = tuple[str, str]
"""(kind, key): ('team', AAD group id), ('directorate', name) or ('organisation', 'organisation')."""


class PrivacyConfig(BaseModel):
    """The `privacy` section of the organisation YAML: the threshold and how long data is kept."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    k: int = Field(
        5,
        description="The fewest people whose answers a team, directorate or organisation figure "
        "may rest on (the 'k' of docs/privacy.md). Never below 3.",
    )
    retention_months: int = Field(
        12,
        ge=1,
        le=120,
        description="How long raw check-in answers, private notes and conversation state are kept "
        "before the nightly job deletes them. Frozen aggregates stay.",
    )
    audit_retention_months: int = Field(
        72,
        ge=12,
        le=240,
        description="How long the audit log (who exported or erased data, and when) is kept.",
    )

    @field_validator("k")
    @classmethod
    def _never_below_three(cls, value: int) -> int:
        if value < MIN_K:
            raise ValueError(
                f"k must be at least {MIN_K}: smaller groups could let a manager work out one "
                "person's answers"
            )
        return value


def _passes(people: frozenset[str] | set[str], k: int, viewers: frozenset[str]) -> bool:
    """Rule 1's size test: k people, or k + 1 when a viewer is among them (they know their own)."""
    return len(people) >= k + (1 if viewers and not viewers.isdisjoint(people) else 0)


def choose_visible(
    groups: Mapping[GroupKey, frozenset[str]],
    *,
    k: int,
    viewers: frozenset[str] = frozenset(),
    populations: Mapping[GroupKey, int] | None = None,
    history: Mapping[GroupKey, Iterable[frozenset[str]]] | None = None,
) -> frozenset[GroupKey]:
    """Which groups' figures may be shown this cycle (rules 1–3). Depends only on who answered,
    never on what they answered."""
    if k < MIN_K:
        raise ValueError(f"k is never below {MIN_K}")
    populations = populations or {}
    visible = {
        key
        for key, people in groups.items()
        if people and _passes(people, k, viewers) and populations.get(key, len(people) + 1) > k
    }
    visible -= _churned(groups, visible, k, viewers, history or {})
    while True:
        atoms: dict[frozenset[GroupKey], set[str]] = defaultdict(set)
        signature: dict[str, set[GroupKey]] = defaultdict(set)
        for key in visible:
            for person in groups[key]:
                signature[person].add(key)
        for person, keys in signature.items():
            atoms[frozenset(keys)].add(person)
        bad = [(sig, people) for sig, people in atoms.items() if not _passes(people, k, viewers)]
        if not bad:
            return frozenset(visible)
        sig, people = min(bad, key=lambda item: (len(item[1]), sorted(item[0])))
        visible.discard(_cheapest_fix(sig, people, atoms, groups, visible, k, viewers))


def _churned(
    groups: Mapping[GroupKey, frozenset[str]],
    visible: set[GroupKey],
    k: int,
    viewers: frozenset[str],
    history: Mapping[GroupKey, Iterable[frozenset[str]]],
) -> set[GroupKey]:
    """Rule 2: groups whose people differ from their own figures already shown by 1 to k - 1
    people, either way (last week's digest minus this week's would show who joined or left)."""
    hidden: set[GroupKey] = set()
    for key in visible:
        people = groups[key]
        for shown in history.get(key, ()):
            joined, left = people - shown, shown - people
            if (joined and not _passes(joined, k, viewers)) or (
                left and not _passes(left, k, viewers)
            ):
                hidden.add(key)
                break
    return hidden


def _cheapest_fix(
    sig: frozenset[GroupKey],
    people: set[str],
    atoms: Mapping[frozenset[GroupKey], set[str]],
    groups: Mapping[GroupKey, frozenset[str]],
    visible: set[GroupKey],
    k: int,
    viewers: frozenset[str],
) -> GroupKey:
    """The group to hide so that a too-small atom merges into a big enough one (rule 3)."""
    options = []
    for key in visible:
        merged_sig = sig - {key} if key in sig else sig | {key}
        if key not in sig and merged_sig not in atoms:
            continue
        fixes = not merged_sig or _passes(people | atoms.get(merged_sig, set()), k, viewers)
        options.append((not fixes, _KEEP_RANK[key[0]], -len(groups[key]), key))
    return min(options)[3]


@dataclass(frozen=True)
class Response:
    """One person's answer in a cycle, as the rules see it (the person only as a pseudonym)."""

    pseudonym: str
    mood: int
    affecting: str | None = None
    pulse: Mapping[str, str] = field(default_factory=dict)


_SEAL = object()


@dataclass(frozen=True)
class Figures:
    """Exact counts for one group that passed every rule; built only by this module."""

    kind: str
    key: str
    respondents: int
    population: int
    mood: tuple[int, int, int, int, int]
    affecting: tuple[tuple[str, int], ...]
    pulse: tuple[tuple[str, int, int, int], ...]
    k: int
    seal: object = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.seal is not _SEAL:
            raise TypeError("Figures are made only by core.privacy.aggregates, after the rules")
        if self.k < MIN_K or self.respondents < self.k or self.population <= self.k:
            raise ValueError("figures below the threshold cannot exist")
        if sum(self.mood) != self.respondents:
            raise ValueError("mood counts must add up to the respondents")

    @property
    def mean_mood(self) -> float:
        return sum((i + 1) * n for i, n in enumerate(self.mood)) / self.respondents

    def as_columns(self) -> dict[str, object]:
        """The figures as stored in core/reporting/frozen.py's frozen_group row."""
        return {
            "respondents": self.respondents,
            "population": self.population,
            "mood": json.dumps(list(self.mood)),
            "affecting": json.dumps(dict(self.affecting), sort_keys=True),
            "pulse": json.dumps({i: [a, u, d] for i, a, u, d in self.pulse}, sort_keys=True),
        }


def _figures(kind: str, key: str, responses: list[Response], population: int, k: int) -> Figures:
    mood = [0] * 5
    affecting: dict[str, int] = defaultdict(int)
    pulse: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    scale = {"agree": 0, "unsure": 1, "disagree": 2}
    for response in responses:
        mood[min(max(response.mood, 1), 5) - 1] += 1
        if response.affecting:
            affecting[response.affecting] += 1
        for item, answer in response.pulse.items():
            if answer in scale:
                pulse[item][scale[answer]] += 1
    return Figures(
        kind=kind,
        key=key,
        respondents=len(responses),
        population=population,
        mood=tuple(mood),  # type: ignore[arg-type]
        affecting=tuple(sorted(affecting.items())),
        pulse=tuple(sorted((item, *counts) for item, counts in pulse.items())),  # type: ignore[misc]
        k=k,
        seal=_SEAL,
    )


def restore(kind: str, key: str, columns: Mapping[str, object], k: int) -> Figures:
    """Figures back from a frozen_group row (the rules are checked again on the way in)."""
    mood = tuple(json.loads(str(columns["mood"])))
    pulse = json.loads(str(columns["pulse"]))
    return Figures(
        kind=kind,
        key=key,
        respondents=int(columns["respondents"]),  # type: ignore[arg-type]
        population=int(columns["population"]),  # type: ignore[arg-type]
        mood=mood,  # type: ignore[arg-type]
        affecting=tuple(sorted(json.loads(str(columns["affecting"])).items())),
        pulse=tuple(sorted((i, *counts) for i, counts in pulse.items())),  # type: ignore[misc]
        k=k,
        seal=_SEAL,
    )


def pool(figures: list[Figures]) -> Figures | None:
    """One group's shown figures over several cycles, added up (a report over a date range).

    A sum of figures that were each shown reveals nothing they did not."""
    if not figures:
        return None
    first = figures[0]
    affecting: dict[str, int] = defaultdict(int)
    pulse: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for f in figures:
        for option, count in f.affecting:
            affecting[option] += count
        for item, *counts in f.pulse:
            for i, count in enumerate(counts):
                pulse[item][i] += count
    return Figures(
        kind=first.kind,
        key=first.key,
        respondents=sum(f.respondents for f in figures),
        population=sum(f.population for f in figures),
        mood=tuple(sum(f.mood[i] for f in figures) for i in range(5)),  # type: ignore[arg-type]
        affecting=tuple(sorted(affecting.items())),
        pulse=tuple(sorted((i, *c) for i, c in pulse.items())),  # type: ignore[misc]
        k=min(f.k for f in figures),
        seal=_SEAL,
    )


@dataclass(frozen=True)
class GroupSpec:
    """A group to freeze: whose answers count, and how many people it has."""

    kind: str
    key: str
    members: frozenset[str] | None
    """AAD ids whose answers count; None for the organisation (everyone who answered)."""
    population: int


@dataclass(frozen=True)
class Frozen:
    """One group's outcome for a cycle: figures when shown, None when hidden."""

    kind: str
    key: str
    figures: Figures | None


def compute_cycle(
    specs: list[GroupSpec],
    responses: Mapping[str, Response],
    *,
    k: int,
    pseudonym: Callable[[str], str],
    viewers: frozenset[str] = frozenset(),
    history: Mapping[GroupKey, Iterable[frozenset[str]]] | None = None,
) -> tuple[list[Frozen], dict[GroupKey, frozenset[str]]]:
    """Apply the rules to one cycle's answers. Returns each group's outcome and, for the shown
    groups only, the pseudonyms they count (kept to check later cycles against, rule 2)."""
    sets: dict[GroupKey, frozenset[str]] = {}
    populations: dict[GroupKey, int] = {}
    for spec in specs:
        if spec.members is None:
            people = frozenset(responses)
        else:
            people = frozenset(p for p in (pseudonym(a) for a in spec.members) if p in responses)
        sets[(spec.kind, spec.key)] = people
        populations[(spec.kind, spec.key)] = spec.population
    visible = choose_visible(sets, k=k, viewers=viewers, populations=populations, history=history)
    outcomes = []
    for spec in specs:
        key = (spec.kind, spec.key)
        figures = None
        if key in visible:
            figures = _figures(
                spec.kind,
                spec.key,
                [responses[p] for p in sorted(sets[key])],
                spec.population,
                k,
            )
        outcomes.append(Frozen(spec.kind, spec.key, figures))
    return outcomes, {key: sets[key] for key in visible}


class FrozenRespondent(SQLModel, table=True):
    """Who a shown figure counted, as pseudonyms, so later cycles can be checked against it
    (rule 2). Read only by this module; never shown; deleted with raw answers at retention."""

    __tablename__ = "frozen_respondent"

    cycle_id: int = SQLField(primary_key=True)
    group_kind: str = SQLField(primary_key=True, max_length=16)
    group_key: str = SQLField(primary_key=True, max_length=320)
    member: str = SQLField(
        primary_key=True,
        max_length=64,
        index=True,
        description="pseudonym, or a random token once the person erased their data",
    )


async def cycle_responses(session: AsyncSession, cycle_id: int) -> dict[str, Response]:
    """Each person's latest answer in a cycle (a reminder answered too counts once)."""
    rows = await session.exec(
        select(CheckinAnswer)
        .where(CheckinAnswer.cycle_id == cycle_id)
        .order_by(CheckinAnswer.answered_at, CheckinAnswer.id)
    )
    latest: dict[str, Response] = {}
    for row in rows.all():
        latest[row.pseudonym] = Response(
            row.pseudonym, row.mood, row.affecting, json.loads(row.pulse or "{}")
        )
    return latest


async def organisation_spec(session: AsyncSession, cycle_id: int) -> GroupSpec:
    """The whole organisation: everyone who answered counts; everyone the cycle was sent to (or
    who answered) is its population."""
    addressed = set(
        (
            await session.exec(
                select(CycleRecipient.aad_object_id).where(CycleRecipient.cycle_id == cycle_id)
            )
        ).all()
    )
    answered = (
        await session.exec(
            select(func.count(func.distinct(CheckinAnswer.pseudonym))).where(
                CheckinAnswer.cycle_id == cycle_id
            )
        )
    ).one()
    return GroupSpec(ORGANISATION, ORGANISATION, None, max(len(addressed), answered))


async def team_rosters(session: AsyncSession, aad_group_ids: Iterable[str]) -> dict[str, set[str]]:
    """Members the bot has seen in each team, by AAD group id (from Teams' rosters)."""
    wanted = {g.lower() for g in aad_group_ids}
    rows = await session.exec(
        select(Team.aad_group_id, TeamMember.aad_object_id).join(
            TeamMember, TeamMember.team_id == Team.id
        )
    )
    rosters: dict[str, set[str]] = defaultdict(set)
    for group_id, member in rows.all():
        if group_id and group_id.lower() in wanted:
            rosters[group_id.lower()].add(member.lower())
    return rosters


async def freeze_cycle(
    session: AsyncSession,
    *,
    cycle_id: int,
    specs: list[GroupSpec],
    secrets: Secrets,
    k: int,
    viewers: Iterable[str] = (),
) -> list[Frozen]:
    """Freeze a closed cycle: apply the rules, keep the shown groups' pseudonyms for rule 2, and
    hand back figures only for groups that passed. The caller stores them and commits."""
    responses = await cycle_responses(session, cycle_id)
    history_rows = await session.exec(
        select(
            FrozenRespondent.cycle_id,
            FrozenRespondent.group_kind,
            FrozenRespondent.group_key,
            FrozenRespondent.member,
        ).where(FrozenRespondent.cycle_id != cycle_id)
    )
    shown_before: dict[tuple[int, str, str], set[str]] = defaultdict(set)
    for c, kind, key, member in history_rows.all():
        shown_before[(c, kind, key)].add(member)
    history: dict[GroupKey, list[frozenset[str]]] = defaultdict(list)
    for (_, kind, key), members in shown_before.items():
        history[(kind, key)].append(frozenset(members))
    outcomes, shown = compute_cycle(
        specs,
        responses,
        k=k,
        pseudonym=secrets.pseudonym,
        viewers=frozenset(secrets.pseudonym(v) for v in viewers),
        history=history,
    )
    for (kind, key), people in shown.items():
        for member in people:
            session.add(
                FrozenRespondent(cycle_id=cycle_id, group_kind=kind, group_key=key, member=member)
            )
    return outcomes


async def forget_member(session: AsyncSession, pseudonym: str) -> None:
    """After an erasure: the person's place in shown figures becomes a random token, so the rules
    still count them but nothing links it back to them."""
    await session.exec(
        update(FrozenRespondent)
        .where(FrozenRespondent.member == pseudonym)
        .values(member=f"erased-{uuid.uuid4().hex}"[:64])
    )


async def count_member(session: AsyncSession, pseudonym: str) -> int:
    """How many shown figures counted this person (for their own export)."""
    rows = await session.exec(
        select(FrozenRespondent.cycle_id).where(FrozenRespondent.member == pseudonym)
    )
    return len(rows.all())


async def forget_cycles(session: AsyncSession, cycle_ids: Iterable[int]) -> None:
    """Retention: the pseudonyms kept for rule 2 go with the raw answers."""
    ids = list(cycle_ids)
    if ids:
        await session.exec(delete(FrozenRespondent).where(FrozenRespondent.cycle_id.in_(ids)))


# ---- what a manager may read: words, not numbers ------------------------------------------

SHARE_BANDS = ("a few or none", "some", "about half", "most")
RESPONSE_BANDS = ("under a third", "about a third", "about half", "most")
CHANGES = ("lower", "about the same", "brighter")
MOOD_GROUPS = (("struggling or low", (1, 2)), ("okay", (3,)), ("good or great", (4, 5)))


def share_band(count: int, total: int) -> str:
    """A count as a share in words. Small counts and zero read the same; nothing reads 'all'."""
    if count < SMALL_CELL or total <= 0:
        return SHARE_BANDS[0]
    share = count / total
    if share < 0.35:
        return SHARE_BANDS[1]
    if share < 0.6:
        return SHARE_BANDS[2]
    return SHARE_BANDS[3]


def response_band(respondents: int, population: int) -> str:
    """The response rate in words; 'most' covers everyone answering, so that is never told."""
    share = respondents / population if population else 0
    if share < 0.25:
        return RESPONSE_BANDS[0]
    if share < 0.4:
        return RESPONSE_BANDS[1]
    if share < 0.6:
        return RESPONSE_BANDS[2]
    return RESPONSE_BANDS[3]


@dataclass(frozen=True)
class Theme:
    """A theme in words: what it is and roughly how many chose it."""

    kind: str
    id: str
    label: str
    band: str


@dataclass(frozen=True)
class Summary:
    """What a manager may see about one group in one cycle. Hidden summaries carry nothing
    derived from answers: not the count, not a band, not a theme."""

    name: str
    cycle_date: date
    shown: bool
    response: str | None = None
    mood: tuple[tuple[str, str], ...] = ()
    change: str | None = None
    themes: tuple[Theme, ...] = ()
    strengths: tuple[Theme, ...] = ()
    signals: frozenset[str] = frozenset()

    @classmethod
    def hidden(cls, name: str, cycle_date: date) -> Summary:
        return cls(name=name, cycle_date=cycle_date, shown=False)


def _label(options, option_id: str) -> str:
    return next((o.label for o in options if o.id == option_id), option_id.replace("_", " "))


def _statement(questions: CheckinQuestions, item_id: str) -> str:
    return next(
        (i.statement for i in questions.pulse.items if i.id == item_id), item_id.replace("_", " ")
    )


def summarise(
    name: str,
    cycle_date: date,
    figures: Figures | None,
    questions: CheckinQuestions,
    previous: Figures | None = None,
) -> Summary:
    """Figures in words, with small cells suppressed; None means hidden."""
    if figures is None:
        return Summary.hidden(name, cycle_date)
    n = figures.respondents
    mood = tuple(
        (label, share_band(sum(figures.mood[m - 1] for m in moods), n))
        for label, moods in MOOD_GROUPS
    )
    change = None
    if previous is not None:
        delta = figures.mean_mood - previous.mean_mood
        change = CHANGES[0] if delta <= -0.3 else CHANGES[2] if delta >= 0.3 else CHANGES[1]
    counts: list[tuple[int, Theme]] = []
    for option, count in figures.affecting:
        if option != "nothing" and count >= SMALL_CELL:
            label = _label(questions.affecting.options, option)
            counts.append((count, Theme("affecting", option, label, share_band(count, n))))
    strengths: list[tuple[int, Theme]] = []
    signals: set[str] = set()
    for item, agree, unsure, disagree in figures.pulse:
        answered = agree + unsure + disagree
        statement = _statement(questions, item)
        if disagree >= SMALL_CELL:
            theme = Theme("pulse", item, statement, share_band(disagree, answered))
            counts.append((disagree, theme))
            if disagree * 3 >= answered:
                signals.add(item)
        if agree >= SMALL_CELL and agree * 2 > answered:
            strengths.append((agree, Theme("pulse", item, statement, share_band(agree, answered))))
    counts.sort(key=lambda pair: (-pair[0], pair[1].kind, pair[1].id))
    strengths.sort(key=lambda pair: (-pair[0], pair[1].id))
    for option, count in figures.affecting:
        if option in ("work", "health", "personal") and count >= SMALL_CELL and count * 3 >= n:
            signals.add(option)
    low = sum(figures.mood[:2])
    if low >= SMALL_CELL and low * 3 >= n:
        signals.add("low_mood")
    if "demands" in signals or {"work", "low_mood"} <= signals:
        signals.add("demands_stand_out")
    return Summary(
        name=name,
        cycle_date=cycle_date,
        shown=True,
        response=response_band(n, figures.population),
        mood=mood,
        change=change,
        themes=tuple(theme for _, theme in counts[:3]),
        strengths=tuple(theme for _, theme in strengths[:2]),
        signals=frozenset(signals),
    )


def band_words() -> frozenset[str]:
    """Every band a summary can use (tests check hidden cards carry none of them)."""
    return frozenset(SHARE_BANDS + RESPONSE_BANDS + CHANGES)
