"""The intent model behind the understanding step (dialogs/intent_model.py): it loads, it fits
the command table and the examples it was fitted on, and anything else is refused at start
with the command that refits it, never on someone's message."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from dialogs import intent_model, understanding
from dialogs.commands import Command, CommandTable
from dialogs.intent_model import (
    REFIT,
    IntentModelError,
    examples_for,
    intents_of,
    load,
    save,
    shipped,
)
from dialogs.router import CORE_COMMANDS, default_commands
from dialogs.understanding import Understanding


async def _nothing(_turn, _argument):
    return []


def test_the_shipped_model_fits_the_command_table_and_its_examples():
    table = default_commands()
    model = shipped()
    model.check(table, examples_for(table))
    assert list(model.intents) == intents_of(table)
    assert 0 < model.thresholds.ask <= model.thresholds.act <= 1
    assert model.thresholds.act <= model.thresholds.act_changing <= 1


def test_every_intent_has_examples_in_several_voices():
    by_intent: dict[str, set[str]] = {}
    for example in examples_for(default_commands()):
        by_intent.setdefault(example.intent, set()).add(example.voice)
    assert set(by_intent) == set(intents_of(default_commands()))
    assert all(len(voices) >= 3 for voices in by_intent.values()), by_intent


def test_a_command_added_without_refitting_is_refused_with_how_to_refit():
    table = CommandTable(
        [*CORE_COMMANDS, Command("rota", "see the rota", _nothing, examples=("show the rota",))]
    )
    with pytest.raises(IntentModelError, match="new: \\['rota'\\]") as refused:
        Understanding(table)
    assert REFIT in str(refused.value)


def test_examples_changed_without_refitting_are_refused():
    table = default_commands()
    stale = dataclasses.replace(shipped(), examples_digest="0" * 16)
    with pytest.raises(IntentModelError, match="other examples"):
        Understanding(table, stale)


def test_a_voice_file_naming_an_unknown_intent_is_refused(tmp_path: Path):
    (tmp_path / "plain.yaml").write_text("rota:\n  - show me the rota\n")
    with pytest.raises(IntentModelError, match="rota"):
        examples_for(default_commands(), tmp_path)


def test_a_voice_file_that_is_not_intent_to_texts_is_refused(tmp_path: Path):
    (tmp_path / "plain.yaml").write_text("help:\n  - yes\n  - no\n")  # YAML reads booleans
    with pytest.raises(IntentModelError, match="list of texts"):
        examples_for(default_commands(), tmp_path)


def test_saved_and_loaded_it_reads_the_same(tmp_path: Path):
    path = tmp_path / "model.npz"
    save(path, shipped(), {"test": True})
    again = load(path)
    vector = np.ones(512) / np.sqrt(512)
    assert np.allclose(
        again.probabilities("pause for a fortnight", False, vector),
        shipped().probabilities("pause for a fortnight", False, vector),
        atol=1e-6,
    )
    assert again.thresholds == shipped().thresholds


def test_a_damaged_or_foreign_file_is_refused(tmp_path: Path):
    damaged = tmp_path / "damaged.npz"
    damaged.write_bytes(b"not a model")
    with pytest.raises(IntentModelError, match="not a readable intent model"):
        load(damaged)
    foreign = tmp_path / "foreign.npz"
    np.savez(foreign, format=np.array(99))
    with pytest.raises(IntentModelError, match="format 99"):
        load(foreign)


def test_weights_of_the_wrong_shape_are_refused():
    model = shipped()
    with pytest.raises(IntentModelError, match="do not fit"):
        dataclasses.replace(model, bias=np.zeros(len(model.intents) + 1))
    with pytest.raises(IntentModelError, match="do not fit"):
        dataclasses.replace(model, temperature=0.0)


def test_probabilities_are_a_distribution_over_the_intents():
    model = shipped()
    values = model.probabilities("hlep", False, np.zeros(512))
    assert values.shape == (len(model.intents),)
    assert abs(values.sum() - 1) < 1e-9 and (values >= 0).all()


async def test_the_app_will_not_start_on_a_model_that_does_not_fit(make_bot, monkeypatch):
    stale = dataclasses.replace(shipped(), examples_digest="0" * 16)
    monkeypatch.setattr(intent_model, "shipped", lambda: stale)
    understanding.understanding_for.cache_clear()
    try:
        with pytest.raises(IntentModelError, match="refit"):
            await make_bot()
    finally:
        understanding.understanding_for.cache_clear()
