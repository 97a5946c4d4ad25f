"""Wellbeing data: check-in answers, keyed by pseudonym, free text encrypted (special-category
health data under UK GDPR). Nothing here is ever shown to anyone but the person themselves;
managers and reports read aggregates computed elsewhere."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from core.store.models import UTCDateTime


class CheckinAnswer(SQLModel, table=True):
    """One answered check-in. `card_id` makes a second submit of the same card a no-op."""

    __tablename__ = "checkin_answer"
    __table_args__ = (UniqueConstraint("pseudonym", "card_id", name="uq_checkin_answer_card"),)

    id: int | None = Field(default=None, primary_key=True)
    pseudonym: str = Field(index=True, max_length=64)
    cycle_id: int | None = Field(
        default=None, index=True, description="None: an on-demand check-in"
    )
    card_id: str = Field(max_length=64)
    mood: int = Field(description="option id of the mood scale, 1 (struggling) to 5 (great)")
    affecting: str | None = Field(default=None, max_length=32)
    pulse: str = Field(default="{}", sa_column=Column(Text, nullable=False, default="{}"))
    note: str | None = Field(default=None, sa_column=Column(Text), description="Fernet ciphertext")
    answered_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False, index=True))
