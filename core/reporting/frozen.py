"""Frozen aggregates: each closed cycle's figures per team, directorate and organisation, stored
once and never changed by later answers. Only groups that passed core/privacy/aggregates.py's rules hold
figures; a hidden group's row says only that it was hidden. Raw answers are not needed again.

Managers' digests and the later reports read from here, always through core.privacy.aggregates, so what
leaves is a banded `Summary`, never a count.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Column, Date, Text, UniqueConstraint
from sqlmodel import Field, SQLModel, select
from sqlmodel.ext.asyncio.session import AsyncSession

from core.config.checkinconfig import CheckinQuestions
from core.db import upsert_insert
from core.privacy import aggregates
from core.privacy.aggregates import DIRECTORATE, ORGANISATION, TEAM, Figures, Frozen, Summary
from core.store.models import UTCDateTime


class FrozenCycle(SQLModel, table=True):
    """A cycle whose answers were frozen: the row is written once, so freezing happens once."""

    __tablename__ = "frozen_cycle"

    cycle_id: int = Field(primary_key=True)
    scheduled_for: date = Field(sa_column=Column(Date, nullable=False, index=True))
    k: int = Field(description="the threshold in force when it was frozen")
    frozen_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class FrozenGroup(SQLModel, table=True):
    """One group's frozen figures for one cycle; every figure column is NULL when it was hidden."""

    __tablename__ = "frozen_group"
    __table_args__ = (UniqueConstraint("cycle_id", "kind", "key", name="uq_frozen_group"),)

    id: int | None = Field(default=None, primary_key=True)
    cycle_id: int = Field(foreign_key="frozen_cycle.cycle_id", ondelete="CASCADE", index=True)
    scheduled_for: date = Field(sa_column=Column(Date, nullable=False, index=True))
    kind: str = Field(max_length=16, description="team, directorate or organisation")
    key: str = Field(max_length=320, description="AAD group id, directorate name, 'organisation'")
    name: str = Field(max_length=256)
    directorate: str | None = Field(default=None, max_length=256)
    shown: bool = Field(default=False)
    respondents: int | None = Field(default=None)
    population: int | None = Field(default=None)
    mood: str | None = Field(default=None, sa_column=Column(Text), description="JSON, 5 counts")
    affecting: str | None = Field(default=None, sa_column=Column(Text), description="JSON")
    pulse: str | None = Field(default=None, sa_column=Column(Text), description="JSON")


@dataclass(frozen=True)
class GroupName:
    """How a frozen group is labelled."""

    name: str
    directorate: str | None = None


async def claim(
    session: AsyncSession, cycle_id: int, scheduled_for: date, k: int, now: datetime
) -> bool:
    """Mark a cycle as frozen; False when it already was (by this or another replica)."""
    result = await session.exec(
        upsert_insert(session, FrozenCycle)
        .values(cycle_id=cycle_id, scheduled_for=scheduled_for, k=k, frozen_at=now)
        .on_conflict_do_nothing(index_elements=["cycle_id"])
        .returning(FrozenCycle.cycle_id)
    )
    return result.first() is not None


async def is_frozen(session: AsyncSession, cycle_id: int) -> bool:
    return await session.get(FrozenCycle, cycle_id) is not None


def store(
    session: AsyncSession,
    cycle_id: int,
    scheduled_for: date,
    outcomes: list[Frozen],
    names: dict[tuple[str, str], GroupName],
) -> None:
    """Write each group's outcome; hidden groups keep no figures at all."""
    for outcome in outcomes:
        label = names.get((outcome.kind, outcome.key), GroupName(outcome.key))
        columns = outcome.figures.as_columns() if outcome.figures else {}
        session.add(
            FrozenGroup(
                cycle_id=cycle_id,
                scheduled_for=scheduled_for,
                kind=outcome.kind,
                key=outcome.key,
                name=label.name,
                directorate=label.directorate,
                shown=outcome.figures is not None,
                **columns,
            )
        )


def figures_of(row: FrozenGroup, k: int) -> Figures | None:
    """A frozen row's figures when it was shown (core.privacy.aggregates checks the rules again)."""
    if not row.shown:
        return None
    return aggregates.restore(
        row.kind,
        row.key,
        {
            "respondents": row.respondents,
            "population": row.population,
            "mood": row.mood,
            "affecting": row.affecting,
            "pulse": row.pulse,
        },
        k,
    )


async def _k_of(session: AsyncSession, cycle_id: int) -> int:
    cycle = await session.get(FrozenCycle, cycle_id)
    return cycle.k if cycle else aggregates.MIN_K


async def previous_shown(
    session: AsyncSession, kind: str, key: str, before: date
) -> Figures | None:
    """The group's last shown figures before a date (what 'change since last time' compares)."""
    row = (
        await session.exec(
            select(FrozenGroup)
            .where(
                FrozenGroup.kind == kind,
                FrozenGroup.key == key,
                FrozenGroup.shown.is_(True),
                FrozenGroup.scheduled_for < before,
            )
            .order_by(FrozenGroup.scheduled_for.desc())
            .limit(1)
        )
    ).first()
    return figures_of(row, await _k_of(session, row.cycle_id)) if row else None


async def summary_for(
    session: AsyncSession,
    kind: str,
    key: str,
    name: str,
    cycle_id: int,
    questions: CheckinQuestions,
) -> Summary | None:
    """One group's summary for one frozen cycle, in words."""
    row = (
        await session.exec(
            select(FrozenGroup).where(
                FrozenGroup.cycle_id == cycle_id, FrozenGroup.kind == kind, FrozenGroup.key == key
            )
        )
    ).first()
    if row is None:
        return None
    figures = figures_of(row, await _k_of(session, cycle_id))
    previous = (
        await previous_shown(session, kind, key, row.scheduled_for) if figures is not None else None
    )
    return aggregates.summarise(name, row.scheduled_for, figures, questions, previous)


async def latest_team_summary(
    session: AsyncSession, team_id: str, name: str, questions: CheckinQuestions
) -> Summary | None:
    """The team's most recent frozen summary (what `team` shows again), or None before the first."""
    row = (
        await session.exec(
            select(FrozenGroup)
            .where(FrozenGroup.kind == TEAM, FrozenGroup.key == team_id.lower())
            .order_by(FrozenGroup.scheduled_for.desc())
            .limit(1)
        )
    ).first()
    if row is None:
        return None
    return await summary_for(session, TEAM, row.key, name, row.cycle_id, questions)


@dataclass(frozen=True)
class Report:
    """Organisation, directorate and team summaries over a date range, for the report issue."""

    start: date
    end: date
    cycles: int
    organisation: Summary | None
    directorates: tuple[Summary, ...]
    teams: tuple[Summary, ...]


async def cycle_thresholds(session: AsyncSession, start: date, end: date) -> dict[int, int]:
    """The threshold k each cycle between two dates was frozen with."""
    cycles = await session.exec(
        select(FrozenCycle).where(
            FrozenCycle.scheduled_for >= start, FrozenCycle.scheduled_for <= end
        )
    )
    return {cycle.cycle_id: cycle.k for cycle in cycles.all()}


async def report(
    session: AsyncSession, start: date, end: date, questions: CheckinQuestions
) -> Report:
    """Summaries pooled over the cycles between two dates, from the frozen tables only.

    Each group adds up only its cycles that were shown, so every pooled figure is a sum of figures
    that already passed the rules; groups never shown in the range come back hidden."""
    rows = (
        await session.exec(
            select(FrozenGroup)
            .where(FrozenGroup.scheduled_for >= start, FrozenGroup.scheduled_for <= end)
            .order_by(FrozenGroup.scheduled_for, FrozenGroup.id)
        )
    ).all()
    ks = await cycle_thresholds(session, start, end)
    shown: dict[tuple[str, str], list[Figures]] = defaultdict(list)
    names: dict[tuple[str, str], str] = {}
    for row in rows:
        names[(row.kind, row.key)] = row.name
        figures = figures_of(row, ks.get(row.cycle_id, aggregates.MIN_K))
        if figures is not None:
            shown[(row.kind, row.key)].append(figures)

    def pooled(kind: str, key: str) -> Summary:
        return aggregates.summarise(
            names[(kind, key)], end, aggregates.pool(shown.get((kind, key), [])), questions
        )

    org_keys = [key for kind, key in names if kind == ORGANISATION]
    return Report(
        start=start,
        end=end,
        cycles=len(ks),
        organisation=pooled(ORGANISATION, org_keys[0]) if org_keys else None,
        directorates=tuple(
            pooled(DIRECTORATE, key) for kind, key in sorted(names) if kind == DIRECTORATE
        ),
        teams=tuple(pooled(TEAM, key) for kind, key in sorted(names) if kind == TEAM),
    )
