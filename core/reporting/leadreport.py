"""The wellbeing lead's report: is the check-in working, and how are people? Aggregates only.

Three kinds of figure, each with its own privacy rule (docs/privacy.md, "The wellbeing lead's
report"):

- **How people feel** comes only from the frozen per-cycle aggregates (core/reporting/frozen.py), so the
  report does not change when raw answers are purged by retention or erased at a person's request.
  Organisation figures are shares of figures that already passed core/privacy/aggregates.py's rules;
  directorates and teams are in words (the manager digest's bands), and a group never shown reads
  "hidden to protect people".
- **Process figures** (check-ins sent and delivered, reminders, people paused or stopped,
  support looked at, coordinator requests) are counts of what the bot did. Any count below k
  reads "fewer than k", and a total is printed only when every figure it adds up is printed, so
  no two figures subtract to a hidden one. Delivery counts are kept per cycle in
  `report_cycle_process` when the cycle closes, because the outbox and recipient rows they come
  from are deleted at retention.
- **HR figures** imported with `wellbeing-bot kpi import` (core/reporting/kpi.py) are shown per group only
  for groups of at least k people; smaller groups are merged into "other" only when that merge
  (and what the organisation total leaves over) has at least k people too, otherwise hidden.

Nothing here draws: core/reporting/leadreport_html.py turns a `LeadReport` into HTML, charts and CSV.
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Column, Date, Integer
from sqlmodel import Field, SQLModel, select
from sqlmodel.ext.asyncio.session import AsyncSession

from core.config import orgimport
from core.config.checkinconfig import CheckinQuestions
from core.config.orgconfig import OrgConfig
from core.faq.report import faq_report
from core.privacy import aggregates, counting
from core.privacy.aggregates import MOOD_GROUPS, ORGANISATION, SMALL_CELL, Figures, Summary
from core.reporting import frozen as reporting
from core.reporting import kpi
from core.store.cycles import CLOSED, Cycle, cycle_counts
from core.store.models import Participation, Team, UTCDateTime
from core.store.outbox import FAILED, SENT, UNREACHABLE
from core.store.supportdata import SignpostingCount

HIDDEN = "hidden to protect people"
NEARLY_EVERYONE = "nearly everyone"
NO_DATA = "no check-in this week"
LINK_TTL = timedelta(minutes=15)
REPORT_PATH = "/report/"
LINK_PURPOSE = "report"
"""The purpose of report links (core/privacy/links.py)."""
CORRELATION_NOTE = (
    "These figures sit side by side; that does not mean one causes the other. Sickness absence "
    "and turnover change for many reasons (the season, staffing, other support), so read them as "
    "a prompt for conversation, not as proof that the check-ins worked or didn't."
)


class ProcessSnapshot(SQLModel, table=True):
    """What a closed cycle did, counted once after it closed: how many it went to, how many were
    delivered, reminders sent, and how many people had paused or stopped. No people."""

    __tablename__ = "report_cycle_process"

    cycle_id: int = Field(primary_key=True)
    scheduled_for: date = Field(sa_column=Column(Date, nullable=False, index=True))
    people: int = Field(default=0, description="people the check-in was addressed to")
    delivered: int = Field(default=0)
    not_reached: int = Field(default=0, description="unreachable or failed")
    blocked: int = Field(
        default=0,
        sa_column=Column(Integer, nullable=False, server_default="0"),
        description="people Teams said had blocked the bot when the check-in or reminder went",
    )
    reminders: int = Field(default=0, description="reminders delivered")
    paused: int = Field(default=0, description="people paused when the cycle closed")
    stopped: int = Field(default=0, description="people who had stopped check-ins")
    taken_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


async def snapshot_closed_cycles(session: AsyncSession, now: datetime) -> int:
    """Count each closed cycle's delivery once (the caller commits). Returns how many."""

    taken = set((await session.exec(select(ProcessSnapshot.cycle_id))).all())
    cycles = [
        c
        for c in (await session.exec(select(Cycle).where(Cycle.status == CLOSED))).all()
        if c.id not in taken
    ]
    if not cycles:
        return 0
    choices = (await session.exec(select(Participation))).all()
    paused = sum(
        1
        for c in choices
        if c.status == "paused" and (c.paused_until is None or c.paused_until > now)
    )
    stopped = sum(1 for c in choices if c.status == "stopped")
    for cycle in cycles:
        counts = await cycle_counts(session, cycle.id)
        session.add(
            ProcessSnapshot(
                cycle_id=cycle.id,
                scheduled_for=cycle.scheduled_for,
                people=counts.get("people", 0),
                delivered=counts.get(SENT, 0),
                not_reached=counts.get(UNREACHABLE, 0) + counts.get(FAILED, 0),
                blocked=counts.get("blocked", 0),
                reminders=counts.get(f"reminders {SENT}", 0),
                paused=paused,
                stopped=stopped,
                taken_at=now,
            )
        )
    await session.flush()
    return len(cycles)


# ---- small helpers ----------------------------------------------------------------------------


def count_or_band(value: int | None, k: int) -> int | str:
    """A count of what people did: the number when at least k, otherwise 'fewer than k'."""
    if value is None:
        return "–"
    return value if value >= k else f"fewer than {k}"


def printed_total(values: Iterable[int | str]) -> int | str:
    """A total only when every figure it adds up is printed (else it would reveal the rest)."""
    values = list(values)
    if all(isinstance(v, int) for v in values):
        return sum(values)  # type: ignore[arg-type]
    return "not shown, as some weeks are too small"


def percent(part: float, whole: float) -> int | None:
    return round(100 * part / whole) if whole else None


def day_label(day: date) -> str:
    return f"{day:%-d %b %Y}"


def month_key(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def month_label(key: str) -> str:
    year, month = (int(p) for p in key.split("-"))
    return f"{calendar.month_name[month]} {year}"


def month_bounds(key: str) -> tuple[date, date]:
    year, month = (int(p) for p in key.split("-"))
    return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])


def previous_month(today: date) -> str:
    first = today.replace(day=1) - timedelta(days=1)
    return month_key(first)


def months_between(start: date, end: date) -> list[str]:
    keys, day = [], start.replace(day=1)
    while day <= end:
        keys.append(month_key(day))
        day = (day + timedelta(days=32)).replace(day=1)
    return keys


def period_label(start: date, end: date) -> str:
    if start.day == 1 and end == month_bounds(month_key(start))[1]:
        return month_label(month_key(start))
    if start.year == end.year:
        return f"{start:%-d %B} to {end:%-d %B %Y}"
    return f"{start:%-d %B %Y} to {end:%-d %B %Y}"


# ---- the report's shape -----------------------------------------------------------------------


@dataclass
class Table:
    """One table of the report: shown in the HTML and written as NAME.csv."""

    name: str
    title: str
    columns: list[str]
    rows: list[list[Any]]
    note: str = ""
    section: str = "process"


@dataclass(frozen=True)
class WeekOutcome:
    """The organisation's figures for one cycle, or None when they were hidden."""

    day: date
    figures: Figures | None


@dataclass
class LeadReport:
    org_name: str
    start: date
    end: date
    k: int
    generated_at: datetime
    summary: list[str] = field(default_factory=list)
    headline: list[tuple[str, str]] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    weeks: list[WeekOutcome] = field(default_factory=list)
    months: list[tuple[str, Figures | None]] = field(default_factory=list)
    weekly_process: list[dict[str, Any]] = field(default_factory=list)
    affecting_labels: dict[str, str] = field(default_factory=dict)
    kpi_months: list[dict[str, Any]] = field(default_factory=list)
    has_kpi: bool = False

    @property
    def period(self) -> str:
        return period_label(self.start, self.end)

    def table(self, name: str) -> Table:
        return next(t for t in self.tables if t.name == name)


def mood_shares(figures: Figures) -> dict[str, int]:
    """Shares (%) of the three mood groups, from figures that passed the rules."""
    n = figures.respondents
    return {
        label: round(100 * sum(figures.mood[m - 1] for m in moods) / n)
        for label, moods in MOOD_GROUPS
    }


def theme_shares(figures: Figures, questions: CheckinQuestions) -> list[tuple[str, int | str]]:
    """What people chose as affecting them, as shares of answers; a count below 3 reads 'a few'.
    Then the work statements people disagreed with, as shares of those who answered them."""
    labels = {o.id: o.label for o in questions.affecting.options}
    out: list[tuple[int, str, int | str]] = []
    for option, count in figures.affecting:
        share: int | str = percent(count, figures.respondents) or 0
        out.append((count, labels.get(option, option), share if count >= SMALL_CELL else "a few"))
    statements = {i.id: i.statement for i in questions.pulse.items}
    for item, agree, unsure, disagree in figures.pulse:
        answered = agree + unsure + disagree
        label = f"Disagreed: “{statements.get(item, item)}”"
        share = percent(disagree, answered) or 0
        out.append((disagree, label, share if disagree >= SMALL_CELL else "a few"))
    out.sort(key=lambda t: (-t[0], t[1]))
    return [(label, share) for _, label, share in out]


def _share_text(value: int | str) -> str:
    return f"{value}%" if isinstance(value, int) else str(value)


# ---- building it ------------------------------------------------------------------------------


def _local_midnight(day: date, tz: str) -> datetime:
    return datetime.combine(day, time(0), tzinfo=ZoneInfo(tz)).astimezone(UTC)


async def _organisation_weeks(session: AsyncSession, start: date, end: date) -> list[WeekOutcome]:
    rows = (
        await session.exec(
            select(reporting.FrozenGroup)
            .where(
                reporting.FrozenGroup.kind == ORGANISATION,
                reporting.FrozenGroup.scheduled_for >= start,
                reporting.FrozenGroup.scheduled_for <= end,
            )
            .order_by(reporting.FrozenGroup.scheduled_for)
        )
    ).all()
    ks = await reporting.cycle_thresholds(session, start, end)
    return [
        WeekOutcome(
            row.scheduled_for, reporting.figures_of(row, ks.get(row.cycle_id, aggregates.MIN_K))
        )
        for row in rows
    ]


async def _using_directorates(session: AsyncSession, org: OrgConfig) -> set[str]:
    """Directorates (lower case) with at least one team enrolled in the check-ins."""
    teams = await orgimport.org_teams(session, org)
    installed = {
        (t.aad_group_id or "").lower()
        for t in (await session.exec(select(Team))).all()
        if t.enrolled and t.aad_group_id
    }
    return {
        t.directorate.strip().lower()
        for t in teams
        if t.directorate and (t.enrolled or t.id.lower() in installed)
    }


def _weighted(rows: Sequence[Any], attribute: str) -> float | None:
    """A rate for several groups together, weighted by headcount; unknown when any is blank."""
    pairs = [(getattr(r, attribute), r.headcount) for r in rows]
    if not pairs or any(v is None for v, _ in pairs):
        return None
    total = sum(h for _, h in pairs)
    return sum(v * h for v, h in pairs) / total if total else None


def _summed(rows: Sequence[Any], attribute: str) -> float | None:
    values = [getattr(r, attribute) for r in rows]
    if not values or any(v is None for v in values):
        return None
    return sum(values)


def _kpi_cells(rows: Sequence[Any]) -> list[Any]:
    rate, turnover = _weighted(rows, "sickness_absence_rate"), _weighted(rows, "turnover")
    days, leavers = _summed(rows, "days_lost"), _summed(rows, "leavers")
    return [
        sum(r.headcount for r in rows),
        "–" if rate is None else round(rate, 1),
        "–" if days is None else round(days, 1),
        "–" if turnover is None else round(turnover, 1),
        "–" if leavers is None else int(leavers),
    ]


def shown_kpi_groups(
    organisation: Any | None, groups: Sequence[Any], k: int
) -> tuple[list[Any], list[Any], bool]:
    """Which groups' HR figures may be shown for a month: each shown group has at least k people,
    and what is not shown on its own (the merged 'other' plus whatever the organisation's total
    leaves over) is either nothing or at least k people, so no subtraction isolates fewer.

    Returns (groups shown on their own, groups merged, whether 'other' itself may be shown)."""
    shown = sorted(
        (g for g in groups if g.headcount >= k), key=lambda g: (g.headcount, g.group_name)
    )
    merged = [g for g in groups if g.headcount < k]
    while True:
        other = sum(g.headcount for g in merged)
        left_over = 0
        if organisation is not None:
            left_over = max(organisation.headcount - other - sum(g.headcount for g in shown), 0)
        gap = other + left_over
        if gap == 0 or gap >= k or not shown:
            break
        merged.append(shown.pop(0))
    other = sum(g.headcount for g in merged)
    left_over = 0
    if organisation is not None:
        left_over = max(organisation.headcount - other - sum(g.headcount for g in shown), 0)
    # 'Other' is shown only when it, and what the organisation's total then leaves over, each
    # have nobody or at least k people.
    other_ok = other >= k and (left_over == 0 or left_over >= k)
    return sorted(shown, key=lambda g: g.group_name.lower()), merged, other_ok


async def build(
    session: AsyncSession, org: OrgConfig, start: date, end: date, now: datetime
) -> LeadReport:
    """Every figure of the report for cycles scheduled from `start` to `end` (inclusive), one
    section after another, in the order the page shows them."""
    questions = org.checkin.questions
    report = LeadReport(org.organisation.name, start, end, org.privacy.k, now)
    report.affecting_labels = {o.id: o.label for o in questions.affecting.options}
    report.weeks = await _organisation_weeks(session, start, end)
    answered_by_day = await _checkins_section(session, report)
    events = await _support_section(session, report, org)
    faq = await _faq_section(session, report, org.organisation.timezone)
    _feelings_section(report, questions, answered_by_day)
    pooled_groups = await _groups_section(session, report, questions)
    await _hr_figures_section(session, report, org)
    _write_summary(report, pooled_groups, faq, events, report.k)
    return report


async def _checkins_section(session: AsyncSession, report: LeadReport) -> dict[date, int | str]:
    """Process: who each week's check-in reached and who answered, and who is taking a break.
    Returns each week's "Answered" as printed, which the feelings tables repeat."""
    k, start, end = report.k, report.start, report.end
    snapshots = {
        s.scheduled_for: s
        for s in (
            await session.exec(
                select(ProcessSnapshot).where(
                    ProcessSnapshot.scheduled_for >= start, ProcessSnapshot.scheduled_for <= end
                )
            )
        ).all()
    }
    outcome_by_day = {w.day: w.figures for w in report.weeks}
    process_rows = []
    answered_by_day: dict[date, int | str] = {}
    for day in sorted(set(snapshots) | set(outcome_by_day)):
        snap = snapshots.get(day)
        figures = outcome_by_day.get(day)
        sent = count_or_band(snap.people if snap else None, k)
        delivered = count_or_band(snap.delivered if snap else None, k)
        reminders = count_or_band(snap.reminders if snap else None, k)
        blocked = count_or_band(snap.blocked if snap else None, k)
        answered: int | str = figures.respondents if figures is not None else HIDDEN
        rate: int | None = None
        if isinstance(answered, int) and snap is not None:
            # Exact only when at least k people it went to did not answer: otherwise the
            # figures would say that (nearly) everyone did, and so whose answers they are.
            if min(snap.people, snap.delivered) - answered < k:
                answered = NEARLY_EVERYONE
            elif snap.delivered:
                rate = min(percent(answered, snap.delivered) or 0, 100)
        answered_by_day[day] = answered
        report.weekly_process.append({"day": day, "rate": rate, "answered": answered})
        process_rows.append(
            [
                day_label(day),
                sent,
                delivered,
                answered,
                NEARLY_EVERYONE
                if answered == NEARLY_EVERYONE
                else "–"
                if rate is None
                else f"{rate}%",
                reminders,
                blocked,
            ]
        )
    report.tables.append(
        Table(
            "checkins_by_week",
            "Check-ins each week",
            [
                "Wellbeing Wednesday",
                "Sent to",
                "Delivered",
                "Answered",
                "Response rate",
                "Reminders sent",
                "Blocked the bot",
            ],
            process_rows,
            note=f"A count below {k} reads “fewer than {k}”. “Answered” comes from the frozen "
            "weekly figures, so it stays the same when answers are later deleted; it reads "
            f"“{NEARLY_EVERYONE}” when fewer than {k} people who got the check-in did not answer. "
            "“Blocked the bot” counts people Teams said had blocked it when that week's check-in "
            "or reminder went: more than usual is the first sign the cadence or the words feel "
            "like too much.",
        )
    )
    latest = snapshots[max(snapshots)] if snapshots else None
    report.tables.append(
        Table(
            "paused_or_stopped",
            "People taking a break from the check-ins",
            ["As of", "Paused", "Stopped"],
            [
                [
                    day_label(latest.scheduled_for),
                    count_or_band(latest.paused, k),
                    count_or_band(latest.stopped, k),
                ]
            ]
            if latest
            else [],
            note="Counted when the last check-in of the period closed. Pausing or stopping is "
            "everyone's right; a rise is worth a look at how the check-in feels, not at who.",
        )
    )
    return answered_by_day


async def _support_section(
    session: AsyncSession, report: LeadReport, org: OrgConfig
) -> dict[str, int]:
    """Process: the support people were shown and asked for. Returns the period's event counts
    (the summary sentences use them)."""
    k, start, end = report.k, report.start, report.end
    counts = (await session.exec(select(SignpostingCount))).all()
    by_service: dict[str, int] = defaultdict(int)
    by_need: dict[str, int] = defaultdict(int)
    events: dict[str, int] = defaultdict(int)
    for row in counts:
        try:
            year, week = row.week.split("-W")
            wednesday = date.fromisocalendar(int(year), int(week), 3)
        except ValueError:
            continue
        if not start <= wednesday <= end:
            continue
        events[row.event] += row.count
        if row.event == counting.SERVICE_SHOWN and row.service_id:
            by_service[row.service_id] += row.count
        if row.event in (counting.NEED_CHOSEN, counting.NEED_RECOGNISED) and row.need_id:
            by_need[row.need_id] += row.count
    services = {s.id: s.name for s in org.support.services}
    needs = {n.id: n.label for n in org.support.needs}
    report.tables.append(
        Table(
            "support_by_service",
            "Support people were shown",
            ["Service", "Times shown"],
            [
                [services.get(sid, sid), count_or_band(n, k)]
                for sid, n in sorted(by_service.items(), key=lambda kv: (-kv[1], kv[0]))
            ],
            note="How often each service's details were shown in the bot. Links opened from "
            "there are not visible to the bot, so they are not counted.",
        )
    )
    report.tables.append(
        Table(
            "support_by_need",
            "What people looked for help with",
            ["Need", "Times"],
            [
                [needs.get(nid, nid), count_or_band(n, k)]
                for nid, n in sorted(by_need.items(), key=lambda kv: (-kv[1], kv[0]))
            ],
        )
    )
    report.tables.append(
        Table(
            "coordinator_requests",
            "Requests to the staff support coordinator",
            ["What happened", "How many"],
            [
                ["Asked to be contacted", count_or_band(events[counting.COORDINATOR_REQUESTED], k)],
                [
                    "Contacted by a coordinator",
                    count_or_band(events[counting.COORDINATOR_CONTACTED], k),
                ],
                ["Closed", count_or_band(events[counting.COORDINATOR_CLOSED], k)],
                [
                    "Withdrawn by the person",
                    count_or_band(events[counting.COORDINATOR_WITHDRAWN], k),
                ],
                ["Urgent-help information shown", count_or_band(events[counting.CRISIS_SHOWN], k)],
                [
                    "Advice shown to someone worried about another person",
                    count_or_band(events[counting.HELPERS_SHOWN], k),
                ],
            ],
            note=f"Small numbers could point to someone, so any count below {k} reads "
            f"“fewer than {k}”. Nobody who asked for help is ever named in a report.",
        )
    )
    return events


async def _faq_section(session: AsyncSession, report: LeadReport, tz: str):
    """Process: policy questions asked of the HR FAQ, and what became of them."""
    start, end = report.start, report.end
    faq = await faq_report(
        session, _local_midnight(start, tz), _local_midnight(end + timedelta(days=1), tz)
    )
    report.tables.append(
        Table(
            "faq",
            "Policy questions (HR FAQ)",
            ["What happened", "How many"],
            [
                ["Questions asked", faq.asked],
                ["Answered by the bot", faq.answered + faq.picked_suggestion],
                ["Passed to HR experts", faq.escalated],
                ["Answered by HR experts", faq.expert_answered],
                ["Marked helpful", faq.helpful],
                ["Marked not helpful", faq.not_helpful],
            ],
            note="Questions about the Wellbeing & Attendance Management policy from trainers and "
            "staff. These are about the policy, not about anyone's wellbeing.",
        )
    )
    return faq


def _feelings_section(
    report: LeadReport, questions: CheckinQuestions, answered_by_day: dict[date, int | str]
) -> None:
    """Outcomes: the organisation's mood and themes, by week and by month."""
    start, end = report.start, report.end
    mood_rows = []
    theme_week_rows = []
    for week in report.weeks:
        if week.figures is None:
            mood_rows.append([day_label(week.day), HIDDEN, "", "", "", ""])
            theme_week_rows.append([day_label(week.day), HIDDEN, ""])
            continue
        shares = mood_shares(week.figures)
        mood_rows.append(
            [
                day_label(week.day),
                answered_by_day.get(week.day, week.figures.respondents),
                round(week.figures.mean_mood, 1),
                *(f"{shares[label]}%" for label, _ in MOOD_GROUPS),
            ]
        )
        for label, share in theme_shares(week.figures, questions):
            theme_week_rows.append([day_label(week.day), label, _share_text(share)])
    mood_columns = [
        "Answers",
        "Average mood (1 to 5)",
        "Struggling or low",
        "Okay",
        "Good or great",
    ]
    report.tables.append(
        Table(
            "mood_by_week",
            "How people said they were feeling, each week",
            ["Wellbeing Wednesday", *mood_columns],
            mood_rows,
            note="The whole organisation. A week reads “hidden to protect people” when showing it "
            "could let someone work out a few people's answers.",
            section="outcomes",
        )
    )
    by_month: dict[str, list[Figures]] = defaultdict(list)
    for week in report.weeks:
        if week.figures is not None:
            by_month[month_key(week.day)].append(week.figures)
    month_rows, theme_month_rows = [], []
    for key in months_between(start, end):
        pooled = aggregates.pool(by_month.get(key, []))
        report.months.append((key, pooled))
        if pooled is None:
            month_rows.append([month_label(key), "no figures", "", "", "", ""])
            continue
        shares = mood_shares(pooled)
        weekly = [answered_by_day.get(w.day, 0) for w in report.weeks if month_key(w.day) == key]
        weekly = [a for a in weekly if a != HIDDEN]
        month_rows.append(
            [
                month_label(key),
                pooled.respondents
                if all(isinstance(a, int) for a in weekly)
                else "not shown, as some weeks are too close to everyone",
                round(pooled.mean_mood, 1),
                *(f"{shares[label]}%" for label, _ in MOOD_GROUPS),
            ]
        )
        for label, share in theme_shares(pooled, questions):
            theme_month_rows.append([month_label(key), label, _share_text(share)])
    report.tables.append(
        Table(
            "mood_by_month",
            "How people said they were feeling, each month",
            ["Month", *mood_columns],
            month_rows,
            note="Each month adds up its weeks that could be shown. “Answers” counts answers, not "
            "people: someone who checked in every week counts once a week.",
            section="outcomes",
        )
    )
    report.tables.append(
        Table(
            "themes_by_month",
            "What people said was affecting them, each month",
            ["Month", "What they chose", "Share of answers"],
            theme_month_rows,
            note=f"“A few” means fewer than {SMALL_CELL} people. Work statements show the share "
            "of people who disagreed with them, out of those who answered them.",
            section="outcomes",
        )
    )
    report.tables.append(
        Table(
            "themes_by_week",
            "What people said was affecting them, each week",
            ["Wellbeing Wednesday", "What they chose", "Share of answers"],
            theme_week_rows,
            section="outcomes",
        )
    )


async def _groups_section(
    session: AsyncSession, report: LeadReport, questions: CheckinQuestions
) -> reporting.Report:
    """Outcomes: directorates and teams, in words, as their managers' summaries show them."""
    start, end = report.start, report.end
    pooled_groups = await reporting.report(session, start, end, questions)

    def words(summary: Summary) -> list[Any]:
        if not summary.shown:
            return [summary.name, HIDDEN, "", "", "", ""]
        mood = dict(summary.mood)
        themes = "; ".join(t.label for t in summary.themes) or "nothing stood out"
        return [
            summary.name,
            summary.response or "",
            *(mood.get(label, "") for label, _ in MOOD_GROUPS),
            themes,
        ]

    group_columns = ["Answered", "Struggling or low", "Okay", "Good or great", "Came up most"]
    report.tables.append(
        Table(
            "directorates",
            "Directorates",
            ["Directorate", *group_columns],
            [words(s) for s in pooled_groups.directorates],
            note="In words, like the managers' summaries, and only for weeks each directorate's "
            "figures could be shown. A directorate never shown reads “hidden to protect people”.",
            section="outcomes",
        )
    )
    report.tables.append(
        Table(
            "teams",
            "Teams",
            ["Team", *group_columns],
            [words(s) for s in sorted(pooled_groups.teams, key=lambda s: s.name.lower())],
            note="Small teams, and teams where the people answering changed by only a few, are "
            "hidden so nobody's answers can be worked out.",
            section="outcomes",
        )
    )
    return pooled_groups


async def _hr_figures_section(session: AsyncSession, report: LeadReport, org: OrgConfig) -> None:
    """HR figures imported beside the check-ins, with small groups merged or hidden."""
    k, start, end = report.k, report.start, report.end
    months = months_between(start, end)
    figures = await kpi.figures(session, months[0], months[-1])
    report.has_kpi = bool(figures)
    using = await _using_directorates(session, org)
    kpi_rows, group_rows, comparison_rows = [], [], []
    hidden_groups: dict[str, list[str]] = defaultdict(list)
    kpi_columns = ["Headcount", "Sickness absence (%)", "Days lost", "Turnover (%)", "Leavers"]
    for key in months:
        rows = [f for f in figures if f.month == key]
        organisation = next((f for f in rows if not f.group_name), None)
        groups = [f for f in rows if f.group_name]
        entry: dict[str, Any] = {"month": key, "sickness": None, "turnover": None}
        if organisation is not None or groups:
            whole = [organisation] if organisation is not None else groups
            cells = _kpi_cells(whole)
            label = "Whole organisation" if organisation is not None else "All groups in the file"
            kpi_rows.append([month_label(key), label, *cells])
            entry["sickness"] = _weighted(whole, "sickness_absence_rate")
            entry["turnover"] = _weighted(whole, "turnover")
        report.kpi_months.append(entry)
        shown, merged, other_ok = shown_kpi_groups(organisation, groups, k)
        for group in shown:
            group_rows.append([month_label(key), group.group_name, *_kpi_cells([group])])
        if merged:
            for g in merged:
                hidden_groups[g.group_name].append(month_label(key))
            if other_ok:
                group_rows.append([month_label(key), "Other groups together", *_kpi_cells(merged)])
        sides = {
            "Using the check-ins": [g for g in shown if g.group_name.strip().lower() in using],
            "Not using them yet": [g for g in shown if g.group_name.strip().lower() not in using],
        }
        if all(sum(g.headcount for g in side) >= k for side in sides.values()):
            for label, side in sides.items():
                cells = _kpi_cells(side)
                comparison_rows.append(
                    [month_label(key), label, len(side), cells[0], cells[1], cells[3]]
                )
    report.tables.append(
        Table(
            "hr_figures",
            "HR figures",
            ["Month", "Who", *kpi_columns],
            kpi_rows,
            note="As imported from HR's figures. “–” means the file left it blank.",
            section="hr",
        )
    )
    group_note = f"Groups of fewer than {k} people are not shown on their own. "
    if hidden_groups:
        where = "; ".join(
            f"{name} ({', '.join(months)})"
            for name, months in sorted(hidden_groups.items(), key=lambda kv: kv[0].lower())
        )
        group_note += (
            "Where a small group could be worked out by taking the others away from the total, "
            "more groups are put together as “other groups”, or hidden. Not shown on their own: "
            f"{where}."
        )
    report.tables.append(
        Table(
            "hr_figures_by_group",
            "HR figures by group",
            ["Month", "Group", *kpi_columns],
            group_rows,
            note=group_note,
            section="hr",
        )
    )
    report.tables.append(
        Table(
            "hr_comparison",
            "Groups using the check-ins and groups not using them yet",
            [
                "Month",
                "Groups",
                "How many groups",
                "Headcount",
                "Sickness absence (%)",
                "Turnover (%)",
            ],
            comparison_rows,
            note="A group counts as using the check-ins when a directorate of that name has a "
            f"team enrolled. Shown only for months where both sides have at least {k} people, "
            "using the groups shown above. Side by side is not cause and effect: the groups "
            "differ in many ways besides the check-ins.",
            section="hr",
        )
    )


def _write_summary(report: LeadReport, groups: reporting.Report, faq, events, k: int) -> None:
    """A few plain sentences for the top of the report, and the card's headline figures."""

    cycles = len(report.weeks)
    lines: list[str] = []
    headline: list[tuple[str, str]] = []
    checkins = report.table("checkins_by_week")
    delivered = printed_total(row[2] for row in checkins.rows)
    rates = [w["rate"] for w in report.weekly_process if w["rate"] is not None]
    if cycles == 0:
        lines.append(
            f"There were no Wellbeing Wednesday check-ins with results between "
            f"{report.start:%-d %B} and {report.end:%-d %B %Y}."
        )
    else:
        sentence = f"{cycles} Wellbeing Wednesday check-in{'s' if cycles != 1 else ''} went out"
        if isinstance(delivered, int):
            sentence += f"; they were delivered {delivered} times"
            headline.append(("Check-ins delivered", str(delivered)))
        lines.append(sentence + ".")
        nearly = sum(1 for w in report.weekly_process if w["answered"] == NEARLY_EVERYONE)
        if nearly:
            lines.append(
                f"In {nearly} week{'s' if nearly != 1 else ''}, nearly everyone who got the "
                "check-in answered it."
            )
        if rates:
            average = round(sum(rates) / len(rates))
            other = " in the other weeks" if nearly else ""
            lines.append(
                f"On average{other}, {average} in every 100 people who got one answered it."
            )
            more = (
                f"; nearly everyone in {nearly} week{'s' if nearly != 1 else ''}" if nearly else ""
            )
            headline.append(("Answered", f"{average}% on average{more}"))
        elif nearly:
            headline.append(("Answered", NEARLY_EVERYONE))
    pooled = aggregates.pool([w.figures for w in report.weeks if w.figures is not None])
    if pooled is not None:
        shares = mood_shares(pooled)
        good, low = shares["good or great"], shares["struggling or low"]
        lines.append(
            f"Across the organisation, {good}% of answers said people felt good or great and "
            f"{low}% said they were struggling or low."
        )
        headline.append(("Feeling good or great", f"{good}%"))
        headline.append(("Struggling or low", f"{low}%"))
        shown_months = [(key, f) for key, f in report.months if f is not None]
        if len(shown_months) >= 2:
            first, last = shown_months[0], shown_months[-1]
            before = mood_shares(first[1])["struggling or low"]
            after = mood_shares(last[1])["struggling or low"]
            trend = (
                "about the same" if abs(after - before) < 3 else "up" if after > before else "down"
            )
            lines.append(
                f"Struggling or low was {trend}: {before}% in {month_label(first[0])}, "
                f"{after}% in {month_label(last[0])}."
            )
        top = _top_theme(pooled, report)
        if top:
            lines.append(
                f"What people said affects them most: {top[0].lower()} ({top[1]}% of answers)."
            )
            headline.append(("Affecting people most", top[0]))
    elif cycles:
        lines.append("The organisation's figures are hidden for this period to protect people.")
    shown_d = sum(1 for s in groups.directorates if s.shown)
    shown_t = sum(1 for s in groups.teams if s.shown)
    if groups.directorates or groups.teams:
        lines.append(
            f"{shown_d} of {len(groups.directorates)} directorates and {shown_t} of "
            f"{len(groups.teams)} teams had enough answers to show; the rest are hidden to "
            "protect people."
        )
    services = report.table("support_by_service").rows
    if services and isinstance(services[0][1], int):
        lines.append(f"The support people were shown most was {services[0][0]}.")
    requested = count_or_band(events[counting.COORDINATOR_REQUESTED], k)
    headline.append(("Asked the support coordinator to get in touch", str(requested)))
    if faq.asked:
        headline.append(
            ("Policy questions answered", f"{faq.answered + faq.picked_suggestion} of {faq.asked}")
        )
    if report.has_kpi:
        lines.append(
            "HR figures are shown beside the bot's own. Side by side is not cause and effect."
        )
    report.summary = lines
    report.headline = headline


def _top_theme(pooled: Figures, report: LeadReport) -> tuple[str, int] | None:
    best = [
        (count, option)
        for option, count in pooled.affecting
        if option != "nothing" and count >= SMALL_CELL
    ]
    if not best:
        return None
    count, option = max(best)
    return report.affecting_labels.get(option, option), percent(count, pooled.respondents) or 0


# ---- the link a lead opens -------------------------------------------------------------------


def link_data(start: date, end: date) -> dict[str, str]:
    """What a report link carries besides its lead: the period."""
    return {"from": start.isoformat(), "to": end.isoformat()}


def link_period(data: dict[str, Any]) -> tuple[date, date] | None:
    """The period a report link's data names, or None when it is not one."""
    try:
        return date.fromisoformat(data["from"]), date.fromisoformat(data["to"])
    except (ValueError, KeyError, TypeError):
        return None


async def lead_ids(session: AsyncSession, org: OrgConfig) -> list[str]:
    """The configured wellbeing leads' AAD ids (people named by UPN once the bot has seen them)."""
    return [a.lower() for a in await orgimport.resolve_all(session, org.roles.wellbeing_leads)]
