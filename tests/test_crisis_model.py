"""The learned crisis check: its features, its arithmetic, the shipped weights, and the switch."""

from __future__ import annotations

import gzip
import json
import math
from pathlib import Path

import numpy as np
import pytest

from bench.needs_eval import evaluate_messages
from bench.train_crisis_model import TRAINING_SETS, is_blind
from core import sentence_encoder
from core.config.supportconfig import CrisisModelSettings, SupportConfig
from core.phrases import words
from core.sentence_encoder import DIMENSIONS
from signposting import crisis_model
from signposting.crisis import (
    CrisisSignal,
    PhraseReading,
    combine,
    detect,
    model_readings,
    read_phrases,
)


def test_features_are_words_pairs_within_a_clause_and_letter_runs():
    counts = crisis_model.term_counts(words("Can't sleep. Want out"))
    assert counts["w cant"] == 1 and counts["p cant sleep"] == 1
    assert counts["p want out"] == 1
    assert "p sleep want" not in counts  # a full stop ends the pair
    assert counts["c  c"] == 1 and counts["c out "] == 1 and counts["c sleep"] == 1
    assert not any(feature.startswith("c ") and len(feature) - 2 > 5 for feature in counts)


def test_each_block_is_scaled_to_unit_length_and_unknown_features_are_ignored():
    idf = {"w a": 1.0, "w b": 2.0, "c ab": 3.0}
    values = crisis_model.weighted({"w a": 1, "w b": 3, "c ab": 2, "w unknown": 5}, idf)
    assert set(values) == {"w a", "w b", "c ab"}
    assert math.isclose(values["w a"] ** 2 + values["w b"] ** 2, 1.0)
    assert math.isclose(values["c ab"], 1.0)
    # a term seen three times counts 1 + ln 3 times, weighed by its idf
    assert math.isclose(values["w b"] / values["w a"], (1 + math.log(3)) * 2.0)


def fake_kinds() -> crisis_model.Kinds:
    generator = np.random.default_rng(11)
    size = len(crisis_model.KINDS)
    return crisis_model.Kinds(
        weights=generator.normal(size=(DIMENSIONS, size)).astype(np.float32),
        bias=generator.normal(size=size).astype(np.float32),
    )


def save_whole(path: Path, intercept, weights, spellings, meaning=None, about=None) -> None:
    """A model file with every part a format-3 model must have (the parts here are made up)."""
    meaning = meaning or fake_meaning()
    other = crisis_model.CrisisModel(0.2, {"w she": 1.0}, {"w she": 2.0}, spellings, meaning)
    crisis_model.save(
        path, intercept, weights, spellings, about or {}, meaning, fake_kinds(), other
    )


def test_score_is_the_logistic_of_the_weighted_sum_and_survives_saving(tmp_path: Path):
    weights = [("w hello", 1.5, 2.0), ("c he", 1.0, -1.0), ("w there", 1.2, 0.5)]
    path = tmp_path / "model.json.gz"
    save_whole(path, -0.25, weights, {"hiya": "hello"})
    model = crisis_model.load(path)
    features = model.features("Hiya THERE")  # the spelling makes "hiya" the word "hello"
    expected = -0.25 + sum(value * model.coef[f] for f, value in features.items())
    assert features and "w hello" in features
    assert math.isclose(model.words_score("Hiya THERE"), 1 / (1 + math.exp(-expected)))
    assert model.score("") == 0.0
    assert model.explain("hello")[0][0] == "w hello"


def fake_meaning(hidden: int = 3, weight: float = 0.4) -> crisis_model.Meaning:
    generator = np.random.default_rng(7)
    return crisis_model.Meaning(
        hidden_weights=generator.normal(size=(DIMENSIONS, hidden)).astype(np.float32),
        hidden_bias=generator.normal(size=hidden).astype(np.float32),
        output_weights=generator.normal(size=hidden).astype(np.float32),
        output_bias=-0.3,
        weight=weight,
    )


def test_the_score_is_the_weighted_mean_of_words_and_meaning_and_survives_saving(tmp_path):
    meaning = fake_meaning()
    path = tmp_path / "model.json.gz"
    save_whole(path, 0.1, [("w die", 1.0, 3.0)], {}, meaning)
    model = crisis_model.load(path)
    vector = sentence_encoder.shipped().embed(["i want to die"])[0]
    hidden = np.maximum(vector @ meaning.hidden_weights + meaning.hidden_bias, 0)
    by_meaning = 1 / (1 + math.exp(-(float(hidden @ meaning.output_weights) - 0.3)))
    assert math.isclose(model.meaning_score("i want to die"), by_meaning, rel_tol=1e-4)
    expected = 0.6 * model.words_score("i want to die") + 0.4 * by_meaning
    assert math.isclose(model.score("i want to die"), expected, rel_tol=1e-4)
    assert model.score("i want to die", vector) == model.score("i want to die")
    assert model.score("   ") == model.words_score("   ") == 0.0


def test_a_meaning_network_that_does_not_fit_the_encoder_is_refused():
    meaning = fake_meaning()
    with pytest.raises(ValueError, match="does not fit"):
        crisis_model.Meaning(
            meaning.hidden_weights[:100], meaning.hidden_bias, meaning.output_weights, 0.0, 0.4
        )
    with pytest.raises(ValueError, match="does not fit"):
        fake_meaning(weight=1.5)


def test_the_meaning_network_scores_as_the_fitted_one_does():
    """The bot runs the network in numpy: the same vector must get the fitter's probability."""
    pytest.importorskip("sklearn")
    from bench.train_crisis_model import fit_meaning

    generator = np.random.default_rng(3)
    vectors = generator.normal(size=(60, DIMENSIONS)).astype(np.float32)
    labels = [int(row[:5].sum() > 0) for row in vectors]
    meaning = fit_meaning(vectors, labels)
    from sklearn.neural_network import MLPClassifier

    reference = MLPClassifier(
        hidden_layer_sizes=(meaning.hidden_bias.shape[0],),
        alpha=1e-3,
        early_stopping=True,
        max_iter=300,
        random_state=0,
    ).fit(vectors, labels)
    for vector, probability in zip(vectors, reference.predict_proba(vectors)[:, 1], strict=True):
        assert math.isclose(meaning.probability(vector), probability, rel_tol=1e-4, abs_tol=1e-6)


def test_the_readers_of_whose_risk_survive_saving(tmp_path: Path):
    path = tmp_path / "model.json.gz"
    save_whole(path, 0.0, [("w die", 1.0, 1.0)], {})
    model = crisis_model.load(path)
    shares = model.kind_probabilities("my friend said she wants to die")
    assert set(shares) == set(crisis_model.KINDS) and math.isclose(
        sum(shares.values()), 1.0, rel_tol=1e-6
    )
    assert model.someone_else is not None
    assert 0.0 < model.someone_else_score("she is not safe") < 1.0


@pytest.mark.parametrize("part", ["meaning", "kinds", "someone_else"])
def test_a_model_without_one_of_its_parts_is_refused(tmp_path: Path, part):
    """Without the readers of whose risk, the helpers' card and the 999-first card would
    quietly stop: such a file must stop the bot at start."""
    path = tmp_path / "model.json.gz"
    save_whole(path, 0.0, [("w die", 1.0, 1.0)], {})
    payload = json.loads(gzip.decompress(path.read_bytes()))
    payload[part] = None
    path.write_bytes(gzip.compress(json.dumps(payload).encode()))
    with pytest.raises(ValueError, match=part):
        crisis_model.load(path)


def test_a_weight_that_is_not_a_number_is_refused(tmp_path: Path):
    path = tmp_path / "model.json.gz"
    save_whole(path, 0.0, [("w die", 1.0, 1.0)], {})
    payload = json.loads(gzip.decompress(path.read_bytes()))
    payload["kinds"]["bias"][0] = float("nan")
    path.write_bytes(gzip.compress(json.dumps(payload).encode()))
    with pytest.raises(ValueError, match="finite"):
        crisis_model.load(path)


def test_a_model_of_another_format_is_refused(tmp_path: Path):
    path = tmp_path / "model.json.gz"
    save_whole(path, 0.0, [], {})
    payload = json.loads(gzip.decompress(path.read_bytes()))
    payload["format"] = 99
    path.write_bytes(gzip.compress(json.dumps(payload).encode()))
    with pytest.raises(ValueError, match="format"):
        crisis_model.load(path)


def test_scoring_in_plain_python_matches_the_fitted_regression():
    """The bot scores without scikit-learn: the same text must get the fitter's probability."""
    pytest.importorskip("sklearn")
    from scipy.sparse import csr_matrix
    from sklearn.linear_model import LogisticRegression

    from bench.train_crisis_model import fit

    texts = [
        "i want to die",
        "no point going on",
        "bought rope today",
        "he hits me",
        "this rota is killing me",
        "my phone died",
        "suicide prevention training dates?",
        "dead tired",
    ]
    labels = [1, 1, 1, 1, 0, 0, 0, 0]
    model = fit(texts, labels, {})

    index = {f: i for i, f in enumerate(sorted(model.idf))}
    rows = [model.features(text) for text in texts]
    matrix = csr_matrix(
        (
            [v for row in rows for v in row.values()],
            (
                [n for n, row in enumerate(rows) for _ in row],
                [index[f] for row in rows for f in row],
            ),
        ),
        shape=(len(texts), len(index)),
    )
    reference = LogisticRegression(C=10.0, class_weight="balanced", max_iter=5000)
    reference.fit(matrix, labels)
    for text, probability in zip(texts, reference.predict_proba(matrix)[:, 1], strict=True):
        assert math.isclose(model.score(text), probability, rel_tol=1e-6)


def test_the_shipped_model_was_fitted_with_the_shipped_spellings_and_never_on_a_blind_set():
    crisis_model.shipped.cache_clear()
    sentence_encoder.shipped.cache_clear()
    model = crisis_model.shipped()
    assert dict(model.spellings) == dict(SupportConfig().detection.spellings)
    # the encoder is loaded with the model, at start, not on the first message
    assert model.meaning is not None and sentence_encoder.shipped.cache_info().currsize == 1
    about = json.loads(gzip.decompress(crisis_model.MODEL_PATH.read_bytes()))["about"]
    assert about["fitted_on"] and not any(is_blind(Path(name)) for name in about["fitted_on"])


def test_the_blind_sets_of_the_round_being_scored_are_never_read_for_training():
    """crisis_c9 on are blind until the next round's sets are committed; earlier ones have
    been scored once and train the model."""
    for blind in ("crisis_c9.yaml", "crisis_c10.yaml", "crisis_c11.yaml", "crisis_c12.yaml"):
        assert is_blind(Path(blind))
    assert not is_blind(Path("crisis_c8.yaml")) and not is_blind(Path("crisis_train_v.yaml"))
    assert not any(is_blind(path) for path in TRAINING_SETS)


@pytest.mark.parametrize(
    "text",
    [
        "every night after my shift i sit with the knife and think about it",
        "tied something round my neck last night, stopped myself but only just",
        "parked up at the reservoir. dont think im driving home",
    ],
)
def test_the_model_catches_wording_no_phrase_names(text):
    """Messages the phrases miss, from an earlier blind set (now tuning data)."""
    assert detect(text, use_model=False) is None
    threshold = CrisisModelSettings().threshold
    signal = detect(text)
    assert signal is not None
    assert (signal.rule, signal.phrase) == ("model", f"score at or above {threshold}")
    assert signal.kind in {"self", "emergency"}


def test_an_organisation_can_switch_the_model_off_or_move_its_threshold():
    text = "every night after my shift i sit with the knife and think about it"
    base = SupportConfig().model_dump()
    base["crisis"]["model"] = {"enabled": False, "threshold": 0.5}
    assert detect(text, SupportConfig.model_validate(base)) is None
    base["crisis"]["model"] = {"enabled": True, "threshold": 0.999999}
    assert detect(text, SupportConfig.model_validate(base)) is None
    base["crisis"]["model"] = {"enabled": True, "threshold": 1.5}
    with pytest.raises(ValueError, match="threshold"):
        SupportConfig.model_validate(base)


def test_a_joke_marker_keeps_the_model_quiet_but_never_hides_harm():
    assert crisis_model.shipped().score("i want to die of embarrassment lol") < 1
    assert detect("i want to die of embarrassment lol") is None
    assert detect("he hits me when he's been drinking lol") is not None


def test_a_joke_marker_raises_the_models_bar_without_silencing_it():
    """People laugh off what they mean: on a joke the model needs `joke_threshold`, never less
    than `threshold`, and 1 keeps it quiet."""
    joke = PhraseReading(signal=None, joke=True, words=6)
    meant = PhraseReading(signal=None, joke=False, words=6)
    settings = CrisisModelSettings(threshold=0.5, joke_threshold=0.9)
    assert combine(meant, 0.6, settings) == CrisisSignal("model", "score at or above 0.5")
    assert combine(joke, 0.6, settings) is None
    assert combine(joke, 0.95, settings) == CrisisSignal("model", "score at or above 0.9")
    assert combine(joke, 0.999, settings.model_copy(update={"joke_threshold": 1.0})) is None
    higher = CrisisModelSettings(threshold=0.97, joke_threshold=0.9)
    assert combine(joke, 0.95, higher) is None


@pytest.mark.parametrize(
    "text",
    [
        "wanna die lol. not lol actually",
        "i want to die haha. i mean it",
        "kms 😂 no joke, I've been looking at how",
    ],
)
def test_a_joke_taken_back_is_read_as_meant(text):
    assert read_phrases(words(text), SupportConfig()).joke is False
    assert detect(text) is not None


def test_joke_retractions_are_checked_like_every_rule_phrase():
    base = SupportConfig().model_dump()
    base["crisis"]["joke_retractions"] = ["not-joking!"]
    with pytest.raises(ValueError, match="joke_retractions"):
        SupportConfig.model_validate(base)


def test_a_joke_left_standing_still_quiets_the_phrases():
    assert read_phrases(words("i want to die lol"), SupportConfig()).joke is True
    assert detect("this rota is killing me lol, seriously") is None
    assert detect("i could murder a brew lol for real") is None


def test_everyday_idiom_is_quiet_with_the_phrases_alone():
    """The xfails in test_crisis_detector.py: what the phrases make of them without the model."""
    for text in ("I cut myself shaving", "goodbye everyone, it's my last day here!"):
        assert detect(text, use_model=False) is None


def test_no_command_raises_the_alarm():
    """Crisis comes before commands, so the model must never take "stop" or "help" for one."""
    from dialogs.router import default_commands

    for command in default_commands().commands:
        for phrase in command.all_phrases if command.typed else ():
            signal = detect(phrase)
            assert signal is None or command.name == "urgent help", (phrase, signal)


def test_short_messages_and_harm_under_a_joke_never_wait_for_the_model(monkeypatch):
    """The encoder costs milliseconds; a verdict that cannot depend on it must not ask."""

    def no_model():
        raise AssertionError("the model was asked")

    monkeypatch.setattr(crisis_model, "shipped", no_model)
    assert detect("my requests") is None and detect("help") is None
    assert detect("he hits me when he's been drinking lol") is not None


def test_a_word_or_two_is_left_to_the_phrases():
    assert detect("stop") is None and detect("help me") is None
    assert detect("suicidal again") == detect("suicidal again", use_model=False) is not None


@pytest.mark.parametrize(
    ("module", "name", "error"),
    [
        (crisis_model, "crisis_model.json.gz", r"(?i)gzip"),
        (sentence_encoder, "sentence_encoder.onnx", r"(?i)protobuf|onnx|load"),
    ],
)
def test_a_damaged_model_stops_the_bot_at_start_not_on_someones_message(
    tmp_path, monkeypatch, module, name, error
):
    from bot.app import create_app
    from core.config.settings import Settings

    damaged = tmp_path / name
    damaged.write_bytes(b"not a model")
    monkeypatch.setattr(module, "MODEL_PATH", damaged)
    settings = Settings(_env_file=None, DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path}/bot.db")
    crisis_model.shipped.cache_clear()
    sentence_encoder.shipped.cache_clear()
    try:
        with pytest.raises(Exception, match=error):
            create_app(settings)
    finally:
        crisis_model.shipped.cache_clear()
        sentence_encoder.shipped.cache_clear()


async def test_the_bot_reads_a_message_on_a_worker_thread(monkeypatch):
    """The encoder's few milliseconds must not hold up everyone else's turns on the loop."""
    import threading

    from signposting import crisis

    threads: list[int] = []
    real = crisis.detect

    def recording(*args, **kwargs):
        threads.append(threading.get_ident())
        return real(*args, **kwargs)

    monkeypatch.setattr(crisis, "detect", recording)
    text = "i want to end it all tonight"
    assert await crisis.detect_off_loop(text) == real(text) is not None
    assert threads and threads[0] != threading.get_ident()


def test_the_blind_set_scorer_counts_each_card_by_label_and_class():
    """bench/needs_eval.py scores blind sets by the card shown: recall counts only the at-risk
    and 999-first cards, a helpers' card on a risk message is a miss, any card on a no-risk
    message is a false alarm."""
    messages = [
        {"text": "I want to kill myself", "label": "risk", "class": "plain"},
        {"text": "took 20 paracetemol what do i do", "label": "risk", "class": "act"},
        {"text": "this rota is killing me", "label": "no_risk", "class": "idiom"},
        {"text": "my friend said she wants to die", "label": "third_party", "class": "friend"},
    ]
    result = evaluate_messages(messages, SupportConfig())
    assert result["recall"] == 1.0 and result["false_alarms"] == 0.0
    assert result["per_class"]["risk/act"]["emergency"] == 1
    assert result["third_party_helpers_card"] == 1.0
    assert result["third_party_at_risk_card"] == 0.0
    missed = evaluate_messages([{**messages[3], "label": "risk"}], SupportConfig())
    assert missed["recall"] == 0.0, "the helpers' card is not help for a person at risk"


def test_the_cross_check_scores_each_writer_with_a_model_fitted_without_them(monkeypatch, tmp_path):
    """Leave-one-writer-out: the left-out messages never reach the fit, and the cards are
    counted per label and class from the stored readings."""
    pytest.importorskip("sklearn")
    from bench import train_crisis_model as training

    blind = tmp_path / "crisis_c1.yaml"
    blind.write_text(
        "messages:\n"
        "  - {text: 'took the lot an hour ago', label: risk, class: act_in_progressc1}\n"
        "  - {text: 'lol got the rope ready', label: risk, class: joke_maskedc1}\n"
        "  - {text: 'that is me done for the day', label: no_risk, class: end_of_shiftc1}\n"
        "  - {text: 'my mate says he wants to die', label: third_party, class: colleaguec1}\n"
    )
    writer = {
        "positive": ["i want to die", "no point going on", "bought rope today"],
        "act": ["swallowed all my pills", "cut too deep it wont stop"],
        "third_party": ["my friend wants to kill herself", "worried my son is suicidal"],
        "everyday": ["going home now", "my phone died", "dead tired"],
        **{part: [] for part in ("idiom", "policy", "clinical", "needs")},
    }
    named = {"writer": writer, "crisis_c1": training.read_set(blind)}
    assert named["crisis_c1"]["act"] == ["took the lot an hour ago"]
    texts = [text for one in named.values() for part in one.values() for text in part]
    generator = np.random.default_rng(0)
    vectors = {text: generator.normal(size=DIMENSIONS).astype(np.float32) for text in texts}
    monkeypatch.setattr(training, "bot_traffic", lambda: ("help", "stop"))
    vectors |= {text: np.zeros(DIMENSIONS, dtype=np.float32) for text in ("help", "stop")}
    fitted_on: list[list[str]] = []
    real_fit = training.fit

    def recording_fit(texts, *args, **kwargs):
        fitted_on.append(list(texts))
        return real_fit(texts, *args, **kwargs)

    monkeypatch.setattr(training, "fit", recording_fit)
    support = SupportConfig()
    left_out = {"crisis_c1": training.labelled(blind)}
    predictions = training.cross_check(named, left_out, support, vectors)

    held = {item["text"] for item in predictions}
    assert len(predictions) == 4 and fitted_on and not held & set(fitted_on[0])
    assert all(not item["seen"] and item["readings"] for item in predictions)
    rows = training.figures(
        predictions, training.phrase_readings(predictions, support), support.crisis.model
    )
    assert rows["risk/ALL"]["n"] == 2 and rows["no_risk/end_of_shift"]["n"] == 1
    assert "recall" in rows["risk/act_in_progress"]
    assert "helpers_card" in rows["third_party/colleague"]


@pytest.mark.parametrize(
    "text",
    [
        "handover: bay 3 settled, mr p had 2 falls, obs done. i cut myself on my break again. "
        "bed 9 needs a repeat ecg",
        "Weekly check-in: mostly fine, busy with the AMHP rota. Bad night Tuesday, cut myself. "
        "Fine now. Mandatory training due Friday.",
    ],
)
def test_risk_told_inside_work_talk_is_read_in_its_own_clause(text):
    """The work talk around it dilutes the whole message: the model alone would set the phrase
    aside. Read alone, its clause is risk, and the phrase stands."""
    model = crisis_model.shipped()
    settings = SupportConfig().crisis.model
    assert model.score(text) < settings.veto_below
    signal = detect(text)
    assert signal is not None and signal.rule == "phrases" and signal.kind == "self"
    base = SupportConfig().model_dump()
    base["crisis"]["model"]["part_keeps_phrase"] = 1
    assert detect(text, SupportConfig.model_validate(base)) is None  # the old reading


def test_worry_about_someone_else_keeps_the_helpers_card_whatever_its_clauses_say():
    """With a bar its clause reaches, only the reading of worry about someone else keeps the
    phrase from standing as the writer's own risk."""
    text = "my sister's been googling ways to die, i saw her search history. she's 15"
    base = SupportConfig().model_dump()
    base["crisis"]["model"]["part_keeps_phrase"] = 0.5
    assert crisis_model.shipped().score("my sister's been googling ways to die") >= 0.5
    signal = detect(text, SupportConfig.model_validate(base))
    assert signal is not None and signal.kind == "someone_else"


def _with_model_settings(**settings: float) -> SupportConfig:
    base = SupportConfig().model_dump()
    base["crisis"]["model"].update(settings)
    return SupportConfig.model_validate(base)


@pytest.mark.parametrize(
    "text",
    [
        "took two co-codamol for my back and went to bed early",
        "my mum's on nine tablets a day now, I sort her dosette box on sundays",
    ],
)
def test_ordinary_talk_about_medicines_needs_a_surer_model(text):
    """The model reads a named medicine as an overdose: on the burned blind sets it raised the
    crisis card on 36% of ordinary medicine talk. With nothing serious named, it needs
    `medicine_threshold`; at the usual bar these would get the card."""
    support = SupportConfig()
    assert read_phrases(words(text, support.detection.spellings), support).medicine
    assert crisis_model.shipped().score(text) >= support.crisis.model.threshold
    assert detect(text) is None
    usual = support.crisis.model.threshold
    assert detect(text, _with_model_settings(medicine_threshold=usual)) is not None


def test_the_act_share_alone_never_raises_it_on_medicine_talk():
    """ "Took a couple of ibuprofen" is what the kinds head mistakes for an overdose taken."""
    text = "took a couple of ibuprofen for my knee before the round"
    support = SupportConfig()
    _, readings = model_readings(crisis_model.shipped(), text)
    assert readings["act"] >= support.crisis.model.act_alone_threshold
    assert readings["act"] == max(readings.values())
    assert detect(text) is None


@pytest.mark.parametrize(
    "text",
    [
        "tablets kept back from dad's, enough to make it all stop",
        "took 18 of my mirtazapine on purpose",
        "how much paracetamol is too much, asking for me",
        # a second review's probes, which the medicine reading lost before these phrases
        "every time I collect my prescription I hide some away",
        "took more of my sleepers than the doctor said because I want to sleep for a long time",
        "my prescription got increased and I've been googling what a fatal amount is",
    ],
)
def test_an_amount_a_store_or_a_means_keeps_the_usual_bar(text):
    support = SupportConfig()
    assert not read_phrases(words(text, support.detection.spellings), support).medicine
    signal = detect(text)
    assert signal is not None and signal.kind in ("self", "emergency")


class _ClauseModel:
    """A model that finds risk only in the clause that says it, and little in the whole."""

    def __init__(self, whole: str, risk: str) -> None:
        self.whole, self.risk = whole, risk

    def score(self, text, vector=None):
        return {self.whole: 0.4, self.risk: 0.9}.get(text, 0.0)

    def kind_probabilities(self, text, vector=None):
        return {"none": 0.2, "self": 0.7, "act": 0.05, "someone_else": 0.05}

    def someone_else_score(self, text, vector=None):
        return 0.0


def test_risk_beside_medicine_talk_read_alone_takes_the_raised_bar_away(monkeypatch):
    """Errands with tablets in them dilute what follows ("got mum's meds out, bus to work, cut
    myself in the staff loo"): a clause that reaches the raised bar alone is heard."""
    risk = "everything feels heavy and grey lately"
    whole = f"picked up my prescription, did the big shop, {risk}"
    monkeypatch.setattr(crisis_model, "shipped", lambda: _ClauseModel(whole, risk))
    signal = detect(whole)
    assert signal is not None and signal.kind == "self"
    monkeypatch.setattr(crisis_model, "shipped", lambda: _ClauseModel(whole, "nothing"))
    assert detect(whole) is None


_LONG_EVERYDAY = [
    "Sorry to bother you, I've had a mad few weeks with the kids off sick and my husband "
    "working away, and I completely forgot about the Wednesday questions. I'd like to see what "
    "I put in my old check-ins before my appraisal next week if that's possible",
    "Honestly I'm worn out, the debt on the cards keeps creeping up since the boiler went and "
    "the kids needed new shoes for school, and it's keeping me awake. Sorry, no idea why I'm "
    "telling a chatbot all this",
]


@pytest.mark.parametrize("text", _LONG_EVERYDAY)
def test_a_long_everyday_message_needs_risk_in_a_part_of_it(text):
    """The model scores long everyday messages as risk whole (a ramble about the week around a
    request, a moan about debt): with no clause, nor two side by side, at `long_part_threshold`
    read alone, the model's alarm does not stand. 0 turns the check off."""
    assert crisis_model.shipped().score(text) >= SupportConfig().crisis.model.threshold
    assert detect(text) is None
    assert detect(text, _with_model_settings(long_part_threshold=0)) is not None


def test_a_long_message_that_carries_risk_in_a_part_keeps_its_card():
    """Risk told in one sentence of a long ramble: the part is read alone and the card stands,
    though no phrase names it."""
    text = (
        "Rota's out, I'm on Christmas Day again, the car needs two tyres and the landlord wants "
        "the rent up. I've stopped making plans past the end of the month because I don't "
        "expect to still be around for them. Anyway, bins are out and the kids are fed"
    )
    signal = detect(text)
    assert signal is not None and signal.rule == "model" and signal.kind == "self"


class _PartsModel:
    """A model that scores a long message as risk whole and its parts as the test says."""

    def __init__(self, whole: str, parts: dict[str, float], whole_score: float = 0.8) -> None:
        self.whole, self.parts, self.whole_score = whole, parts, whole_score

    def score(self, text, vector=None):
        return self.whole_score if text == self.whole else self.parts.get(text, 0.1)

    def kind_probabilities(self, text, vector=None):
        return {"none": 0.2, "self": 0.7, "act": 0.05, "someone_else": 0.05}

    def someone_else_score(self, text, vector=None):
        return 0.0


def test_two_clauses_side_by_side_can_carry_the_risk_of_a_long_message(monkeypatch):
    """Risk that needs two clauses to say it ("sorted the cat with my sister. nearly through my
    list") is read in the pair; nothing in any part, and the whole alone is not enough; a
    message under `long_words` is read whole, as before."""
    first, second = "I've sorted the cat with my sister", "nearly through my list now"
    whole = (
        f"Busy week at work with the audit and two new starters on the unit, {first}, "
        f"{second}, and the weather has been grim all week"
    )
    pair = {f"{first}. {second}": 0.6}
    monkeypatch.setattr(crisis_model, "shipped", lambda: _PartsModel(whole, pair))
    assert detect(whole) is not None
    monkeypatch.setattr(crisis_model, "shipped", lambda: _PartsModel(whole, {}))
    assert detect(whole) is None
    assert detect(whole, _with_model_settings(long_words=40)) is not None


def test_a_sure_command_needs_a_surer_model_and_despair_beside_it_lifts_the_bar(monkeypatch):
    """A command the understanding step is sure of needs `request_threshold` (0.5); a clause
    that reaches `part_lifts_bar` alone takes the raised bar away. (The bar was 0.65 for a
    while: a review found it hid "pause my check ins I won't need them where I'm going", one
    clause with nothing to read apart.)"""
    clause = "can you hold the check ins until I'm home"
    whole = f"I'm off to see family for a month, {clause}"
    monkeypatch.setattr(crisis_model, "shipped", lambda: _PartsModel(whole, {}, whole_score=0.45))
    assert detect(whole, asks_the_bot=True) is None
    assert detect(whole) is not None
    lifted = _PartsModel(whole, {clause: 0.55}, whole_score=0.45)
    monkeypatch.setattr(crisis_model, "shipped", lambda: lifted)
    assert detect(whole, asks_the_bot=True) is not None
    below = _PartsModel(whole, {clause: 0.45}, whole_score=0.45)
    monkeypatch.setattr(crisis_model, "shipped", lambda: below)
    assert detect(whole, asks_the_bot=True) is None


def test_a_clause_that_is_risk_alone_raises_the_alarm_whatever_the_whole_scores(monkeypatch):
    """A disclosure beside a request is diluted whole ("can you pause my check-ins for a few
    weeks please, I've been sitting in the car with the hosepipe in the boot": 0.30 whole, 1.0
    for its clause): a clause at `part_raises_alarm` raises it, above any raised bar."""
    clause = "I've been sitting in the car with the hosepipe in the boot"
    whole = f"can you pause my check-ins for a few weeks please, {clause}"
    model = _PartsModel(whole, {clause: 0.97}, whole_score=0.1)
    monkeypatch.setattr(crisis_model, "shipped", lambda: model)
    signal = detect(whole, asks_the_bot=True)
    assert signal is not None and signal.rule == "model"
    assert detect(whole, _with_model_settings(part_raises_alarm=1.0), asks_the_bot=True) is None


def test_affairs_put_in_order_keep_a_long_message_read_whole(monkeypatch):
    """The long-message check steps aside when something serious is named, such as affairs
    put in order in passing ("I've given my sister power of attorney and told her not to ask
    why"): the model reads those as risk only in context, so no part of them scores alone."""
    week = (
        "Rota's been a mess again this week and we were two down on nights so I covered three "
        "extra shifts, the council tax letter came and the credit card is maxed, "
    )
    plain = week + "and the car failed its MOT so I'm getting the bus to work"
    affairs = week + "and I've given my sister power of attorney and told her not to ask why"
    for text in (plain, affairs):
        monkeypatch.setattr(crisis_model, "shipped", lambda text=text: _PartsModel(text, {}))
        assert (detect(text) is not None) == (text == affairs)


class _ActClauseModel(_PartsModel):
    """Risk throughout; an act in progress only in the clause that tells it."""

    def __init__(self, whole: str, act_clause: str) -> None:
        super().__init__(whole, {act_clause: 0.9})
        self.act_clause = act_clause

    def kind_probabilities(self, text, vector=None):
        act = 0.8 if text == self.act_clause else 0.05
        return {"none": 0.1, "self": 0.85 - act, "act": act, "someone_else": 0.05}


def test_an_act_told_in_one_clause_gets_999_first(monkeypatch):
    """What surrounds an act dilutes the whole's share for it; a clause read alone at
    `act_part_threshold` sends the person to 999 first. 1 turns it off; a message with no
    act in any clause keeps the card for a person at risk."""
    act = "swallowed a load of something an hour back"
    whole = f"Long shift, the rota is a mess again, {act}, anyway how was your day"
    monkeypatch.setattr(crisis_model, "shipped", lambda: _ActClauseModel(whole, act))
    assert detect(whole).kind == "emergency"
    assert detect(whole, _with_model_settings(act_part_threshold=1)).kind == "self"
    monkeypatch.setattr(crisis_model, "shipped", lambda: _ActClauseModel(whole, "nothing"))
    assert detect(whole).kind == "self"


def test_an_overdose_told_after_a_preamble_gets_999_first():
    text = "Wee bit of a confession. Took a load of paracetamol an hour ago, feelin weird noo"
    assert detect(text).kind == "emergency"
    assert detect(text, _with_model_settings(act_part_threshold=1)).kind == "self"
