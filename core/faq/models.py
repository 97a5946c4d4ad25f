"""FAQ tables: the knowledge base, the encodings of its texts, the questions asked (counters,
never personal-chat text), feedback votes, escalations to HR experts, and the registered experts
channel."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Column, Date, LargeBinary, Text
from sqlmodel import Field, SQLModel

from core.store.models import UTCDateTime

ASKED_IN_PERSONAL = "personal"
ANSWERED, UNSURE, PICKED = "answered", "unsure", "picked"
OPEN, EXPERT_ANSWERED = "open", "answered"


def _timestamp(**kwargs) -> Field:
    """A time the writer sets from the clock it was given: no wall-clock default, so a row
    written without one fails loudly instead of being stamped with another clock."""
    return Field(sa_column=Column(UTCDateTime(), **kwargs))


class FaqEntry(SQLModel, table=True):
    """One question and its answer; retired entries are kept (history) but never offered."""

    __tablename__ = "faq_entry"

    id: str = Field(primary_key=True, max_length=80, description="stable slug, e.g. rtw-vs-welcome")
    question: str = Field(sa_column=Column(Text, nullable=False))
    phrasings: list[str] = Field(
        default_factory=list,
        sa_column=Column(JSON, nullable=False),
        description="other ways people ask it",
    )
    answer: str = Field(sa_column=Column(Text, nullable=False), description="Teams markdown")
    tags: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    owner: str = Field(max_length=120, description="who keeps the answer right")
    last_reviewed: date = Field(sa_column=Column(Date, nullable=False))
    retired: bool = Field(default=False)
    revision: int = Field(
        default=1, description="bumped on every change, so every replica sees its index is stale"
    )
    created_at: datetime = _timestamp(nullable=False)
    updated_at: datetime = _timestamp(nullable=False)


class FaqVector(SQLModel, table=True):
    """The sentence encoder's reading of one FAQ text (a question, phrasing or answer sentence),
    stored once under a digest of the encoder and the text, so a restart, another replica or an
    edit that leaves the text alone never encodes it again (core/faq/meaning.py)."""

    __tablename__ = "faq_vector"

    digest: str = Field(primary_key=True, max_length=64, description="sha256 of encoder and text")
    vector: bytes = Field(
        sa_column=Column(LargeBinary, nullable=False), description="float32 numbers, little-endian"
    )


class FaqQuestion(SQLModel, table=True):
    """A question the FAQ was asked. Text is kept only for channel and group chat questions
    (already visible to everyone there); a personal-chat question is counted, never stored."""

    __tablename__ = "faq_question"

    id: int | None = Field(default=None, primary_key=True)
    tenant_id: str = Field(max_length=64)
    asked_at: datetime = _timestamp(nullable=False, index=True)
    kind: str = Field(max_length=16, description="personal, channel or groupChat")
    text: str | None = Field(default=None, sa_column=Column(Text))
    normalised: str | None = Field(
        default=None, max_length=300, description="grouping key for the most asked questions"
    )
    entry_id: str | None = Field(default=None, max_length=80, description="the closest entry")
    confidence: float = Field(default=0.0)
    outcome: str = Field(
        max_length=16, description="answered, unsure, or picked (chose one of the closest)"
    )
    escalated: bool = Field(default=False)


class FaqFeedback(SQLModel, table=True):
    """A Helpful / Not helpful vote: one per person per answer (a later press changes it)."""

    __tablename__ = "faq_feedback"

    question_id: int = Field(primary_key=True, foreign_key="faq_question.id", ondelete="CASCADE")
    voter: str = Field(
        primary_key=True,
        max_length=64,
        description="keyed hash of the person and the question: dedupes, cannot be joined up",
    )
    helpful: bool
    voted_at: datetime = _timestamp(nullable=False)


class FaqEscalation(SQLModel, table=True):
    """A question sent to the HR experts. Who asked is kept only until the answer is on its way
    back (then cleared); for a personal-chat question the experts never see who it was."""

    __tablename__ = "faq_escalation"

    id: int | None = Field(default=None, primary_key=True)
    question_id: int = Field(unique=True, foreign_key="faq_question.id", ondelete="CASCADE")
    tenant_id: str = Field(max_length=64)
    created_at: datetime = _timestamp(nullable=False)
    kind: str = Field(max_length=16, description="where it was asked: personal, channel, groupChat")
    question: str = Field(
        sa_column=Column(Text, nullable=False), description="as the asker sent it"
    )
    closest_entry_id: str | None = Field(default=None, max_length=80)
    status: str = Field(default=OPEN, max_length=16, index=True)
    asker_aad: str | None = Field(default=None, max_length=64)
    asker_teams_id: str | None = Field(default=None, max_length=256)
    asker_name: str | None = Field(default=None, max_length=256)
    reply_conversation_id: str | None = Field(default=None, max_length=512)
    reply_thread_id: str | None = Field(default=None, max_length=256)
    answer: str | None = Field(default=None, sa_column=Column(Text))
    answered_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    added_entry_id: str | None = Field(default=None, max_length=80)


class FaqExpertsChannel(SQLModel, table=True):
    """The HR experts channel registered from Teams (`register experts channel`), per tenant.
    roles.hr_experts_channel in config, when set, wins."""

    __tablename__ = "faq_experts_channel"

    tenant_id: str = Field(primary_key=True, max_length=64)
    conversation_id: str = Field(max_length=512)
    team_id: str | None = Field(default=None, max_length=512)
    registered_at: datetime = _timestamp(nullable=False)
