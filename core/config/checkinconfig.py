"""The check-in as data: questions with stable option ids, the weekly cadence, and the calendar
of Wellbeing Wednesday notes. A good default ships; an organisation may reword or reshape it."""

from __future__ import annotations

import datetime as dt
from datetime import date
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Weekday = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
WEEKDAYS: tuple[str, ...] = Weekday.__args__  # type: ignore[attr-defined]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Option(_Strict):
    """One answer. The id is stored; the label can change without breaking history."""

    id: str = Field(pattern=r"^[a-z0-9_]+$", description="Stable id stored with answers.")
    label: str = Field(description="What people read.")
    emoji: str | None = Field(None, description="Decoration only: the label carries the meaning.")


def _unique_ids(options: list[Option]) -> list[Option]:
    ids = [option.id for option in options]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise ValueError(f"option ids used twice: {duplicates}")
    return options


class MoodQuestion(_Strict):
    """The one required question: how the person feels, on a five-point scale."""

    prompt: str = "How are you feeling this week?"
    options: list[Option] = Field(
        default_factory=lambda: [
            Option(id="1", label="Struggling", emoji="😣"),
            Option(id="2", label="Low", emoji="🙁"),
            Option(id="3", label="Okay", emoji="😐"),
            Option(id="4", label="Good", emoji="🙂"),
            Option(id="5", label="Great", emoji="😄"),
        ],
        description="Exactly five points, ids '1' (lowest) to '5' (highest).",
    )

    @field_validator("options")
    @classmethod
    def _five_points(cls, options: list[Option]) -> list[Option]:
        if [o.id for o in options] != ["1", "2", "3", "4", "5"]:
            raise ValueError("the mood scale needs five options with ids '1' to '5', lowest first")
        return options


class AffectingQuestion(_Strict):
    """What is affecting the person most: the categories the Leeds coordinator pilot recorded."""

    prompt: str = "What's affecting how you feel the most?"
    options: list[Option] = Field(
        default_factory=lambda: [
            Option(id="work", label="Work"),
            Option(id="personal", label="Personal life"),
            Option(id="health", label="Health"),
            Option(id="mix", label="A mix of things"),
            Option(id="nothing", label="Nothing in particular"),
        ]
    )

    @field_validator("options")
    @classmethod
    def _unique_options(cls, options: list[Option]) -> list[Option]:
        return _unique_ids(options)


class PulseItem(_Strict):
    """A statement on one HSE management standard (demands, control, support, …)."""

    id: str = Field(pattern=r"^[a-z0-9_]+$")
    statement: str


class PulseQuestions(_Strict):
    """Optional statements people can agree or disagree with; a few each week, in rotation."""

    prompt: str = "A few optional questions about work. Skip any you like."
    scale: list[Option] = Field(
        default_factory=lambda: [
            Option(id="agree", label="Agree"),
            Option(id="unsure", label="Not sure"),
            Option(id="disagree", label="Disagree"),
        ]
    )
    items: list[PulseItem] = Field(
        default_factory=lambda: [
            PulseItem(id="demands", statement="I can manage the demands of my job."),
            PulseItem(id="control", statement="I have a say in how I do my work."),
            PulseItem(
                id="support", statement="I get the support I need from my manager and colleagues."
            ),
            PulseItem(id="relationships", statement="People I work with treat each other well."),
            PulseItem(id="role", statement="I know what's expected of me."),
            PulseItem(id="change", statement="I'm kept informed about changes that affect me."),
        ]
    )
    items_per_week: int = Field(
        3, ge=0, description="How many items each check-in shows (0: none)."
    )

    @field_validator("scale")
    @classmethod
    def _unique_scale(cls, options: list[Option]) -> list[Option]:
        return _unique_ids(options)

    @field_validator("items")
    @classmethod
    def _unique_items(cls, items: list[PulseItem]) -> list[PulseItem]:
        ids = [item.id for item in items]
        if len(set(ids)) != len(ids):
            raise ValueError("pulse item ids must be unique")
        return items

    def for_week(self, iso_week: int) -> list[PulseItem]:
        """The items shown in a given week, rotating so each comes round regularly."""
        if not self.items or self.items_per_week == 0:
            return []
        count = min(self.items_per_week, len(self.items))
        start = (iso_week * count) % len(self.items)
        return [self.items[(start + i) % len(self.items)] for i in range(count)]


class NoteQuestion(_Strict):
    """The optional free text, with who can read it said plainly."""

    prompt: str = "Anything you'd like to add?"
    privacy: str = "Only you can read this: not your manager, not HR, not the support team."


class CheckinQuestions(_Strict):
    """The whole check-in; answering it should take under a minute."""

    mood: MoodQuestion = Field(default_factory=MoodQuestion)
    affecting: AffectingQuestion = Field(default_factory=AffectingQuestion)
    pulse: PulseQuestions = Field(default_factory=PulseQuestions)
    note: NoteQuestion | None = Field(
        default_factory=NoteQuestion, description="null: no free text"
    )


class Schedule(_Strict):
    """When check-ins go out: by default Wednesday 10:00 in each person's own time zone."""

    weekday: Weekday = "wednesday"
    time: dt.time = Field(dt.time(10, 0), description="Local time of delivery.")
    use_person_timezone: bool = Field(
        True,
        description="Deliver at the person's own local time when Teams told us their time zone.",
    )
    quiet_hours_start: dt.time | None = Field(
        dt.time(20, 0), description="No delivery from this time…"
    )
    quiet_hours_end: dt.time | None = Field(
        dt.time(8, 0), description="…until this time (next day if earlier)."
    )
    non_working_days: list[date] = Field(
        default_factory=list,
        description="Dates with no delivery (bank holidays); moved to the next day.",
    )
    reminder_after_hours: int | None = Field(
        24, ge=1, description="One gentle reminder to people who have not answered (null: none)."
    )
    close_after_days: int = Field(
        6, ge=1, le=6, description="Answers count for the cycle until then."
    )
    stall_notice_minutes: int = Field(
        30,
        ge=5,
        description="Tell the wellbeing leads when nothing was sent for this long while work waits.",
    )

    @model_validator(mode="after")
    def _quiet_hours_pair(self) -> Schedule:
        if (self.quiet_hours_start is None) != (self.quiet_hours_end is None):
            raise ValueError("set both quiet_hours_start and quiet_hours_end, or neither")
        if (
            self.reminder_after_hours is not None
            and self.reminder_after_hours >= self.close_after_days * 24
        ):
            raise ValueError("the reminder must come before the cycle closes")
        return self


class CalendarNote(_Strict):
    """One week's short Wellbeing Wednesday note: a tip, an event or a service reminder."""

    week: int = Field(ge=1, le=53, description="ISO week number.")
    kind: Literal["tip", "event", "service"]
    title: str = Field(max_length=80)
    body: str = Field(max_length=400)


@lru_cache(maxsize=1)
def bundled_calendar() -> tuple[CalendarNote, ...]:
    """The year of example notes shipped with the bot (read once: it is asked per person)."""
    path = Path(str(resources.files("core") / "data" / "wellbeing_wednesday.yaml"))
    notes = yaml.safe_load(path.read_text(encoding="utf-8"))["notes"]
    return tuple(CalendarNote.model_validate(note) for note in notes)


class CheckinConfig(_Strict):
    """Check-in questions, cadence and calendar."""

    questions: CheckinQuestions = Field(default_factory=CheckinQuestions)
    schedule: Schedule = Field(default_factory=Schedule)
    calendar: list[CalendarNote] | None = Field(
        None, description="Weekly notes; null uses the bundled year of notes, [] sends none."
    )

    def notes(self) -> list[CalendarNote]:
        return list(bundled_calendar()) if self.calendar is None else list(self.calendar)

    def note_for(self, iso_week: int) -> CalendarNote | None:
        return next((note for note in self.notes() if note.week == iso_week), None)
