"""The FAQ's database side: the ranked index kept in step with the entries table (with the
encodings of the entries' texts stored once, by digest, in `faq_vector`), questions and votes
recorded for counting, escalations claimed exactly once, and the experts channel."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
import weakref
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
from sqlalchemy import delete, func, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from core.db import upsert_insert
from core.faq.io import EntryData, seed_if_empty
from core.faq.meaning import (
    Encode,
    EntryTexts,
    MeaningIndex,
    digest,
    encode_with_shipped,
    missing_vectors,
)
from core.faq.models import (
    ASKED_IN_PERSONAL,
    EXPERT_ANSWERED,
    OPEN,
    PICKED,
    UNSURE,
    FaqEntry,
    FaqEscalation,
    FaqExpertsChannel,
    FaqFeedback,
    FaqQuestion,
    FaqVector,
)
from core.faq.search import Document, FaqIndex, normalise

log = logging.getLogger(__name__)

INDEX_IN_THREAD_ABOVE = 500
"""Entries above which the index is built in a worker thread so the event loop keeps serving."""

VECTOR_BATCH = 500
"""Digests read, written or deleted per statement (well inside every backend's parameter limit)."""

KEPT_IN_PROCESS = 50_000
"""Encodings kept in memory across rebuilds (about 2 KB each); beyond it, only the current ones."""

_ENCODED: dict[str, np.ndarray] = {}
"""Encodings by digest already read or made in this process: a rebuild after one edit touches
the database and the encoder only for the texts that changed."""


@dataclass(frozen=True)
class Knowledge:
    """The live entries and their index, as of one version of the table."""

    version: tuple[int, int]
    index: FaqIndex
    entries: dict[str, EntryData]


@dataclass
class _Slot:
    knowledge: Knowledge | None = None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    encode: Encode = encode_with_shipped


# One slot per database (session factory), so several apps in one process (tests) never share;
# weak keys, so a stopped app's index goes with it.
_SLOTS: weakref.WeakKeyDictionary[async_sessionmaker, _Slot] = weakref.WeakKeyDictionary()


def entry_texts(entries: list[EntryData]) -> list[EntryTexts]:
    """What the encoder reads of each live entry, in index order."""
    return [
        EntryTexts(e.id, (e.question, *e.phrasings), e.answer) for e in entries if not e.retired
    ]


def build_index(
    entries: list[EntryData],
    vectors: Mapping[str, np.ndarray] | None = None,
    *,
    encode: Encode = encode_with_shipped,
    meaning: bool = True,
) -> FaqIndex:
    """The index over the live entries. `vectors` are known encodings by digest; texts without
    one are encoded here. `meaning=False` ranks by words alone."""
    live = [e for e in entries if not e.retired]
    documents = [Document(e.id, e.question, e.phrasings, e.tags, e.answer) for e in live]
    if not meaning:
        return FaqIndex(documents)
    texts = entry_texts(live)
    known = dict(vectors or {})
    known.update(missing_vectors(texts, known, encode))
    return FaqIndex(documents, meaning=MeaningIndex(texts, known))


async def _version(session: AsyncSession) -> tuple[int, int]:
    """(entries, sum of revisions): changes with every add, edit and retire, on any replica."""
    row = (
        await session.exec(select(func.count(), func.coalesce(func.sum(FaqEntry.revision), 0)))
    ).one()
    return int(row[0]), int(row[1])


async def knowledge(sessions: async_sessionmaker[AsyncSession], now: datetime) -> Knowledge:
    """The current index: one cheap version query per question, a rebuild only after a change.
    An empty table is seeded from the shipped FAQ first."""
    slot = _SLOTS.setdefault(sessions, _Slot())
    async with sessions() as session:
        version = await _version(session)
        if version[0] == 0:
            added = await seed_if_empty(session, now)
            await session.commit()
            if added:
                log.info("seeded the FAQ with %d entries", added)
            version = await _version(session)
    if slot.knowledge is not None and slot.knowledge.version == version:
        return slot.knowledge
    async with slot.lock:
        if slot.knowledge is not None and slot.knowledge.version == version:
            return slot.knowledge
        async with sessions() as session:
            rows = (await session.exec(select(FaqEntry))).all()
            version = await _version(session)
        entries = [EntryData.from_row(row) for row in rows]
        vectors = await _vectors(sessions, entry_texts(entries), slot.encode)
        if len(entries) > INDEX_IN_THREAD_ABOVE:
            index = await asyncio.to_thread(build_index, entries, vectors)
        else:
            index = build_index(entries, vectors)
        slot.knowledge = Knowledge(version, index, {e.id: e for e in entries})
        log.info("built the FAQ index over %d live entries", len(index))
        return slot.knowledge


def use_encoder(sessions: async_sessionmaker[AsyncSession], encode: Encode) -> None:
    """Encode this database's FAQ texts with `encode` (tests count or replace the encoder)."""
    _SLOTS.setdefault(sessions, _Slot()).encode = encode


async def _vectors(
    sessions: async_sessionmaker[AsyncSession], texts: list[EntryTexts], encode: Encode
) -> dict[str, np.ndarray]:
    """The encodings of the live entries' texts: from this process, else from `faq_vector`,
    else encoded now (in a worker thread) and stored. Stored ones no live entry uses any more
    are deleted, so an edit or a retirement leaves nothing stale behind."""
    wanted = {digest(text) for entry in texts for text in entry.texts()}
    known = {key: _ENCODED[key] for key in wanted if key in _ENCODED}
    async with sessions() as session:
        stored = set((await session.exec(select(FaqVector.digest))).all())
        unread = sorted((wanted & stored) - known.keys())
        for first in range(0, len(unread), VECTOR_BATCH):
            batch = unread[first : first + VECTOR_BATCH]
            rows = await session.exec(select(FaqVector).where(FaqVector.digest.in_(batch)))
            for row in rows.all():
                known[row.digest] = np.frombuffer(row.vector, dtype="<f4")
        fresh = {}
        if wanted - known.keys():
            fresh = await asyncio.to_thread(_encode_and_keep, texts, known, encode)
            log.info("encoded %d FAQ texts", len(fresh))
        known.update(fresh)
        await _store_vectors(session, {key: known[key] for key in wanted - stored})
        stale = sorted(stored - wanted)
        for first in range(0, len(stale), VECTOR_BATCH):
            await session.exec(
                delete(FaqVector).where(FaqVector.digest.in_(stale[first : first + VECTOR_BATCH]))
            )
        await session.commit()
    if len(_ENCODED) + len(known) > KEPT_IN_PROCESS:
        _ENCODED.clear()
    _ENCODED.update(known)
    return known


def _encode_and_keep(
    texts: list[EntryTexts], known: Mapping[str, np.ndarray], encode: Encode
) -> dict[str, np.ndarray]:
    """`missing_vectors`, kept in this process as soon as they are made (in the worker thread): a
    turn that gives up waiting (a fresh database on a busy machine has over a thousand texts to
    encode) does not throw the work away, so the next question finds them made."""
    fresh = missing_vectors(texts, known, encode)
    if len(_ENCODED) + len(fresh) <= KEPT_IN_PROCESS:
        _ENCODED.update(fresh)
    return fresh


async def _store_vectors(session: AsyncSession, vectors: dict[str, np.ndarray]) -> None:
    """Insert new encodings; one another replica stored first is left as it is."""
    items = [
        {"digest": key, "vector": np.asarray(vector, dtype="<f4").tobytes()}
        for key, vector in vectors.items()
    ]
    for first in range(0, len(items), VECTOR_BATCH):
        await session.exec(
            upsert_insert(session, FaqVector)
            .values(items[first : first + VECTOR_BATCH])
            .on_conflict_do_nothing(index_elements=["digest"])
        )


def grouping_key(text: str) -> str:
    """How repeated channel questions are grouped in reports: normalised words, at most 300."""
    return normalise(text)[:300]


async def record_question(
    session: AsyncSession,
    *,
    tenant_id: str,
    kind: str,
    text: str,
    entry_id: str | None,
    confidence: float,
    outcome: str,
    now: datetime,
) -> FaqQuestion:
    """Count a question. Its words are kept only when it was asked in a channel or group chat."""
    shared = kind != ASKED_IN_PERSONAL
    row = FaqQuestion(
        tenant_id=tenant_id,
        asked_at=now,
        kind=kind,
        text=text if shared else None,
        normalised=grouping_key(text) if shared else None,
        entry_id=entry_id,
        confidence=round(confidence, 4),
        outcome=outcome,
    )
    session.add(row)
    await session.flush()
    return row


async def asked_question(
    session: AsyncSession, question_id: int, tenant_id: str
) -> FaqQuestion | None:
    """A recorded question, only when it was asked in this tenant (a card from elsewhere or an
    unknown id gets None)."""
    row = await session.get(FaqQuestion, question_id)
    return row if row is not None and row.tenant_id == tenant_id else None


async def record_pick(
    session: AsyncSession, question_id: int, tenant_id: str, entry_id: str
) -> None:
    """A question the FAQ was unsure of was answered by choosing one of the closest entries."""
    row = await asked_question(session, question_id, tenant_id)
    if row is not None and row.outcome == UNSURE:
        row.outcome, row.entry_id = PICKED, entry_id
        session.add(row)


def voter_key(pseudonym: str, question_id: int) -> str:
    """One vote per person per answer without storing who: a hash of their pseudonym and the
    question (different for every question, so votes cannot be joined up)."""
    return hashlib.sha256(f"{question_id}:{pseudonym}".encode()).hexdigest()[:64]


async def record_vote(
    session: AsyncSession, question_id: int, voter: str, helpful: bool, now: datetime
) -> None:
    row = await session.get(FaqFeedback, (question_id, voter))
    if row is None:
        row = FaqFeedback(question_id=question_id, voter=voter, helpful=helpful, voted_at=now)
    row.helpful, row.voted_at = helpful, now
    session.add(row)


async def experts_channel(
    session: AsyncSession, tenant_id: str, configured: str | None
) -> str | None:
    """The HR experts channel's conversation id: config when set, else the one registered."""
    if configured:
        return configured.split(";messageid=")[0]
    row = await session.get(FaqExpertsChannel, tenant_id)
    return row.conversation_id if row else None


async def register_experts_channel(
    session: AsyncSession, tenant_id: str, conversation_id: str, team_id: str | None, now: datetime
) -> None:
    row = await session.get(FaqExpertsChannel, tenant_id) or FaqExpertsChannel(
        tenant_id=tenant_id, conversation_id=conversation_id
    )
    row.conversation_id, row.team_id, row.registered_at = conversation_id, team_id, now
    session.add(row)


async def escalation_of(session: AsyncSession, question_id: int) -> FaqEscalation | None:
    """The escalation already made from a question, if any (one per question)."""
    rows = await session.exec(select(FaqEscalation).where(FaqEscalation.question_id == question_id))
    return rows.first()


async def escalate(
    session: AsyncSession,
    question: FaqQuestion,
    *,
    body: str,
    asker_aad: str | None,
    asker_teams_id: str | None,
    asker_name: str | None,
    reply_conversation_id: str | None,
    reply_thread_id: str | None,
    now: datetime,
) -> FaqEscalation | None:
    """Open an escalation of `question` and mark the question escalated; None, with the session
    rolled back, when another press of "Ask an HR expert" got there first."""
    escalation = FaqEscalation(
        question_id=question.id,
        tenant_id=question.tenant_id,
        created_at=now,
        kind=question.kind,
        question=body,
        closest_entry_id=question.entry_id,
        asker_aad=asker_aad,
        asker_teams_id=asker_teams_id,
        asker_name=asker_name,
        reply_conversation_id=reply_conversation_id,
        reply_thread_id=reply_thread_id,
    )
    question.escalated = True
    session.add_all([escalation, question])
    try:
        await session.flush()
    except IntegrityError:
        await session.rollback()
        return None
    return escalation


async def claim_escalation(
    session: AsyncSession, escalation_id: int, tenant_id: str, answer: str, now: datetime
) -> FaqEscalation | None:
    """Mark an open escalation answered; None, with the session rolled back, when it is not open
    (answered already, on any replica, or unknown). Only one of two experts pressing Send at
    once gets it."""
    result = await session.exec(
        update(FaqEscalation)
        .where(
            FaqEscalation.id == escalation_id,
            FaqEscalation.tenant_id == tenant_id,
            FaqEscalation.status == OPEN,
        )
        .values(status=EXPERT_ANSWERED, answer=answer, answered_at=now)
    )
    if result.rowcount != 1:
        await session.rollback()
        return None
    row = await session.get(FaqEscalation, escalation_id)
    await session.refresh(row)
    return row


PRIVATE_QUESTION_REMOVED = "(asked in a private chat; the words were removed once answered)"


def forget_asker(row: FaqEscalation) -> None:
    """Once the answer is queued, who asked is no longer needed here, and a question sent from a
    personal chat is not kept either (the experts channel still shows it)."""
    row.asker_aad = row.asker_teams_id = row.asker_name = None
    row.reply_conversation_id = row.reply_thread_id = None
    if row.kind == ASKED_IN_PERSONAL:
        row.question = PRIVATE_QUESTION_REMOVED


async def open_escalations(
    session: AsyncSession, tenant_id: str, limit: int = 20
) -> list[FaqEscalation]:
    rows = await session.exec(
        select(FaqEscalation)
        .where(FaqEscalation.tenant_id == tenant_id, FaqEscalation.status == OPEN)
        .order_by(FaqEscalation.created_at, FaqEscalation.id)
        .limit(limit)
    )
    return list(rows.all())


async def entry(session: AsyncSession, entry_id: str) -> EntryData | None:
    """One entry as stored now, retired or not (None for an unknown or empty id)."""
    row = await session.get(FaqEntry, entry_id) if entry_id else None
    return EntryData.from_row(row) if row is not None else None


async def set_retired(
    session: AsyncSession, entry_id: str, retired: bool, now: datetime
) -> str | None:
    """Retire an entry or bring it back (a new revision, so every replica rebuilds its index);
    its question, or None when there is no such entry."""
    row = await session.get(FaqEntry, entry_id)
    if row is None:
        return None
    if row.retired != retired:
        row.retired = retired
        row.revision += 1
        row.updated_at = now
        session.add(row)
    return row.question


_SLUG = re.compile(r"[^a-z0-9]+")
_SLUG_STOP = frozenset(
    {"a", "an", "the", "is", "are", "do", "does", "what", "how", "can", "i", "we"}
)


async def free_entry_id(session: AsyncSession, question: str) -> str:
    """A readable id from the question that no entry uses yet: 'can-staff-...' -> 'staff-...'."""
    words = [w for w in _SLUG.sub(" ", question.lower()).split() if w not in _SLUG_STOP]
    base = "-".join(words[:6])[:70].strip("-") or "entry"
    candidate, number = base, 1
    while await session.get(FaqEntry, candidate) is not None:
        number += 1
        candidate = f"{base}-{number}"
    return candidate
