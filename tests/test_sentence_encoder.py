"""The sentence encoder behind the crisis check: the same pieces and the same vectors as the
published TensorFlow.js implementation it was converted from (reference recorded under Node)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from core.sentence_encoder import DIMENSIONS, UNKNOWN, Pieces, shipped

REFERENCE = json.loads(
    (Path(__file__).parent / "fixtures" / "sentence_encoder_reference.json").read_text()
)


@pytest.mark.parametrize("case", REFERENCE["pieces"], ids=lambda case: case["text"][:24])
def test_text_splits_into_the_same_pieces_as_the_published_tokenizer(case):
    assert shipped().pieces.encode(case["text"]) == case["pieces"]


@pytest.mark.parametrize("case", REFERENCE["vectors"], ids=lambda case: case["text"][:24])
def test_vectors_match_the_published_encoder(case):
    vector = shipped().embed([case["text"]])[0]
    assert vector.shape == (DIMENSIONS,)
    assert np.allclose(vector, case["vector"], atol=1e-5)
    assert np.isclose(np.linalg.norm(vector), 1.0, atol=1e-4)


def test_a_batch_gives_each_text_the_vector_it_gets_alone():
    texts = [case["text"] for case in REFERENCE["vectors"]] * 7  # more than one batch
    together = shipped().embed(texts)
    for text, row in zip(texts, together, strict=True):
        assert np.allclose(row, shipped().embed([text])[0], atol=1e-5)


def test_an_empty_text_gets_zeros_and_does_not_disturb_the_others():
    vectors = shipped().embed(["", "i want to die", ""])
    assert not vectors[0].any() and not vectors[2].any()
    assert np.allclose(vectors[1], shipped().embed(["i want to die"])[0], atol=1e-6)


def test_meaning_puts_like_near_like():
    """What the crisis check relies on: wording it never saw lands near wording it did."""
    near, far, anchor = shipped().embed(
        ["i don't want to be alive any more", "the printer is broken again", "i want to die"]
    )
    assert anchor @ near > anchor @ far + 0.2


def test_the_best_split_wins_and_unknown_runs_merge():
    vocabulary = [["<unk>", 0], ["<s>", 0], ["</s>", 0], ["r1", 0], ["r2", 0], ["r3", 0]]
    vocabulary += [["▁ab", -1.0], ["▁a", -1.0], ["b", -1.5], ["c", -2.0]]
    pieces = Pieces(vocabulary)
    assert pieces.encode("ab") == [6]  # one piece at -1 beats two at -2.5
    assert pieces.encode("abc") == [6, 9]
    assert pieces.encode("ab✱✱c") == [6, UNKNOWN, 9]  # two unknown characters, one piece
    assert pieces.encode("") == []
