"""The wellbeing lead's report in Teams: `report` (leads only) and the monthly summary card.

The card carries the headline figures; the full report is a short-lived signed link to the bot's
own web server, exactly like a personal data export (dialogs/rights.py): it works once within 15
minutes, names the lead it was made for, is refused if that person is no longer a wellbeing lead, and both
making and opening it are written to the audit log. The monthly card itself carries no link (it
would have expired by the time it is read): its button asks for a fresh one.
"""

from __future__ import annotations

import asyncio
import calendar
import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

from core.context import Services, Turn
from core.events import Card, Reply
from core.privacy import links
from core.reporting import leadreport
from core.reporting.leadreport import LeadReport
from core.reporting.leadreport_html import render_html
from core.store import audit
from dialogs import roles
from dialogs.commands import Command

WHICH_MONTH = (
    "Which month would you like? Say **report** for last month, **report this month**, or a "
    "month such as **report 2026-11** or **report November**."
)
LINK_LINES = (
    "The full report has charts and every table, and CSV files come with the command-line version.",
    "The link works once, for 15 minutes, and only for you. The report holds totals only, but please "
    "keep it among the people who oversee staff wellbeing.",
)
_MONTHS = {name.lower(): i for i, name in enumerate(calendar.month_name) if name}
_MONTHS |= {name.lower(): i for i, name in enumerate(calendar.month_abbr) if name}


def local_today(services: Services, now: datetime) -> date:
    return now.astimezone(ZoneInfo(services.org.organisation.timezone)).date()


def choose_month(argument: str, today: date) -> str | None:
    """The month (YYYY-MM) a lead asked for; None when it can't be read or is in the future."""
    said = " ".join(argument.lower().replace("-", " ").replace("/", " ").split())
    if said in ("", "last month"):
        return leadreport.previous_month(today)
    if said == "this month":
        return leadreport.month_key(today)
    match = re.fullmatch(r"(\d{4}) (\d{1,2})", said)
    if match:
        year, month = int(match.group(1)), int(match.group(2))
    else:
        words = said.split()
        if not words or words[0] not in _MONTHS or len(words) > 2:
            return None
        month = _MONTHS[words[0]]
        if len(words) == 2:
            if not words[1].isdigit():
                return None
            year = int(words[1])
        else:
            year = today.year if month <= today.month else today.year - 1
    if not 1 <= month <= 12 or date(year, month, 1) > today:
        return None
    return f"{year:04d}-{month:02d}"


def period_of(key: str, today: date) -> tuple[date, date]:
    start, end = leadreport.month_bounds(key)
    return start, min(end, today)


async def build_report(services: Services, start: date, end: date, now: datetime) -> LeadReport:
    """Count any newly closed cycle first, then every figure (no drawing)."""
    async with services.sessions() as session:
        await leadreport.snapshot_closed_cycles(session, now)
        await session.commit()
        return await leadreport.build(session, services.org, start, end, now)


def lead_card(report: LeadReport, *, url: str | None, month: str | None = None) -> Card:
    """The headline figures, and either the report's link or a button that asks for one."""
    title = f"Wellbeing report: {report.period}"
    intro = "Here are the headline figures from the Wellbeing Wednesday check-ins."
    lines = [*report.summary]
    note = (
        f"Totals only: nothing here rests on fewer than {report.k} people, and no one's answers "
        "can be picked out."
    )
    facts = [{"title": label, "value": value} for label, value in report.headline]
    text_lines = [title, intro, *(f"- {f['title']}: {f['value']}" for f in facts), *lines]
    context: dict = {
        "title": title,
        "intro": intro,
        "facts": facts,
        "lines": lines,
        "note": note,
        "url": url,
        "link_lines": list(LINK_LINES) if url else [],
        "command": None if url else "report",
        "argument": month or "",
    }
    if url:
        text_lines += [*LINK_LINES, f"[Open the full report]({url})"]
    else:
        text_lines.append(f"Say **report {month or ''}** for the full report.")
    return Card("lead_monthly", context, fallback_text="\n\n".join(text_lines))


async def _report(turn: Turn, argument: str) -> list[Reply]:
    """`report [month]`: the headline figures and a 15-minute link to the full report."""
    services = turn.services
    user = (turn.event.user_id or "").lower()
    today = local_today(services, turn.now)
    month = choose_month(argument, today)
    if month is None:
        return [Reply(text=WHICH_MONTH)]
    start, end = period_of(month, today)
    report = await build_report(services, start, end, turn.now)
    async with services.sessions() as session:
        token = await links.issue(
            session,
            services.secrets,
            leadreport.LINK_PURPOSE,
            user,
            leadreport.link_data(start, end),
            turn.now,
        )
        audit.record(session, actor=user, action=audit.REPORT_LINK, at=turn.now)
        await session.commit()
    url = services.public_url.rstrip("/") + leadreport.REPORT_PATH + token
    return [Reply(card=lead_card(report, url=url, month=month))]


REPORT = Command(
    "report",
    "wellbeing leads: the organisation's wellbeing report for a month",
    _report,
    takes_argument=True,
    usage="report [MONTH]",
    examples=(
        "show me the wellbeing report",
        "organisation report for last month",
        "monthly wellbeing figures",
        "can i have the report for march",
        "the lead report",
        "trust wide wellbeing report",
        "get the report for this month",
    ),
    audience="lead",
    requires="lead",
)


async def report_link(services: Services, token: str, now: datetime) -> links.LinkState:
    """Whether a report link can still be used (by a person who is still a wellbeing lead);
    uses nothing (link scanners open links)."""
    async with services.sessions() as session:
        state, data = await links.check(
            session, services.secrets, leadreport.LINK_PURPOSE, token, leadreport.LINK_TTL, now
        )
    if data is not None and not await _still_valid(services, data):
        return links.LinkState.INVALID
    return state


async def _still_valid(services: Services, data: dict) -> bool:
    return leadreport.link_period(data) is not None and await roles.is_lead(services, data["aad"])


async def report_page(
    services: Services, token: str, now: datetime
) -> tuple[links.LinkState, bytes | None]:
    """Use a report link, once: the HTML behind it (READY), or why not; audited. A link made
    for someone who is no longer a lead is refused and left unused (nothing is committed)."""
    async with services.sessions() as session:
        state, data = await links.use(
            session, services.secrets, leadreport.LINK_PURPOSE, token, leadreport.LINK_TTL, now
        )
        if state is not links.LinkState.READY or data is None:
            return state, None
        if not await _still_valid(services, data):
            return links.LinkState.INVALID, None
        audit.record(session, actor=data["aad"], action=audit.REPORT, at=now)
        await session.commit()
    start, end = leadreport.link_period(data)
    report = await build_report(services, start, end, now)
    html = await asyncio.to_thread(render_html, report)
    return state, html.encode("utf-8")
