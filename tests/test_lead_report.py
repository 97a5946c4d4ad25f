"""The wellbeing lead's report, built from generated data through the real freezing code: its
figures match the data, small groups and small counts are hidden, deleting raw answers changes
nothing, HR figures import all-or-nothing, the CLI writes HTML and CSV that render in Chromium,
and in Teams only a wellbeing lead gets the card and the 15-minute link."""

from __future__ import annotations

import asyncio
import csv
import dataclasses
import json
import os
import random
import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from urllib.parse import urlparse

import pytest
from sqlalchemy import delete
from sqlmodel import select

from bot.app import SENDER
from bot.cli import main
from core.config.orgconfig import TeamConfig
from core.privacy import counting, links
from core.reporting import kpi, leadreport
from core.reporting.leadreport import HIDDEN, ProcessSnapshot, shown_kpi_groups
from core.reporting.leadreport_html import render_html, write_report
from core.store.audit import AuditEntry
from core.store.cycles import CLOSED, Cycle, CycleRecipient
from core.store.models import Person, Team, TeamMember
from core.store.outbox import SENT, UNREACHABLE, OutboxMessage
from core.store.wellbeing import CheckinAnswer
from dialogs import leadreport as lead_dialog
from dialogs import rights
from scheduler import digests, lead_report
from tests.conftest import TEST_SECRETS
from tests.support import activities, chromium
from tests.support.activities import TeamsUser
from tests.support.clock import Clock

pytestmark = pytest.mark.time_sensitive

TENANT = "tenant-1"
NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)  # 10:00 in London on the 1st: the card is due
WEDNESDAYS = [date(2026, 10, 7) + timedelta(weeks=i) for i in range(8)]  # October and November
LEAD = TeamsUser(name="Lee Lead")
OUTSIDER = TeamsUser(name="Olu Outsider")


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


def guid() -> str:
    return str(uuid.uuid4())


@dataclass
class Group:
    name: str
    directorate: str | None
    members: list[str]
    aad_group_id: str = field(default_factory=guid)


@dataclass
class Generated:
    """What was generated, so the test can work out every figure itself."""

    groups: list[Group]
    loners: list[str]
    answers: dict[date, dict[str, tuple[int, str]]]  # week -> person -> (mood, affecting)
    delivered: dict[date, int]
    reminders: dict[date, int]


def organisation(org):
    """Ward 7 (10) and Ward 8 (9) in Acute Medicine, Porters (4) in Estates, 6 people in no
    team; the lead and an outsider who is not."""
    groups = [
        Group("Ward 7", "Acute Medicine", [guid() for _ in range(10)]),
        Group("Ward 8", "Acute Medicine", [guid() for _ in range(9)]),
        Group("Porters", "Estates", [guid() for _ in range(4)]),
    ]
    config = org.model_copy(
        update={
            "teams": [
                TeamConfig(
                    id=g.aad_group_id,
                    name=g.name,
                    directorate=g.directorate,
                    managers=[],
                    enrolled=True,
                )
                for g in groups
            ],
            "roles": org.roles.model_copy(update={"wellbeing_leads": [LEAD.aad_object_id]}),
        }
    )
    return groups, config


def who_answers(groups: list[Group], loners: list[str], week: int) -> list[str]:
    """The same people every week, except that five of Ward 8 stop answering in November (so
    Ward 8 falls below k and is hidden, while the organisation's churn is a safe five)."""
    ward7, ward8, porters = (g.members for g in groups)
    people = ward7[:8] + (ward8 if week < 4 else ward8[:4]) + porters + loners
    return people


async def generate(bot, groups: list[Group], seed: int = 7) -> Generated:
    """People, teams, eight closed cycles with answers and deliveries, then freeze each cycle
    through the real code path (scheduler.digests), oldest first."""
    services = bot.services
    rng = random.Random(seed)
    loners = [guid() for _ in range(6)]
    everyone = [m for g in groups for m in g.members] + loners
    generated = Generated(groups, loners, {}, {}, {})
    options = ["work", "personal", "health", "mix", "nothing"]
    async with services.sessions() as session:
        for aad in everyone:
            session.add(
                Person(aad_object_id=aad, tenant_id=TENANT, personal_installed=True, updated_at=NOW)
            )
        for g in groups:
            team_id = f"19:{g.aad_group_id}@thread.tacv2"
            session.add(
                Team(
                    id=team_id,
                    aad_group_id=g.aad_group_id,
                    name=g.name,
                    tenant_id=TENANT,
                    updated_at=NOW,
                )
            )
            await session.flush()
            for member in g.members:
                session.add(TeamMember(team_id=team_id, aad_object_id=member))
        await session.commit()
    for week, wednesday in enumerate(WEDNESDAYS):
        opened = datetime.combine(wednesday, datetime.min.time(), tzinfo=UTC)
        answering = who_answers(groups, loners, week)
        unreachable = 2
        async with services.sessions() as session:
            cycle = Cycle(
                scheduled_for=wednesday,
                status=CLOSED,
                opened_at=opened,
                reminders_at=opened + timedelta(days=1),
                closes_at=opened + timedelta(days=2),
                closed_at=opened + timedelta(days=2),
            )
            session.add(cycle)
            await session.flush()
            answers: dict[str, tuple[int, str]] = {}
            for i, aad in enumerate(everyone):
                session.add(CycleRecipient(cycle_id=cycle.id, aad_object_id=aad, due_at=opened))
                status = UNREACHABLE if i < unreachable else SENT
                session.add(
                    OutboxMessage(
                        purpose="checkin",
                        tenant_id=TENANT,
                        aad_object_id=aad,
                        payload="{}",
                        cycle_id=cycle.id,
                        status=status,
                        next_attempt_at=opened,
                        created_at=opened,
                        updated_at=opened,
                    )
                )
            for aad in answering:
                mood, affecting = rng.randint(1, 5), rng.choice(options)
                answers[aad] = (mood, affecting)
                session.add(
                    CheckinAnswer(
                        pseudonym=services.secrets.pseudonym(aad),
                        cycle_id=cycle.id,
                        card_id=uuid.uuid4().hex,
                        mood=mood,
                        affecting=affecting,
                        answered_at=opened + timedelta(hours=3),
                    )
                )
            for aad in everyone[-3:]:  # three reminders a week: fewer than k
                session.add(
                    OutboxMessage(
                        purpose="reminder",
                        tenant_id=TENANT,
                        aad_object_id=aad,
                        payload="{}",
                        cycle_id=cycle.id,
                        status=SENT,
                        next_attempt_at=opened,
                        created_at=opened,
                        updated_at=opened,
                    )
                )
            await session.commit()
            cycle_id = cycle.id
        generated.answers[wednesday] = answers
        generated.delivered[wednesday] = len(everyone) - unreachable
        generated.reminders[wednesday] = 3
        await digests.freeze_and_send(services, cycle_id, NOW)
    async with services.sessions() as session:
        for _ in range(12):
            await counting.bump(
                session,
                counting.SERVICE_SHOWN,
                datetime(2026, 11, 4, 12, tzinfo=UTC),
                service="staff_support_line",
            )
        for _ in range(2):
            await counting.bump(
                session,
                counting.SERVICE_SHOWN,
                datetime(2026, 11, 4, 12, tzinfo=UTC),
                service="chaplaincy",
            )
            await counting.bump(
                session, counting.COORDINATOR_REQUESTED, datetime(2026, 11, 11, 12, tzinfo=UTC)
            )
        await session.commit()
    return generated


async def build(bot, start: date = WEDNESDAYS[0], end: date = WEDNESDAYS[-1]):
    async with bot.services.sessions() as session:
        await leadreport.snapshot_closed_cycles(session, NOW)
        await session.commit()
        return await leadreport.build(session, bot.services.org, start, end, NOW)


def expected_mood(answers: dict[str, tuple[int, str]]) -> list[object]:
    moods = [m for m, _ in answers.values()]
    n = len(moods)
    return [
        n,
        round(sum(moods) / n, 1),
        f"{round(100 * sum(m <= 2 for m in moods) / n)}%",
        f"{round(100 * sum(m == 3 for m in moods) / n)}%",
        f"{round(100 * sum(m >= 4 for m in moods) / n)}%",
    ]


def all_text(report) -> str:
    return json.dumps([t.rows for t in report.tables], default=str)


@pytest.fixture
async def generated_bot(make_bot, org, clock):
    groups, config = organisation(org)
    bot = await make_bot(clock=clock, org_config=config)
    data = await generate(bot, groups)
    return bot, data


async def test_the_report_matches_the_generated_data(generated_bot):
    bot, data = generated_bot
    report = await build(bot)

    # The organisation, week by week: exactly the generated answers.
    mood = report.table("mood_by_week").rows
    assert [row[0] for row in mood] == [leadreport.day_label(w) for w in WEDNESDAYS]
    for row, wednesday in zip(mood, WEDNESDAYS, strict=True):
        expected = expected_mood(data.answers[wednesday])
        if wednesday.month == 10:
            # 27 of the 29 it went to answered: fewer than k did not, so the count is not told.
            expected[0] = "nearly everyone"
        assert row[1:] == expected, wednesday

    # Each month adds up its weeks.
    october = {p: a for w in WEDNESDAYS[:4] for p, a in data.answers[w].items()}
    month_rows = {row[0]: row for row in report.table("mood_by_month").rows}
    assert month_rows["October 2026"][1].startswith("not shown")
    assert month_rows["November 2026"][1] == sum(len(data.answers[w]) for w in WEDNESDAYS[4:])
    oct_moods = [m for w in WEDNESDAYS[:4] for m, _ in data.answers[w].values()]
    assert month_rows["October 2026"][2] == round(sum(oct_moods) / len(oct_moods), 1)
    assert october  # (people answered in October)

    # Process: delivered and answered per week, the response rate, reminders banded below k.
    checkins = report.table("checkins_by_week").rows
    for row, wednesday in zip(checkins, WEDNESDAYS, strict=True):
        answered = len(data.answers[wednesday])
        delivered = data.delivered[wednesday]
        assert row[1] == 29 and row[2] == delivered
        if delivered - answered < 5:
            assert row[3] == row[4] == "nearly everyone"
        else:
            assert row[3] == answered
            assert row[4] == f"{round(100 * answered / delivered)}%"
        assert row[5] == "fewer than 5"

    # Themes: shares of answers, a count below 3 reads "a few".
    themes = [
        r
        for r in report.table("themes_by_week").rows
        if r[0] == leadreport.day_label(WEDNESDAYS[0])
    ]
    counts: dict[str, int] = {}
    for _, affecting in data.answers[WEDNESDAYS[0]].values():
        counts[affecting] = counts.get(affecting, 0) + 1
    labels = report.affecting_labels
    n = len(data.answers[WEDNESDAYS[0]])
    for option, count in counts.items():
        [row] = [r for r in themes if r[1] == labels[option]]
        assert row[2] == (f"{round(100 * count / n)}%" if count >= 3 else "a few")

    # Support: services counted, small counts banded, coordinator requests never exact below k.
    services = dict(report.table("support_by_service").rows)
    names = {s.id: s.name for s in bot.services.org.support.services}
    assert services[names["staff_support_line"]] == 12
    assert services[names["chaplaincy"]] == "fewer than 5"
    coordinator = dict(report.table("coordinator_requests").rows)
    assert coordinator["Asked to be contacted"] == "fewer than 5"

    # The summary and the card's headline say the same as the tables.
    assert any("8 Wellbeing Wednesday check-ins went out" in line for line in report.summary)
    assert any("In 4 weeks, nearly everyone" in line for line in report.summary)
    assert "On average in the other weeks, 81 in every 100" in " ".join(report.summary)
    headline = dict(report.headline)
    assert headline["Check-ins delivered"] == str(sum(data.delivered.values()))


async def test_small_groups_are_hidden_and_never_shown_as_figures(generated_bot):
    bot, _data = generated_bot
    report = await build(bot)
    teams = {row[0]: row for row in report.table("teams").rows}
    directorates = {row[0]: row for row in report.table("directorates").rows}
    # Porters (4 people) and Estates are never shown: the name, and nothing else.
    assert teams["Porters"][1:] == [HIDDEN, "", "", "", ""]
    assert directorates["Estates"][1:] == [HIDDEN, "", "", "", ""]
    # Ward 7 always had 8 answering: shown, in words only.
    assert teams["Ward 7"][1] in {"under a third", "about a third", "about half", "most"}
    # Ward 8 was shown in October only (four answering in November is below k); the period's
    # words pool only the weeks it was shown.
    async with bot.services.sessions() as session:
        from core.reporting.frozen import FrozenGroup

        ward8 = (
            await session.exec(
                select(FrozenGroup)
                .where(FrozenGroup.name == "Ward 8")
                .order_by(FrozenGroup.scheduled_for)
            )
        ).all()
    assert [r.shown for r in ward8] == [True] * 4 + [False] * 4
    nov = await build(bot, date(2026, 11, 1), date(2026, 11, 30))
    assert {row[0]: row for row in nov.table("teams").rows}["Ward 8"][1] == HIDDEN
    # No number in the report is a count of fewer than k people (numbers are shares, moods on
    # a 1-5 scale, or counts of at least k).
    for table in report.tables:
        for row in table.rows:
            for cell in row:
                if isinstance(cell, int) and table.name not in ("faq",):
                    assert cell >= report.k, (table.name, row)


async def test_erasing_and_purging_raw_answers_leaves_the_report_unchanged(generated_bot):
    bot, data = generated_bot
    before = await build(bot)
    html_before = render_html(before)
    services = bot.services
    async with services.sessions() as session:
        # One person erases their data; then retention purges every raw answer and recipient.
        await rights.erase(services, session, data.groups[0].members[0], NOW)
        await session.exec(delete(CheckinAnswer))
        await session.exec(delete(CycleRecipient))
        await session.exec(delete(OutboxMessage))
        await session.commit()
    after = await build(bot)
    assert [t.rows for t in after.tables] == [t.rows for t in before.tables]
    assert after.summary == before.summary and after.headline == before.headline
    assert render_html(after) == html_before


def test_kpi_groups_below_k_are_merged_only_when_that_cannot_be_differenced():
    @dataclass
    class Row:
        group_name: str
        headcount: int

    org = Row("", 100)
    shown, merged, other = shown_kpi_groups(org, [Row("A", 60), Row("B", 37), Row("C", 3)], 5)
    # C alone is 3; with the organisation's total, 100 - 60 - 37 would give C away: B merges too.
    assert [g.group_name for g in shown] == ["A"]
    assert {g.group_name for g in merged} == {"B", "C"} and other
    shown, merged, other = shown_kpi_groups(None, [Row("A", 60), Row("C", 3)], 5)
    # Without an organisation row the report's total is all groups together, so showing A
    # would give C away (63 - 60): only the total is shown.
    assert shown == [] and {g.group_name for g in merged} == {"A", "C"}
    shown, merged, other = shown_kpi_groups(org, [Row("A", 50), Row("B", 47)], 5)
    # 3 people are in no group: showing both would give those 3 away.
    assert [g.group_name for g in shown] == ["A"] and not other


GOOD_CSV = """month,group,headcount,sickness_absence_rate,days_lost,turnover,leavers
2026-10,,34,4.8%,61,1.2,1
2026-11,,37,5.6,70.5,0.9,0
2026-10,Acute Medicine,19,5.1,40,1.0,0
2026-11,Acute Medicine,19,6.0,48,1.1,1
2026-10,Corporate Services,12,3.2,14,0.8,0
2026-11,Corporate Services,12,3.9,17,0.5,0
2026-10,Chaplaincy,3,7.0,7,0,0
2026-11,Estates,6,7.0,9,0,0
"""

BAD_CSV = """month,group,headcount,sickness_absence_rate,days_lost,turnover,leavers
2026-10,,29,4.8,61,1.2,1
2026-13,,29,4.8,61,1.2,1
2026-11,Acute Medicine,nineteen,5.1,40,1.0,0
2026-11,Estates,4,140,-2,0,0.5
2026-10,,30,4.8,61,1.2,1
"""

GOOD_YAML = """
- month: 2026-10
  headcount: 34
  sickness_absence_rate: 4.8
  days_lost: 61
  turnover: 1.2
  leavers: 1
- month: "2026-11"
  group: Acute Medicine
  headcount: 19
  sickness_absence_rate: 6.0%
"""


def test_a_good_kpi_csv_and_yaml_are_read():
    rows = kpi.parse(GOOD_CSV, kind="csv")
    assert len(rows) == 8
    first = rows[0]
    assert (first.month, first.group, first.headcount, first.sickness_absence_rate) == (
        "2026-10",
        "",
        34,
        4.8,
    )
    assert rows[1].days_lost == 70.5 and rows[1].leavers == 0
    yaml_rows = kpi.parse(GOOD_YAML, kind="yaml")
    assert [(r.month, r.group, r.headcount) for r in yaml_rows] == [
        ("2026-10", "", 34),
        ("2026-11", "Acute Medicine", 19),
    ]
    assert yaml_rows[1].sickness_absence_rate == 6.0 and yaml_rows[1].turnover is None


def test_a_bad_kpi_file_names_every_problem_by_line_and_column():
    with pytest.raises(kpi.KpiImportError) as raised:
        kpi.parse(BAD_CSV, source="hr.csv")
    problems = raised.value.problems
    assert problems[0].startswith("line 3: column 'month': '2026-13' is not a month")
    assert any(
        p.startswith("line 4: column 'headcount': 'nineteen' is not a number") for p in problems
    )
    assert any(p.startswith("line 5: column 'sickness_absence_rate': '140'") for p in problems)
    assert any(p.startswith("line 5: column 'days_lost': '-2'") for p in problems)
    assert any(p.startswith("line 5: column 'leavers': '0.5'") for p in problems)
    assert any(p.startswith("line 6: column 'group'") and "line 2" in p for p in problems)
    assert str(raised.value).startswith("hr.csv: ") and "nothing was imported" in str(raised.value)
    with pytest.raises(kpi.KpiImportError) as raised:
        kpi.parse(
            "- month: 2026-10\n  headcount: 3\n  colour: blue\n- month: 2026-1\n", kind="yaml"
        )
    assert raised.value.problems == [
        "line 3: unknown column 'colour' (the columns are month, group, headcount, "
        "sickness_absence_rate, days_lost, turnover, leavers)",
        "line 4: column 'headcount': missing",
        "line 4: column 'month': '2026-1' is not a month written as YYYY-MM, e.g. 2026-11",
        "line 4: column 'headcount': empty; it needs a whole number",
    ]


@pytest.fixture
def cli_env(monkeypatch, database_url, tmp_path):
    monkeypatch.setenv("DATABASE_URL", database_url)
    for name, value in TEST_SECRETS.items():
        monkeypatch.setenv(name, value)
    return database_url


async def test_the_cli_imports_kpis_and_writes_a_report_that_renders_in_chromium(
    generated_bot, org, cli_env, tmp_path, capsys, monkeypatch
):
    bot, _data = generated_bot
    # The CLI reads the organisation config from a file, as an operator's would.
    config_path = tmp_path / "org.yaml"
    config_path.write_text(
        json.dumps(bot.services.org.model_dump(mode="json", exclude_none=True)), encoding="utf-8"
    )
    monkeypatch.setenv("WELLBEING_ORG_CONFIG", str(config_path))

    bad = tmp_path / "kpi-bad.csv"
    bad.write_text(BAD_CSV)
    assert await asyncio.to_thread(main, ["kpi", "import", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "line 3: column 'month'" in err and "nothing was imported" in err
    async with bot.services.sessions() as session:
        assert (await session.exec(select(kpi.KpiFigure))).all() == []

    good = tmp_path / "kpi.csv"
    good.write_text(GOOD_CSV)
    assert await asyncio.to_thread(main, ["kpi", "import", str(good)]) == 0
    assert "Imported 8 row(s) of HR figures for 2026-10 to 2026-11" in capsys.readouterr().out
    again = tmp_path / "kpi.yaml"
    again.write_text(GOOD_YAML)
    assert await asyncio.to_thread(main, ["kpi", "import", str(again)]) == 0
    assert "2 replaced" in capsys.readouterr().out
    async with bot.services.sessions() as session:
        rows = (await session.exec(select(kpi.KpiFigure))).all()
        audit = (await session.exec(select(AuditEntry.action))).all()
    assert len(rows) == 8
    assert (
        next(r for r in rows if r.month == "2026-11" and r.group_name == "Acute Medicine").days_lost
        is None
    )
    assert audit.count("kpi_import") == 2

    out = tmp_path / "report"
    args = ["report", "--from", "2026-10-01", "--to", "2026-11-30", "--out", str(out)]
    assert await asyncio.to_thread(main, args) == 0
    printed = capsys.readouterr().out
    assert f"Wrote {out / 'report.html'}" in printed
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "not cause and effect" in html
    assert html.count('src="data:image/png;base64,') == 4
    assert "http://" not in html.replace("http://www.w3.org", "") and "https://" not in html
    written = {p.name for p in out.glob("*.csv")}
    assert {"checkins_by_week.csv", "mood_by_week.csv", "hr_figures.csv", "teams.csv"} <= written
    with (out / "hr_figures_by_group.csv").open(encoding="utf-8") as handle:
        groups = list(csv.reader(handle))
    assert groups[0][:3] == ["Month", "Group", "Headcount"]
    # Chaplaincy (3 people) is never on its own; in October, 34 - 19 - 12 would give it away,
    # so Corporate Services is merged with it into "other" (15 people).
    assert not any(row[1] == "Chaplaincy" for row in groups[1:])
    october = [row[1:3] for row in groups[1:] if row[0] == "October 2026"]
    assert october == [["Acute Medicine", "19"], ["Other groups together", "15"]]
    with (out / "hr_comparison.csv").open(encoding="utf-8") as handle:
        comparison = list(csv.reader(handle))[1:]
    # November: Acute Medicine and Estates use the check-ins, Corporate Services does not yet.
    # October has no comparison: the only group shown on its own uses them.
    assert {(r[0], r[1], r[3]) for r in comparison} == {
        ("November 2026", "Using the check-ins", "25"),
        ("November 2026", "Not using them yet", "12"),
    }

    screenshot = chromium.ARTIFACTS / "lead-report.png"
    page = chromium.render(out / "report.html", screenshot)
    print(f"lead report screenshot: {screenshot}")
    assert page["consoleErrors"] == [] and page["pageErrors"] == []
    assert page["requests"] == []
    assert len(page["images"]) == 4 and all(i["width"] > 0 and i["alt"] for i in page["images"])
    assert page["title"].startswith("Wellbeing report")
    assert screenshot.stat().st_size > 10_000


def test_the_report_command_line_refuses_backwards_dates(cli_env, capsys, tmp_path):
    args = ["report", "--from", "2026-11-30", "--to", "2026-10-01", "--out", str(tmp_path)]
    assert main(args) == 2
    assert "--from must be on or before --to" in capsys.readouterr().err


def _link(card: dict) -> str:
    [action] = card["actions"]
    assert action["type"] == "Action.OpenUrl"
    return urlparse(action["url"]).path


async def test_only_a_lead_gets_the_report_and_the_link_is_short_lived(generated_bot, clock):
    bot, _data = generated_bot
    await bot.install(LEAD)
    await bot.install(OUTSIDER)

    [refused] = await bot.say(OUTSIDER, "report")
    assert refused["text"].startswith("Only the organisation's wellbeing leads can use **report**.")
    assert "attachments" not in refused or not refused["attachments"]

    [reply] = await bot.say(LEAD, "report 2026-11")
    card = reply["attachments"][0]["content"]
    text = json.dumps(card, ensure_ascii=False)
    assert "Wellbeing report: November 2026" in text and "15 minutes" in text
    path = _link(card)
    assert path.startswith(leadreport.REPORT_PATH)

    page, page_body = await bot.fetch("GET", path)  # a link scanner's look uses nothing
    assert page.status == 200 and b"Open the report" in page_body
    response, body = await bot.fetch("POST", path)
    assert response.status == 200 and response.content_type == "text/html"
    assert response.headers["Cache-Control"] == "no-store"
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]
    assert "Wellbeing report: November 2026" in body.decode("utf-8")
    assert (await bot.fetch("POST", path))[0].status == 410

    # A link made for someone who is not a lead is refused, even if correctly signed.
    async with bot.services.sessions() as session:
        token = await links.issue(
            session,
            bot.services.secrets,
            leadreport.LINK_PURPOSE,
            OUTSIDER.aad_object_id,
            leadreport.link_data(date(2026, 11, 1), date(2026, 11, 30)),
            clock.now,
        )
        await session.commit()
    for method in ("GET", "POST"):
        assert (await bot.fetch(method, leadreport.REPORT_PATH + token))[0].status == 404
    # Tampered or expired links are refused.
    [again] = await bot.say(LEAD, "report 2026-11")
    fresh = _link(again["attachments"][0]["content"])
    response, _ = await bot.fetch("GET", fresh[:-3] + "abc")
    assert response.status == 404
    clock.now = NOW + timedelta(minutes=16)
    response, body = await bot.fetch("GET", fresh)
    assert response.status == 404 and b"expired" in body

    async with bot.services.sessions() as session:
        entries = (await session.exec(select(AuditEntry).order_by(AuditEntry.id))).all()
    audited = [(e.actor, e.action) for e in entries]
    assert (LEAD.aad_object_id, "report_link") in audited
    assert audited.count((LEAD.aad_object_id, "report")) == 1
    assert not any(actor == OUTSIDER.aad_object_id for actor, _ in audited)

    [hint] = await bot.say(LEAD, "report sometime")
    assert "Which month" in hint["text"]


async def test_the_monthly_card_goes_to_each_lead_once(generated_bot, clock, monkeypatch):
    bot, _data = generated_bot
    await bot.install(LEAD)
    before = len(bot.connector.sent)
    assert await lead_report.monthly(bot.services, NOW) == 1

    async def not_again(*_args, **_kwargs):
        raise AssertionError("the report was built again for a lead who has this month's card")

    monkeypatch.setattr(lead_report.leadreport, "build", not_again)
    assert await lead_report.monthly(bot.services, NOW + timedelta(hours=1)) == 0  # once a month
    monkeypatch.undo()
    bot.server.app[SENDER].wake()
    await bot.connector.wait_for(before + 1)
    cards = [c for c in bot.connector.cards(LEAD.chat_id) if "Wellbeing report" in json.dumps(c)]
    [card] = cards
    assert card["body"][0]["text"] == "Wellbeing report: November 2026"
    facts = {f["title"]: f["value"] for f in card["body"][2]["facts"]}
    assert facts["Asked the support coordinator to get in touch"] == "fewer than 5"
    assert re.fullmatch(r"\d+%", facts["Feeling good or great"])
    [action] = card["actions"]
    assert action["type"] == "Action.Submit"
    assert action["data"] == {"command": "report", "argument": "2026-11"}

    # The card's button asks for a fresh link.
    before = len(bot.connector.sent)
    response = await bot.post(activities.card_submit(LEAD, bot.connector.url, action["data"]))
    assert response.status == 200
    [reply] = [s.body for s in bot.connector.sent[before:]]
    path = _link(reply["attachments"][0]["content"])
    response, _ = await bot.fetch("GET", path)
    assert response.status == 200

    # Nothing on the 8th (old news), and nothing before 09:00 on the 1st.
    assert await lead_report.monthly(bot.services, datetime(2027, 1, 8, 12, tzinfo=UTC)) == 0
    assert await lead_report.monthly(bot.services, datetime(2027, 1, 1, 8, tzinfo=UTC)) == 0
    async with bot.services.sessions() as session:
        assert len((await session.exec(select(ProcessSnapshot))).all()) == len(WEDNESDAYS)


def test_the_html_report_of_an_empty_period_still_reads_well(tmp_path):
    report = leadreport.LeadReport("NHS Example Trust", date(2026, 1, 1), date(2026, 1, 31), 5, NOW)
    for name, title in (
        ("checkins_by_week", "x"),
        ("paused_or_stopped", "x"),
        ("support_by_service", "x"),
        ("support_by_need", "x"),
        ("coordinator_requests", "x"),
        ("faq", "x"),
        ("mood_by_week", "x"),
        ("mood_by_month", "x"),
        ("themes_by_month", "x"),
        ("themes_by_week", "x"),
        ("directorates", "x"),
        ("teams", "x"),
        ("hr_figures", "x"),
        ("hr_figures_by_group", "x"),
        ("hr_comparison", "x"),
    ):
        report.tables.append(leadreport.Table(name, title, ["A"], []))
    written = write_report(report, tmp_path / "empty")
    html = written[0].read_text(encoding="utf-8")
    assert "Nothing to show for this period." in html and "data:image/png" not in html
    assert "No HR figures have been imported" in html


def test_which_month_a_lead_means():
    today = date(2026, 12, 9)
    assert lead_dialog.choose_month("", today) == "2026-11"
    assert lead_dialog.choose_month("last month", today) == "2026-11"
    assert lead_dialog.choose_month("this month", today) == "2026-12"
    assert lead_dialog.choose_month("2026 10", today) == "2026-10"  # "2026-10", normalised
    assert lead_dialog.choose_month("2026-10", today) == "2026-10"  # from the card's button
    assert lead_dialog.choose_month("november", today) == "2026-11"
    assert lead_dialog.choose_month("jan", today) == "2026-01"
    assert lead_dialog.choose_month("march 2025", today) == "2025-03"
    assert lead_dialog.choose_month("2027 01", today) is None  # not yet
    assert lead_dialog.choose_month("sometime", today) is None
    assert lead_dialog.period_of("2026-12", today) == (date(2026, 12, 1), today)


GOLDEN = Path(__file__).parent / "fixtures" / "lead_report_golden.json"


def _as_data(report: leadreport.LeadReport) -> object:
    """Everything a built report holds (every table, sentence and figure), as plain JSON; a
    value with no text of its own (the figures' in-process seal) reads as its type."""

    def plain(value: object) -> str:
        return value.isoformat() if isinstance(value, date) else type(value).__name__

    return json.loads(json.dumps(dataclasses.asdict(report), default=plain, sort_keys=True))


async def test_the_built_report_is_the_same_as_before_build_was_split_into_sections(
    generated_bot,
):
    """tests/fixtures/lead_report_golden.json was written by `build()` as one 400-line function,
    from this same generated organisation; the report built one section per function must hold
    exactly the same tables, sentences and figures (HR figures imported too, so every section
    has rows)."""
    bot, _data = generated_bot
    async with bot.services.sessions() as session:
        await kpi.replace(session, kpi.parse(GOOD_CSV, kind="csv"), NOW)
        await session.commit()
    built = _as_data(await build(bot))
    if os.environ.get("WRITE_LEAD_REPORT_GOLDEN"):
        GOLDEN.write_text(json.dumps(built, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    assert built == json.loads(GOLDEN.read_text(encoding="utf-8"))


async def test_a_month_asked_for_in_more_words_gets_that_months_report(generated_bot):
    bot, _data = generated_bot
    await bot.install(LEAD)
    [reply] = await bot.say(LEAD, "report for november 2026 please")
    text = json.dumps(reply["attachments"][0]["content"], ensure_ascii=False)
    assert "Wellbeing report: November 2026" in text
