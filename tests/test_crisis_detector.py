"""The crisis detector: sensitive to a person speaking of themselves, deaf to idiom and policy."""

from __future__ import annotations

import dataclasses

import pytest

from core.config.orgconfig import load_org_config
from core.config.supportconfig import CrisisModelSettings, SupportConfig
from core.phrases import words
from signposting.crisis import CrisisSignal, combine, detect, parts, read_phrases

# Everyday messages the learned model takes for a crisis (it raises the alarm on about 7% of
# idiom it was not fitted on: README, "How well it recognises needs and crisis"). The phrases
# alone stay quiet on them; strict, so a model that learns better says so.
MODEL_FALSE_ALARM = pytest.mark.xfail(
    strict=True, reason="the learned crisis model raises the alarm on this everyday message"
)


@pytest.mark.parametrize(
    "text",
    [
        "I want to kill myself",
        "i want to die",
        "I can't go on anymore",
        "cant go on like this",
        "I've been self harming again",
        "everyone would be better off without me",
        "I don't want to be here anymore",
        "i wish i was dead",
        "thinking about ending my life",
        "i want to end it all",
        "I've got pills saved up",
        "I'm going to take my own life",
        "I CAN'T GO ON",
        "feeling suicidal",
        # typos and chat spellings
        "i want to kil myself",
        "sucidal",
        "I wanna die",
        "i want to kms",
        "kill my slef",
        # being harmed by someone
        "my partner hits me",
        "my husband beats me when he's drunk",
        "I'm scared to go home, he said he'd hurt me",
        "I'm not safe at home",
        "he threatened to kill me",
        # sensitive even when the person plays it down
        "I'm not suicidal, just so tired of living",
    ],
)
def test_crisis_language_is_recognised(text):
    signal = detect(text)
    assert isinstance(signal, CrisisSignal)
    assert text.lower() not in str(dataclasses.asdict(signal)).lower()


@pytest.mark.parametrize(
    "text",
    [
        # everyday idiom
        "this rota is killing me",
        "my feet are killing me",
        "my back is killing me after that shift",
        "I'm dying for a cup of tea",
        "dead tired today",
        "the printer died again",
        "kill me now, another meeting",
        "I'd rather die than work another Christmas",
        "I can't go on the course next week",
        "I can't go on leave until March",
        "this job will be the death of me",
        pytest.param("I hurt myself lifting a patient", marks=MODEL_FALSE_ALARM),
        pytest.param("I cut myself shaving", marks=MODEL_FALSE_ALARM),
        "my mum will kill me if I'm late",
        "over my dead body",
        "it was a suicide mission getting across town",
        "we've been threatened with eviction",
        # talk about policy, training or someone else
        "Is there suicide prevention training for managers?",
        "where can I find the self harm policy",
        "How should I support a colleague who has disclosed domestic abuse?",
        "what should I do if a member of my team says they want to die",
        "how do we record a patient overdose on the system",
        "What support is there for staff bereaved by suicide?",
        "does the dying to work charter apply to us",
        # nothing at all
        "",
        "   ",
        "thanks!",
    ],
)
def test_idiom_and_policy_talk_do_not_set_it_off(text):
    assert detect(text) is None


def test_the_phrases_are_data_an_organisation_can_extend():
    org = load_org_config()
    base = org.support.model_dump()
    base["crisis"]["phrases"] = [*base["crisis"]["phrases"], "at the end of my rope"]
    extended = SupportConfig.model_validate(base)
    assert detect("I'm at the end of my rope", use_model=False) is None
    signal = detect("I'm at the end of my rope", extended)
    assert signal is not None
    assert (signal.rule, signal.phrase) == ("phrases", "at the end of my rope")


def test_jokes_and_threats():
    """A joke marker turns talk of oneself into idiom, never being harmed by someone; an idiom
    only cancels a phrase that ends inside it."""
    assert detect("i want to die lol", use_model=False) is None
    assert detect("I'm not joking, I want to die", use_model=False) is not None
    assert detect("i want to die 😭") is not None
    assert detect("my husband hits me lol") is not None
    assert detect("my husband hits me 🤣") is not None
    assert detect("my mum will kill me if I'm late") is None
    assert detect("he said he would kill me if i left") is not None


def test_a_third_person_subject_is_someone_else():
    about_people = detect("people who want to die need support", use_model=False)
    assert about_people is None or about_people.kind == "someone_else"
    assert detect("sometimes I want to die") is not None


@MODEL_FALSE_ALARM
def test_a_third_person_subject_is_someone_else_for_the_model_too():
    """The model refitted with c7, c8 and set v reads this bare sentence (no question, no
    policy word) as the writer's own risk at 0.46 (its meaning network at 0.69)."""
    about_people = detect("people who want to die need support")
    assert about_people is None or about_people.kind == "someone_else"


@pytest.mark.parametrize(
    "text",
    [
        # indirect: burden, goodbyes, giving things away, means and places
        "sorry for being a burden, i wont bother anyone after tonight",
        "given the cat to my neighbour and said my goodbyes",
        "im done. cant do this anymore. goodbye",
        "been stockpiling my meds just in case",
        "im stood on the railway bridge",
        "i cant keep myself safe tonight",
        "i sh'd again last night",
        "thinkin of topping myself",
        # harmed, threatened or controlled by someone
        "he said if i tell anyone he'll hurt the kids",
        "hes taken my bank card and checks my phone every night",
        "my husband put his hands round my neck during a row",
    ],
)
def test_indirect_risk_is_recognised(text):
    assert detect(text) is not None


@pytest.mark.parametrize(
    "text",
    [
        "who do i contact if i'm worried a colleague is being abused at home",
        "ive cut myself off from social media for a bit",
        "i burned myself on the kettle at work",
        pytest.param("i wont be here tomorrow, im on annual leave", marks=MODEL_FALSE_ALARM),
        "i overdosed on mince pies",
        "shattered, going to crash as soon as i get in",
        pytest.param("my manager threatened me with a disciplinary", marks=MODEL_FALSE_ALARM),
    ],
)
def test_idiom_and_someone_elses_harm_do_not_set_it_off(text):
    assert detect(text) is None


@pytest.mark.parametrize(
    "text",
    [
        # a risk word with a second cue in the message (`&` phrases)
        "i have the pills in front of me",
        "i keep a blade in my bag for when it gets bad",
        "im on the roof of the multi storey",
        "might just not come back from my walk tonight, the river's right there",
        "i'd be doing everyone a favour if i died",
        "i hate myself so much i want to disappear",
        "i dont see myself being here by christmas",
        "if i'm not here on monday you'll know why",
        "i wnat to die",
        # threats tied to telling or leaving, weapons, being kept
        "my partner says if i leave he'll find me and kill me",
        "he put a knife to my throat",
        "hes got my passport and says i cant go anywhere without him",
        "my ex is outside the house and won't leave, im scared",
    ],
)
def test_new_wording_is_recognised(text):
    assert detect(text) is not None


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(
            "goodbye everyone, it's my last day here, thanks for everything!",
            marks=MODEL_FALSE_ALARM,
        ),
        "i'm off for two weeks, please look after my plants",
        "ended up on the bridge road diversion for an hour",
        "i'm on the roof terrace for lunch if anyone wants to join",
        "forgot to take my pills this morning, need to pop home",
        "i could sleep forever after that night shift",
        "this spreadsheet is going to be the death of me",
        "grief is weird, it hits me at random on the ward",
        "can you send the paracetamol overdose treatment nomogram",
        pytest.param(
            "i want to die 😂 just sent my manager a message meant for my husband",
            marks=MODEL_FALSE_ALARM,
        ),
        "who's doing the presentation on honour based abuse at induction",
    ],
)
def test_new_idiom_and_policy_do_not_set_it_off(text):
    assert detect(text) is None


@pytest.mark.parametrize(
    "text",
    [
        "my teenage son has been cutting himself, where can i get help for him",
        "how can i support a colleague who told me they've been having suicidal thoughts",
        "my friend said she wants to die",
    ],
)
def test_worry_about_someone_else_is_read_as_such(text):
    """Not the card for a person at risk, and not silence: the card for helpers."""
    signal = detect(text)
    assert signal is not None and signal.kind == "someone_else"


def test_and_phrases_need_every_part_on_other_words():
    from core.phrases import PhraseError, compile_phrase, find, words

    phrase = compile_phrase("pills|tablets & in front of me")
    hit = find(phrase, words("i have the pills in front of me"), 6)
    assert [(span.start, span.end) for span in hit] == [(3, 4)]
    assert find(phrase, words("in front of me, the pills"), 6)
    assert not find(phrase, words("i forgot my pills"), 6)
    with pytest.raises(PhraseError):
        compile_phrase("pills & ")


def test_short_typo_words_allow_only_a_swap():
    from core.phrases import compile_phrase, find, words

    phrase = compile_phrase("~want to die")
    assert find(phrase, words("i wnat to die"), 6)
    assert not find(phrase, words("i wait to die"), 6)


@pytest.mark.parametrize(
    "text",
    [
        "I keep thinking about my friend who jumped, I want to go the same way",
        "my sister tried to kill herself and honestly I've thought about it too",
        "my friend took an overdose last night and now I keep thinking I should do the same",
    ],
)
def test_a_person_at_risk_who_speaks_of_someone_else_gets_the_card_for_a_person_at_risk(text):
    signal = detect(text)
    assert signal is not None and signal.kind in {"self", "emergency"}


@pytest.mark.parametrize(
    "text",
    [
        "my friend is really stressed about her exams",
        "my mum is in hospital and I'm worried about her",
        "my colleague is off sick with flu, who covers her shift?",
        "the baby keeps kicking me all night lol",
        "blood all over my scrubs after that trauma call",
        "bleeding so much from this paper cut lol",
        "I just had a bottle of wine and went to bed",
        "my back is hurting me",
    ],
)
def test_ordinary_worry_and_everyday_pain_get_no_crisis_card(text):
    assert detect(text) is None


def test_someone_elses_act_is_theirs_even_when_the_writer_asks_what_to_do():
    signal = detect("she's taken an overdose, what do I do")
    assert signal is not None and signal.kind == "someone_else"


@pytest.mark.parametrize(
    "text",
    [
        "took 30 co-codamol an hour ago, getting sleepy",
        "tuk like 20 paracetomol b4 my shift n now my belly hurts",
        "took my insulin all of it. feeling shaky and sweaty",
        "I've tied a ligature and it's round my neck now",
        "stood on the bridge on the a road right now",
        "sat in the car with the engine on and the garage shut",
        "my partner had his hands round my neck ten minutes ago",
        "he's got a knife and says he'll finish me, I'm hiding in the bathroom",
    ],
)
def test_an_act_in_progress_gets_the_emergency_route_from_the_phrases_alone(text):
    """999 first for an act happening now, without waiting for the model's kinds head."""
    signal = detect(text, use_model=False)
    assert signal is not None and signal.kind == "emergency"


@pytest.mark.parametrize(
    "text",
    [
        "took 2 paracetamol for my headache an hour ago",
        "my son's got a knife to his wrist right now",
        "standing at the bus stop now, running late",
        "drawn up insulin for bed 4",
    ],
)
def test_the_act_phrases_leave_everyday_and_someone_elses_alone(text):
    signal = detect(text, use_model=False)
    assert signal is None or signal.kind != "emergency"


def test_a_serious_phrase_in_the_writers_own_words_is_never_vetoed():
    """'I want to join her' beside a colleague's suicide is the writer's own risk: the model,
    which reads the colleague's death as worry about someone else, may not set it aside."""
    support = SupportConfig()
    text = "my colleague killed herself last month and I want to join her"
    reading = read_phrases(words(text, support.detection.spellings), support)
    assert reading.said_of_self and reading.signal is not None
    assert combine(reading, 0.0, CrisisModelSettings()) == reading.signal
    assert detect(text, support) == reading.signal
    worry = "my daughter has been self harming, how can I help her?"
    about_her = read_phrases(words(worry, support.detection.spellings), support)
    assert not about_her.said_of_self
    assert combine(about_her, 0.0, CrisisModelSettings()) is None


@pytest.mark.parametrize(
    "text",
    [
        "this is my last day. sorry for everything. goodbye everyone",
        "this is my last day, goodbye all. nobody will miss me",
        "I've packed up my desk, said my goodbyes, bye everyone",
        "moving to a better place soon, goodbye everyone",
        "handed over my patients. told you I wouldn't make it to christmas",
        "keys back, locker cleared, letters written. night everyone",
        "stop messaging me, I won't be here next week",
    ],
)
def test_end_of_shift_and_leaving_words_never_shelter_a_goodbye(text):
    """Words of a last day or of the end of a shift explain away ordinary goodbyes, but must
    never quiet one that carries risk (a review found each of these missed or left to the
    model alone)."""
    assert detect(text) is not None


@pytest.mark.parametrize(
    "text",
    [
        "i want to end it all. i'm stood at the edge of the quarry",
        "i cant go on anymore, took everything in the cupboard and i'm feeling woozy now",
        "he said he'd hurt me and he's outside kicking the door in",
        "i want to die. i've done it, i took them",
    ],
)
def test_a_crisis_told_as_happening_now_gets_the_emergency_route(text):
    """A place of danger, the body feeling what was taken, a thing just done, someone coming
    for them now: 999 first, from the phrases alone and with the model."""
    for signal in (detect(text, use_model=False), detect(text)):
        assert signal is not None and signal.kind == "emergency"


@pytest.mark.parametrize(
    "text",
    [
        "feeling dizzy from my new blood pressure tablets now",
        "cant keep my eyes open after four nights in a row",
        "the neighbours are outside banging on about the bins again",
    ],
)
def test_signs_of_now_never_raise_the_alarm_by_themselves(text):
    support = SupportConfig()
    reading = read_phrases(words(text, support.detection.spellings), support)
    assert reading.act_now and reading.signal is None


@pytest.mark.parametrize(
    "text",
    [
        "my neighbour's husband knocks her about most weekends",
        "my brother left a note and now he's gone missing",
        "the lad i share a flat with said he's researched ways",
        "my flatmate texted me sorry for everything and she's not answering",
        "my dad keeps talking about not wanting to be here",
    ],
)
def test_signs_of_risk_to_someone_else_are_read_in_their_own_words(text):
    """What worried people tell of another person (a note left, a goodbye texted, ways looked
    up): a sign of risk to them, which lowers the bar for the helpers' card, never the
    writer's own crisis."""
    support = SupportConfig()
    reading = read_phrases(words(text, support.detection.spellings), support)
    assert reading.someone_else and reading.signal is None


@pytest.mark.parametrize(
    "text",
    [
        "goodbye bot, I'm not answering these anymore",
        "left a note for the night team about bed 6",
        "i've been googling how many paracetamol it would take",
    ],
)
def test_the_signs_for_someone_else_leave_the_writers_own_words_alone(text):
    support = SupportConfig()
    assert not read_phrases(words(text, support.detection.spellings), support).someone_else


@pytest.mark.parametrize(
    "text",
    ["who signed me up for this? remove me please", "do i have to answer this? not today"],
)
def test_not_wanting_the_check_ins_is_talk_to_the_bot(text):
    """The model then needs `request_threshold`, not `threshold`: on c7 'remove me' and 'do I
    have to answer this' set the model off at 0.48 and 0.5."""
    support = SupportConfig()
    assert read_phrases(words(text, support.detection.spellings), support).request


def test_not_having_to_do_it_any_more_is_not_talk_to_the_bot():
    support = SupportConfig()
    text = "i keep hoping something happens so i dont have to do it myself"
    assert not read_phrases(words(text, support.detection.spellings), support).request


@pytest.mark.parametrize(
    "text",
    [
        "stop messaging me, nobody cares whether I'm here or not",
        "remove me, i can't do this anymore",
        "do i have to reply to this, i just want everything to stop",
        "I never asked for this, everything feels hopeless and I'm so tired of fighting",
    ],
)
def test_despair_written_around_talk_to_the_bot_still_gets_the_crisis_card(text):
    """Talk to the bot raises the model's bar only when it is most of the message: despair
    written around "stop messaging me" or "remove me" is read as despair."""
    signal = detect(text)
    assert signal is not None and signal.kind in ("self", "emergency")


@pytest.mark.parametrize(
    "text", ["i feel numb and i want to kill myself", "my heart is racing and i want to die"]
)
def test_everyday_feelings_are_not_signs_of_an_act_in_progress(text):
    """Numbness and a racing heart are how despair and panic feel, not signs of an overdose:
    the at-risk card, not 999 first, unless the model reads an act."""
    signal = detect(text, use_model=False)
    assert signal is not None and signal.kind == "self"


@pytest.mark.parametrize(
    "text",
    [
        "i texted my mum goodbye and turned my phone off",
        "i told my partner about not wanting to be here and now he's worried",
        "I've posted goodbye on facebook, mum isn't answering",
    ],
)
def test_the_writers_own_goodbye_is_not_a_sign_of_risk_to_someone_else(text):
    support = SupportConfig()
    assert not read_phrases(words(text, support.detection.spellings), support).someone_else


def test_a_message_is_read_in_parts_only_when_it_has_more_than_one_clause():
    assert parts("delete my data, I won't be around to need it after friday", 3) == [
        "delete my data",
        "I won't be around to need it after friday",
    ]
    assert parts("stop. no more - please", 3) == []  # no part has three words
    assert parts("go away, can't do this anymore", 3) == ["can't do this anymore"]
    assert parts("I want to stop the check ins", 3) == []  # one part: the whole is read


def test_asking_for_a_command_raises_the_models_bar_unless_something_serious_is_named():
    support = SupportConfig()
    said = "can I see what I put in my check ins"
    assert read_phrases(words(said), support, asks_the_bot=True).request
    assert not read_phrases(words(said), support).request
    goodbye = "delete my data, I've written the letters for my family"
    assert not read_phrases(words(goodbye), support, asks_the_bot=True).request
