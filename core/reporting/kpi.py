"""HR figures month by month (`wellbeing-bot kpi import FILE`), for the wellbeing lead's report.

The columns follow the table the Staffordshire CCGs kept each month:

| column | required | meaning |
| --- | --- | --- |
| month | yes | the month, as YYYY-MM (2026-11) |
| group | no | a directorate or other group as HR names it; empty means the whole organisation |
| headcount | yes | how many people the group had that month (a whole number) |
| sickness_absence_rate | no | the sickness absence rate, in % (4.2 or 4.2%) |
| days_lost | no | working days lost to sickness absence |
| turnover | no | staff turnover in the month, in % |
| leavers | no | how many people left (a whole number) |

CSV with a header line, or YAML as a list of rows. Every line is checked first; when any is wrong,
nothing is imported and each problem is reported with its line number and column. Importing a
month and group again replaces what was imported for it before; other months stay.

These are figures HR already publishes about groups, not about people, and they are never joined
to check-in data: the report shows them beside the bot's own figures, with the same threshold k
for any group it shows (see docs/privacy.md).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import yaml
from sqlalchemy import Column, Float, UniqueConstraint, delete
from sqlmodel import Field, SQLModel, select
from sqlmodel.ext.asyncio.session import AsyncSession

from core.reporting import tabular
from core.store.models import UTCDateTime

COLUMNS = (
    "month",
    "group",
    "headcount",
    "sickness_absence_rate",
    "days_lost",
    "turnover",
    "leavers",
)
REQUIRED = ("month", "headcount")
MONTH = re.compile(r"^(\d{4})-(\d{2})$")
MAX_GROUP = 256


class KpiFigure(SQLModel, table=True):
    """One group's HR figures for one month (aggregate: no people)."""

    __tablename__ = "kpi_figure"
    __table_args__ = (UniqueConstraint("month", "group_name", name="uq_kpi_figure_month_group"),)

    id: int | None = Field(default=None, primary_key=True)
    month: str = Field(max_length=7, index=True, description="YYYY-MM")
    group_name: str = Field(
        default="", max_length=MAX_GROUP, description="'' for the whole organisation"
    )
    headcount: int
    sickness_absence_rate: float | None = Field(default=None, sa_column=Column(Float))
    days_lost: float | None = Field(default=None, sa_column=Column(Float))
    turnover: float | None = Field(default=None, sa_column=Column(Float))
    leavers: int | None = Field(default=None)
    imported_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


@dataclass(frozen=True)
class KpiRow:
    """A checked row of the file."""

    line: int
    month: str
    group: str
    headcount: int
    sickness_absence_rate: float | None
    days_lost: float | None
    turnover: float | None
    leavers: int | None


class KpiImportError(tabular.ImportProblems):
    """An HR figures file that cannot be imported."""


def _rows_from_yaml(text: str, problems: list[str]) -> list[tuple[int, dict[str, object]]]:
    rows = []
    for line, node in tabular.yaml_mappings(text, problems, "- month: 2026-11 …"):
        # Values are read as text, so 2026-11 stays a month and 04 stays what HR wrote.
        data: dict[str, object] = {}
        for key_node, value_node in node.value:
            key = tabular.column_name(key_node.value)
            key_line = key_node.start_mark.line + 1
            if key not in COLUMNS:
                problems.append(tabular.unknown_column(key, key_line, COLUMNS))
                continue
            if not isinstance(value_node, yaml.ScalarNode):
                problems.append(f"line {key_line}: column {key!r}: expected a single value")
                continue
            value = value_node.value
            data[key] = "" if value_node.tag.endswith(":null") or value == "~" else value
        for name in REQUIRED:
            if name not in data:
                problems.append(f"line {line}: column {name!r}: missing")
        rows.append((line, data))
    return rows


def _number(text: str, *, percent: bool = False) -> float:
    text = text.strip().replace(",", "")
    if percent and text.endswith("%"):
        text = text[:-1].strip()
    value = float(text)
    if math.isnan(value) or math.isinf(value):
        raise ValueError(text)
    return value


def _check_row(line: int, row: dict[str, object], problems: list[str]) -> KpiRow | None:
    def text(name: str) -> str:
        value = row.get(name)
        return "" if value is None else str(value).strip()

    before = len(problems)

    def problem(column: str, message: str) -> None:
        problems.append(f"line {line}: column {column!r}: {message}")

    month = text("month")
    match = MONTH.match(month)
    if not month:
        problem("month", "empty; write the month as YYYY-MM, e.g. 2026-11")
    elif not match or not 1 <= int(match.group(2)) <= 12 or int(match.group(1)) < 2000:
        problem("month", f"{month!r} is not a month written as YYYY-MM, e.g. 2026-11")
    group = text("group")
    if len(group) > MAX_GROUP:
        problem("group", f"longer than {MAX_GROUP} characters")

    def whole(name: str, *, required: bool) -> int | None:
        value = text(name)
        if not value:
            if required:
                problem(name, "empty; it needs a whole number")
            return None
        try:
            number = _number(value)
        except ValueError:
            problem(name, f"{value!r} is not a number")
            return None
        if number != int(number) or number < 0:
            problem(name, f"{value!r} should be a whole number, 0 or more")
            return None
        return int(number)

    def amount(name: str, *, percent: bool) -> float | None:
        value = text(name)
        if not value:
            return None
        try:
            number = _number(value, percent=percent)
        except ValueError:
            problem(name, f"{value!r} is not a number")
            return None
        if number < 0 or (percent and number > 100):
            limits = "between 0 and 100 (it is a percentage)" if percent else "0 or more"
            problem(name, f"{value!r} should be {limits}")
            return None
        return number

    headcount = whole("headcount", required=True)
    if headcount == 0:
        problem("headcount", "should be more than 0")
    rate = amount("sickness_absence_rate", percent=True)
    days = amount("days_lost", percent=False)
    turnover = amount("turnover", percent=True)
    leavers = whole("leavers", required=False)
    if len(problems) > before or headcount is None:
        return None
    return KpiRow(line, month, group, headcount, rate, days, turnover, leavers)


def parse(text: str, *, source: str = "file", kind: str = "csv") -> list[KpiRow]:
    """Read and check every row; raise KpiImportError listing every problem by line."""
    problems: list[str] = []
    raw = (
        _rows_from_yaml(text, problems)
        if kind == "yaml"
        else tabular.csv_rows(text, problems, COLUMNS, REQUIRED)
    )
    rows: list[KpiRow] = []
    seen: dict[tuple[str, str], int] = {}
    for line, data in raw:
        row = _check_row(line, data, problems)
        if row is None:
            continue
        key = (row.month, row.group.lower())
        if key in seen:
            where = f"group {row.group!r}" if row.group else "the organisation (no group)"
            problems.append(
                f"line {line}: column 'group': {row.month} for {where} is already on line "
                f"{seen[key]}"
            )
            continue
        seen[key] = line
        rows.append(row)
    if not raw and not problems:
        problems.append("line 1: the file has no rows")
    if problems:
        raise KpiImportError(source, problems)
    return rows


def read_file(path: Path) -> list[KpiRow]:
    """Parse a .csv, .yaml or .yml file."""
    text, kind = tabular.read_table_file(path, KpiImportError)
    return parse(text, source=str(path), kind=kind)


async def replace(session: AsyncSession, rows: list[KpiRow], now: datetime) -> int:
    """Store the rows in the caller's transaction; a month and group already held is replaced.
    Returns how many were replaced."""
    replaced = 0
    existing = {
        (f.month, f.group_name.lower()): f
        for f in (
            await session.exec(
                select(KpiFigure).where(KpiFigure.month.in_({r.month for r in rows}))
            )
        ).all()
    }
    for row in rows:
        old = existing.get((row.month, row.group.lower()))
        if old is not None:
            await session.exec(delete(KpiFigure).where(KpiFigure.id == old.id))
            replaced += 1
    await session.flush()
    for row in rows:
        session.add(
            KpiFigure(
                month=row.month,
                group_name=row.group,
                headcount=row.headcount,
                sickness_absence_rate=row.sickness_absence_rate,
                days_lost=row.days_lost,
                turnover=row.turnover,
                leavers=row.leavers,
                imported_at=now,
            )
        )
    return replaced


async def figures(session: AsyncSession, first_month: str, last_month: str) -> list[KpiFigure]:
    """Every imported row for the months from `first_month` to `last_month` (YYYY-MM)."""
    rows = await session.exec(
        select(KpiFigure)
        .where(KpiFigure.month >= first_month, KpiFigure.month <= last_month)
        .order_by(KpiFigure.month, KpiFigure.group_name)
    )
    return list(rows.all())
