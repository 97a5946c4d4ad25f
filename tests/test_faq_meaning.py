"""The FAQ ranking by meaning as well as words (core/faq/meaning.py, core/faq/search.py), and the
encodings of the entries' texts kept in `faq_vector`: made once, read back after a restart, and
refreshed when an entry is added, edited or retired."""

from __future__ import annotations

import hashlib
from functools import cache

import numpy as np
import pytest
from sqlmodel import select

from core import db
from core.faq import store
from core.faq.config import FaqConfig
from core.faq.coverage import content_words, holds
from core.faq.io import EntryData, save_entries, seed_entries
from core.faq.meaning import SECOND_TEXT_WEIGHT, EntryTexts, MeaningIndex, digest, passages
from core.faq.models import FaqEntry, FaqVector
from core.faq.search import FaqIndex
from core.sentence_encoder import DIMENSIONS
from tests.support.clock import TEST_EPOCH


@cache
def _indexes() -> tuple[FaqIndex, FaqIndex]:
    """(words and meaning, words alone) over the shipped FAQ."""
    entries = seed_entries()
    return store.build_index(entries), store.build_index(entries, meaning=False)


def _all_words(entry_id: str) -> frozenset[str]:
    entry = next(e for e in seed_entries() if e.id == entry_id)
    return content_words(" ".join([entry.question, *entry.phrasings, *entry.tags, entry.answer]))


@pytest.mark.parametrize("question", ["spine trouble: what could we alter for them"])
def test_a_paraphrase_with_no_shared_words_finds_its_entry(question):
    assert not content_words(question) & _all_words("adjustments-msk")
    fused, words_alone = _indexes()
    assert words_alone.rank(question).top.entry_id != "adjustments-msk"
    assert fused.rank(question).top.entry_id == "adjustments-msk"


def test_meaning_does_not_outvote_a_question_in_the_entrys_own_words():
    fused, _ = _indexes()
    ranking = fused.rank("How long does it take to implement the policy?")
    assert ranking.top.entry_id == "implementation-timeline"
    assert ranking.confidence >= 0.9


@pytest.mark.parametrize(
    ("question", "toolkit_words"),
    [
        (
            "One of my nurses has chemo every three weeks for cancer, does that go down as "
            "sickness?",
            "Disability leave is a period of time off work which has been approved by a manager "
            "for a reason related to a colleagues' disability. For example, to attend a hospital "
            "appointment or to receive treatment.",
        ),
        (
            "Am I supposed to point my staff to support before they go off sick?",
            "Encourage early signposting to support resources.",
        ),
        (
            "I'm a team leader, not a therapist. How do I have a wellbeing conversation?",
            "Managers should think about the patients they care for and apply those transferable "
            "skills to have meaningful conversations with their teams.",
        ),
        (
            "Do our disciplinary and capability policies need rewording to fit the new policy?",
            "Shift the tone to reflect a coaching, supportive approach rather than a directive one.",
        ),
    ],
)
def test_a_line_managers_question_lands_on_an_entry_that_holds_the_fact(question, toolkit_words):
    """The entry a manager's everyday question lands on holds the toolkit's answer itself, not
    only a neighbouring one (coverage.holds: 60% of the quote's content words)."""
    fused, _ = _indexes()
    top = fused.rank(question).top
    entry = next(e for e in seed_entries() if e.id == top.entry_id)
    assert holds(toolkit_words, entry.answer), top.entry_id


@pytest.mark.parametrize(
    "question",
    [
        "What is the process for a formal grievance?",
        "How long does a disciplinary investigation take?",
        "What are the stages of the disciplinary process?",
        "Is study leave paid?",
        "How many study days do nurses get?",
    ],
)
def test_grievances_disciplinaries_and_study_leave_are_offered_not_answered(question):
    """Other HR policies own these subjects: the nearest entry (the informal stage, medical
    appointments) shares the question's other words, so it is offered below `answer_at`."""
    fused, _ = _indexes()
    assert fused.rank(question).confidence < FaqConfig().answer_at


def test_an_answer_is_read_sentence_by_sentence_and_item_by_item():
    answer = "Yes. The toolkit suggests:\n- **Debriefs** after training\n- HR peer review. Start it early."
    assert passages(answer) == [
        "The toolkit suggests:",
        "Debriefs after training",
        "HR peer review.",
        "Start it early.",
    ]  # "Yes." says too little on its own


def _fake_encoder(calls: list[str]):
    """Stands in for the sentence encoder: a fixed unit vector per text, and a record of what
    was encoded."""

    def encode(texts):
        calls.extend(texts)
        rows = []
        for text in texts:
            seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little")
            row = np.random.default_rng(seed).standard_normal(DIMENSIONS).astype(np.float32)
            rows.append(row / np.linalg.norm(row))
        return np.vstack(rows)

    return encode


@pytest.fixture
async def engine(database_url, monkeypatch):
    monkeypatch.setattr(store, "_ENCODED", {})  # nothing carried over from other tests
    engine = db.create_engine(database_url)
    await db.migrate(engine)
    yield engine
    await engine.dispose()


def _wanted(entries: list[EntryData]) -> set[str]:
    return {digest(text) for e in store.entry_texts(entries) for text in e.texts()}


async def _stored(sessions) -> set[str]:
    async with sessions() as session:
        return set((await session.exec(select(FaqVector.digest))).all())


async def _entries(sessions) -> list[EntryData]:
    async with sessions() as session:
        return [EntryData.from_row(row) for row in (await session.exec(select(FaqEntry))).all()]


async def test_encodings_are_made_once_stored_and_read_back_after_a_restart(engine, monkeypatch):
    calls: list[str] = []
    sessions = db.session_factory(engine)
    store.use_encoder(sessions, _fake_encoder(calls))
    knowledge = await store.knowledge(sessions, TEST_EPOCH)
    entries = await _entries(sessions)
    assert len(calls) == len(_wanted(entries)) > len(entries)
    assert await _stored(sessions) == _wanted(entries)
    assert knowledge.index.meaning is not None

    monkeypatch.setattr(store, "_ENCODED", {})  # a new process on the same database
    restarted = db.session_factory(engine)
    again: list[str] = []
    store.use_encoder(restarted, _fake_encoder(again))
    reread = await store.knowledge(restarted, TEST_EPOCH)
    assert again == []
    assert np.array_equal(reread.index.meaning.matrix, knowledge.index.meaning.matrix)


async def test_an_edit_an_addition_and_a_retirement_refresh_the_encodings(engine):
    calls: list[str] = []
    sessions = db.session_factory(engine)
    store.use_encoder(sessions, _fake_encoder(calls))
    await store.knowledge(sessions, TEST_EPOCH)
    entries = {e.id: e for e in await _entries(sessions)}

    calls.clear()
    timeline = entries["implementation-timeline"]
    old_answer = timeline.answer
    edited = timeline.model_copy(
        update={"answer": old_answer.replace("avoid over-tweaking", "avoid endless tweaking")}
    )
    added = EntryData(
        id="bank-staff-welcome-back",
        question="Do bank staff get a welcome back conversation?",
        phrasings=("Welcome back for bank workers",),
        answer="Yes. Everyone returning is welcomed back, bank staff too.",
        owner="HR policy team",
        last_reviewed="2026-12-06",
    )
    retired = entries["process-tree"].model_copy(update={"retired": True})
    async with sessions() as session:
        await save_entries(session, [edited, added, retired], TEST_EPOCH)
        await session.commit()
    knowledge = await store.knowledge(sessions, TEST_EPOCH)

    changed = [p for p in passages(edited.answer) if p not in passages(old_answer)]
    assert sorted(calls) == sorted(
        [*changed, added.question, *added.phrasings, *passages(added.answer)]
    )
    now = await _entries(sessions)
    assert await _stored(sessions) == _wanted(now)  # the old sentence and the retired entry's gone
    assert digest(entries["process-tree"].question) not in await _stored(sessions)
    assert "process-tree" not in knowledge.index.ids
    asked = _fake_encoder([])([added.question])[0]
    assert knowledge.index.rank(added.question, vector=asked).top.entry_id == added.id


def test_an_entry_whose_texts_agree_outranks_one_with_a_single_near_sentence():
    # Both entries have one text at the same cosine to the question; the first's other texts are
    # far from it, the second's are near too: agreement ranks the second higher, and an entry of
    # one text keeps its closeness.
    axes = np.eye(DIMENSIONS, dtype=np.float32)
    question = axes[0]
    near, half, far = axes[0] * 0.9 + axes[1] * 0.436, axes[0] * 0.6 + axes[2] * 0.8, axes[3]
    texts = {"q1": near, "a far answer": far, "q2": near, "a nearer answer": half, "q3": near}
    entries = [
        EntryTexts("lucky", ("q1",), "a far answer"),
        EntryTexts("agreed", ("q2",), "a nearer answer"),
        EntryTexts("alone", ("q3",), ""),
    ]
    index = MeaningIndex(entries, {digest(text): vector for text, vector in texts.items()})
    closeness, agreement = index.agreement(question)
    nearest = [max(float(v @ question) for v in vs) for vs in ([near, far], [near, half], [near])]
    assert np.allclose(closeness, nearest)
    assert np.allclose(closeness, 0.9)
    assert agreement[1] > agreement[0]
    assert agreement[1] == pytest.approx((1 - SECOND_TEXT_WEIGHT) * 0.9 + SECOND_TEXT_WEIGHT * 0.6)
    assert agreement[2] == pytest.approx(0.9)
