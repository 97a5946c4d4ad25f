"""The wellbeing lead's report on paper: one self-contained HTML file (charts embedded as PNG
images drawn with matplotlib), and a CSV file for every table. Figures come only from
core/reporting/leadreport.py, which has already applied the privacy rules; this module only draws them."""

from __future__ import annotations

import base64
import csv
import io
from datetime import date
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from core.privacy.aggregates import MOOD_GROUPS, SMALL_CELL, pool
from core.reporting.leadreport import CORRELATION_NOTE, LeadReport, month_label

TEMPLATES = Path(__file__).resolve().parent / "templates"
COLOURS = {"struggling or low": "#d95f02", "okay": "#bdbdbd", "good or great": "#1b9e77"}
INK, SOFT = "#2b2b2b", "#6b6b6b"


def _figure(width: float, height: float):
    """A matplotlib figure on the Agg canvas (no pyplot: safe off the main thread)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), dpi=110)
    FigureCanvasAgg(figure)
    return figure


def _style(axes) -> None:
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    axes.tick_params(colors=SOFT, labelsize=9)
    for side in ("left", "bottom"):
        axes.spines[side].set_color("#cccccc")
    axes.grid(axis="y", color="#eeeeee")
    axes.set_axisbelow(True)


def _png(figure) -> str:
    buffer = io.BytesIO()
    figure.tight_layout()
    figure.savefig(buffer, format="png", facecolor="white")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _short(day: date) -> str:
    return f"{day:%-d %b}"


def mood_chart(report: LeadReport) -> str | None:
    """Each week's mood as three stacked shares; hidden weeks are marked, never drawn."""
    if not report.weeks:
        return None
    figure = _figure(8, 3.2)
    axes = figure.add_subplot()
    labels = [_short(w.day) for w in report.weeks]
    bottoms = [0.0] * len(report.weeks)
    for label, moods in MOOD_GROUPS:
        values = []
        for week in report.weeks:
            f = week.figures
            values.append(
                100 * sum(f.mood[m - 1] for m in moods) / f.respondents if f is not None else 0
            )
        axes.bar(labels, values, bottom=bottoms, color=COLOURS[label], label=label.capitalize())
        bottoms = [b + v for b, v in zip(bottoms, values, strict=True)]
    for i, week in enumerate(report.weeks):
        if week.figures is None:
            axes.text(i, 50, "hidden", ha="center", va="center", rotation=90, color=SOFT)
    axes.set_ylim(0, 100)
    axes.set_ylabel("% of answers", color=SOFT)
    axes.legend(loc="upper center", bbox_to_anchor=(0.5, -0.15), ncol=3, frameon=False, fontsize=9)
    _style(axes)
    return _png(figure)


def response_chart(report: LeadReport) -> str | None:
    """The share of people who answered, week by week."""
    weeks = [w for w in report.weekly_process if w["rate"] is not None]
    if not weeks:
        return None
    figure = _figure(8, 2.6)
    axes = figure.add_subplot()
    axes.plot(
        [_short(w["day"]) for w in weeks],
        [w["rate"] for w in weeks],
        marker="o",
        color="#386cb0",
    )
    axes.set_ylim(0, 100)
    axes.set_ylabel("% who answered", color=SOFT)
    _style(axes)
    return _png(figure)


def themes_chart(report: LeadReport) -> str | None:
    """What people said was affecting them over the whole period (small counts left out)."""

    pooled = pool([w.figures for w in report.weeks if w.figures is not None])
    if pooled is None:
        return None
    bars = [
        (100 * count / pooled.respondents, report.affecting_labels.get(option, option))
        for option, count in pooled.affecting
        if count >= SMALL_CELL
    ]
    if not bars:
        return None
    bars.sort()
    figure = _figure(8, 0.5 + 0.45 * len(bars))
    axes = figure.add_subplot()
    axes.barh([label for _, label in bars], [value for value, _ in bars], color="#7570b3")
    for i, (value, _) in enumerate(bars):
        axes.text(value + 1, i, f"{round(value)}%", va="center", fontsize=9, color=INK)
    axes.set_xlim(0, 100)
    axes.set_xlabel("% of answers", color=SOFT)
    _style(axes)
    axes.grid(axis="y", visible=False)
    return _png(figure)


def kpi_chart(report: LeadReport) -> str | None:
    """The bot's own monthly figures above HR's, month by month, on separate scales."""
    if not report.has_kpi:
        return None
    months = [m["month"] for m in report.kpi_months]
    labels = [month_label(m)[:3] + " " + m[2:4] for m in months]
    low = {}
    for key, figures in report.months:
        if figures is not None:
            low[key] = 100 * sum(figures.mood[:2]) / figures.respondents
    figure = _figure(8, 5.2)
    top, bottom = figure.subplots(2, 1, sharex=True)
    values = [low.get(m) for m in months]
    top.plot(labels, values, marker="o", color=COLOURS["struggling or low"])
    top.set_title(
        "From the check-ins: struggling or low (% of answers)", loc="left", fontsize=10, color=INK
    )
    top.set_ylim(0, max([v for v in values if v is not None] + [10]) * 1.25)
    highest = 0.0
    for name, colour, label in (
        ("sickness", "#e7298a", "Sickness absence rate"),
        ("turnover", "#66a61e", "Turnover"),
    ):
        series = [m[name] for m in report.kpi_months]
        highest = max([highest, *(v for v in series if v is not None)])
        bottom.plot(labels, series, marker="s", color=colour, label=label)
    bottom.set_title("From HR's figures (%)", loc="left", fontsize=10, color=INK)
    bottom.set_ylim(0, max(highest, 1) * 1.35)
    bottom.legend(frameon=False, fontsize=9, loc="upper left", ncol=2)
    for axes in (top, bottom):
        _style(axes)
        axes.set_ylabel("%", color=SOFT)
        axes.margins(x=0.08)
    return _png(figure)


def _environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=select_autoescape(["html", "j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render_html(report: LeadReport) -> str:
    """The whole report as one HTML document with its charts inside."""
    sections: dict[str, list[Any]] = {}
    for table in report.tables:
        sections.setdefault(table.section, []).append(table)
    return (
        _environment()
        .get_template("lead_report.html.j2")
        .render(
            report=report,
            tables={t.name: t for t in report.tables},
            charts={
                "mood": mood_chart(report),
                "response": response_chart(report),
                "themes": themes_chart(report),
                "kpi": kpi_chart(report),
            },
            correlation_note=CORRELATION_NOTE,
        )
    )


def write_csv(report: LeadReport, directory: Path) -> list[Path]:
    """Every table as NAME.csv in `directory`."""
    written = []
    for table in report.tables:
        path = directory / f"{table.name}.csv"
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(table.columns)
            writer.writerows(table.rows)
        written.append(path)
    return written


def write_report(report: LeadReport, directory: Path) -> list[Path]:
    """report.html and the CSV files, in `directory` (created when missing)."""
    directory.mkdir(parents=True, exist_ok=True)
    html = directory / "report.html"
    html.write_text(render_html(report), encoding="utf-8")
    return [html, *write_csv(report, directory)]
