"""FAQ counters for the wellbeing lead's report: aggregates only, and the most asked channel
questions it could not answer. Personal-chat questions are counted, never shown as text."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from core.faq.models import (
    ANSWERED,
    ASKED_IN_PERSONAL,
    EXPERT_ANSWERED,
    PICKED,
    UNSURE,
    FaqEscalation,
    FaqFeedback,
    FaqQuestion,
)


@dataclass(frozen=True)
class UnansweredQuestion:
    text: str
    times: int


@dataclass(frozen=True)
class FaqReport:
    """What the FAQ did between `start` (inclusive) and `end` (exclusive)."""

    start: datetime
    end: datetime
    asked: int
    asked_in_channels: int
    asked_privately: int
    answered: int
    """The bot was sure enough to answer."""
    picked_suggestion: int
    """The bot was not sure, and the person chose one of the closest questions."""
    unsure: int
    escalated: int
    expert_answered: int
    helpful: int
    not_helpful: int
    top_unanswered: tuple[UnansweredQuestion, ...]
    """Channel and group chat questions the FAQ could not answer, most asked first."""

    @property
    def helpful_rate(self) -> float | None:
        votes = self.helpful + self.not_helpful
        return self.helpful / votes if votes else None


async def faq_report(
    session: AsyncSession,
    start: datetime,
    end: datetime,
    *,
    tenant_id: str | None = None,
    top: int = 10,
) -> FaqReport:
    """Aggregates for questions asked in [start, end). A channel question counts as unanswered
    when the bot was unsure and nobody picked a suggestion, or when every vote on it said "not
    helpful"; either way, not once an HR expert has answered it."""
    where = [FaqQuestion.asked_at >= start, FaqQuestion.asked_at < end]
    if tenant_id is not None:
        where.append(FaqQuestion.tenant_id == tenant_id)
    questions = (await session.exec(select(FaqQuestion).where(*where))).all()
    ids = [q.id for q in questions]
    votes = (
        (await session.exec(select(FaqFeedback).where(FaqFeedback.question_id.in_(ids)))).all()
        if ids
        else []
    )
    escalations = (
        (await session.exec(select(FaqEscalation).where(FaqEscalation.question_id.in_(ids)))).all()
        if ids
        else []
    )
    expert_answered = {e.question_id for e in escalations if e.status == EXPERT_ANSWERED}
    helpful_by_question: Counter[int] = Counter()
    unhelpful_by_question: Counter[int] = Counter()
    for vote in votes:
        (helpful_by_question if vote.helpful else unhelpful_by_question)[vote.question_id] += 1

    unanswered: Counter[str] = Counter()
    shown: dict[str, str] = {}
    for question in questions:
        if question.kind == ASKED_IN_PERSONAL or not question.normalised:
            continue
        if question.id in expert_answered:
            continue
        disliked = unhelpful_by_question[question.id] and not helpful_by_question[question.id]
        if question.outcome == UNSURE or disliked:
            unanswered[question.normalised] += 1
            shown[question.normalised] = question.text or question.normalised
    top_unanswered = tuple(
        UnansweredQuestion(shown[key], times)
        for key, times in sorted(unanswered.items(), key=lambda kv: (-kv[1], kv[0]))[:top]
    )
    return FaqReport(
        start=start,
        end=end,
        asked=len(questions),
        asked_in_channels=sum(q.kind != ASKED_IN_PERSONAL for q in questions),
        asked_privately=sum(q.kind == ASKED_IN_PERSONAL for q in questions),
        answered=sum(q.outcome == ANSWERED for q in questions),
        picked_suggestion=sum(q.outcome == PICKED for q in questions),
        unsure=sum(q.outcome == UNSURE for q in questions),
        escalated=len(escalations),
        expert_answered=len(expert_answered),
        helpful=sum(v.helpful for v in votes),
        not_helpful=sum(not v.helpful for v in votes),
        top_unanswered=top_unanswered,
    )
