"""Crisis comes first, through the real endpoint: urgent help before anything else, in private,
counted but never stored or logged."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import text
from sqlmodel import SQLModel, select

import core.store.tables  # noqa: F401  (every table, so the scan below sees them all)
from core.config.orgconfig import load_org_config
from core.config.supportconfig import SupportConfig
from core.store.supportdata import SignpostingCount
from dialogs import support
from dialogs.router import default_router
from signposting import crisis_model
from signposting.crisis import detect
from tests.support import activities
from tests.support.activities import TeamsTeam, TeamsUser
from tests.support.cards import buttons, card_text, cards_of, submits

URGENT_NUMBERS = ("999", "111", "116 123", "85258")
CALL_SAMARITANS, TEXT_SHOUT, CALL_999 = "tel:116123", "sms:85258?&body=SHOUT", "tel:999"


def lines(card):
    return [block["text"] for block in card["body"] if block.get("type") == "TextBlock"]


def taps(card):
    return [button["url"] for button in buttons(card) if button["type"] == "Action.OpenUrl"]


def assert_crisis_card_first(sent, kind="self"):
    """The first thing sent is the crisis card: care and what to do in its first two lines, then
    buttons that call or text (999 first when it is happening now), the same numbers as words
    for a client whose buttons open nothing, the rest folded away, and the coordinator's offer."""
    crisis = cards_of(sent)[0]
    assert lines(crisis)[:2] == list(support.CRISIS_WORDING[kind])
    if kind == "emergency":
        assert taps(crisis) == [CALL_999, CALL_SAMARITANS, TEXT_SHOUT]
    else:
        assert taps(crisis) == [CALL_SAMARITANS, TEXT_SHOUT, CALL_999]
    numbers = lines(crisis)[2]
    assert numbers.startswith(support.NOBODY_READS)
    for number in ("999", "116 123", "85258"):
        assert number in numbers
    assert submits(crisis)[0] == {"command": "ask coordinator"}
    folded = next(b for b in crisis["actions"] if b["type"] == "Action.ShowCard")
    assert "111" in card_text(folded["card"]), "the fuller list is one tap away"


def assert_helpers_card_first(sent):
    """Worry about someone else: the card for helpers, not the one for a person at risk."""
    helpers = cards_of(sent)[0]
    text = card_text(helpers)
    assert lines(helpers)[0] == "Thank you for looking out for them."
    assert "call 999" in lines(helpers)[1]
    assert "Ask them directly" in text and "116 123" in text
    assert "Look after yourself too" in text
    assert taps(helpers) == [CALL_999, CALL_SAMARITANS]
    assert not any(line in text for line in support.CRISIS_WORDING["self"])


def assert_urgent_leaflet_first(sent):
    """`urgent help`, asked for: the fuller leaflet, every number with what happens next."""
    crisis = cards_of(sent)[0]
    text = card_text(crisis)
    assert text.startswith("If you need help now")
    assert "not watched by a person" in text
    for number in URGENT_NUMBERS:
        assert number in text
    assert text.index("116 123") < text.index("staff support coordinator")
    assert submits(crisis)[0] == {"command": "ask coordinator"}


def no_crisis_card(sent):
    return not any(
        card_text(card).startswith(
            (support.CRISIS_WORDING["self"][0], support.CRISIS_WORDING["emergency"][0])
        )
        or card_text(card).startswith("Thank you for looking out")
        for card in cards_of(sent)
    )


def test_crisis_is_the_first_stage_everywhere():
    router = default_router()
    assert router.personal[0] is support.crisis_stage
    assert router.shared[0] is support.crisis_stage


async def test_a_crisis_message_gets_urgent_help_first(bot):
    user = TeamsUser()
    await bot.install(user)
    sent = await bot.say(user, "i cant go on anymore")
    assert len(sent) == 1
    assert_crisis_card_first(sent)


@pytest.mark.parametrize("said", ["pause i want to end it all", "help, I want to kill myself"])
async def test_crisis_wins_over_commands(bot, said):
    user = TeamsUser()
    sent = await bot.say(user, said)
    assert_crisis_card_first(sent)


async def test_crisis_interrupts_an_unfinished_check_in_and_it_carries_on(bot):
    user = TeamsUser()
    await bot.install(user)
    first_question = (await bot.say(user, "check in by text"))[-1]
    assert first_question  # the text check-in asked its first question
    assert_crisis_card_first(await bot.say(user, "honestly I just want to die"))
    after = await bot.say(user, "2")
    prompt = bot.services.org.checkin.questions.affecting.prompt
    assert any(prompt in (a.get("text") or "") + card_text(a) for a in after), (
        "the check-in went on to its next question"
    )


@pytest.mark.parametrize(
    "said",
    [
        "this rota is killing me",
        "my feet are killing me after a 12 hour shift",
        "is there suicide prevention training for managers?",
        "I can't go on the course next week",
    ],
)
async def test_idiom_and_policy_talk_do_not_get_the_crisis_card(bot, said):
    user = TeamsUser()
    assert no_crisis_card(await bot.say(user, said))


@pytest.mark.parametrize(
    "said",
    [
        "can you stop messaging me",
        "no more check ins please",
        "leave me alone",
        "I'm done with this bot",
        "opt me out",
        "i dont want to do this check in",
        "im going to end my shift early and go home",
    ],
)
async def test_asking_the_bot_to_stop_is_a_request_not_a_risk(bot, said):
    user = TeamsUser()
    await bot.install(user)
    assert no_crisis_card(await bot.say(user, said))


@pytest.mark.parametrize(
    "said",
    [
        "go away, can't do this anymore",
        "leave me alone i'm at breaking point",
        "delete everything, I don't want anything of me left behind",
        "please just leave me alone and let me die",
        "Can you pause my check-ins for a few weeks please, I've been sitting in the car with "
        "the hosepipe in the boot.",
    ],
)
async def test_a_short_request_beside_despair_is_despair(bot, said):
    """A request raises the model's bar; despair beside it, read alone, takes it away, and
    a request to be left alone never raises it (people in trouble say it)."""
    user = TeamsUser()
    await bot.install(user)
    assert_crisis_card_first(await bot.say(user, said), kind=detect(said).kind)


@pytest.mark.parametrize(
    "said", ["just had 30 paracetemol with vodka", "necked a load of ibuprofin"]
)
async def test_a_misspelt_overdose_taken_now_gets_999_first(bot, said):
    """The model's reading of an act in progress raises it on its own when the model vetoes
    the phrase: a review found these lost with that reading turned off."""
    user = TeamsUser()
    await bot.install(user)
    assert_crisis_card_first(await bot.say(user, said), kind="emergency")


@pytest.mark.parametrize(
    "said",
    [
        "took two co-codamol for my back and went to bed early",
        "took a couple of ibuprofen for my knee before the round",
        "on naproxen for my shoulder till physio can see me",
        "my mum's on nine tablets a day now, I sort her dosette box on sundays",
    ],
)
async def test_ordinary_talk_about_medicines_gets_no_crisis_card(bot, said):
    """Each of these got the crisis card, three with 999 first, before a named medicine raised
    the model's bar (`medicine_threshold`)."""
    user = TeamsUser()
    await bot.install(user)
    assert no_crisis_card(await bot.say(user, said))


@pytest.mark.parametrize(
    ("said", "kind"),
    [
        ("I've got a month of my tablets put by now, nearly enough", "self"),
        ("how many of my sertraline would it take", "self"),
        ("tablets kept back from dad's, enough to make it all stop", "self"),
        ("on sertraline but I still want to die", "self"),
        ("took 18 of my mirtazapine on purpose", "emergency"),
    ],
)
async def test_medicines_as_a_means_still_get_the_crisis_card(bot, said, kind):
    """An amount, a store, a means weighed up or risk beside the medicine keeps the usual bar."""
    user = TeamsUser()
    await bot.install(user)
    assert_crisis_card_first(await bot.say(user, said), kind=kind)


async def test_a_long_ramble_around_a_request_gets_no_crisis_card_and_risk_in_it_does(bot):
    """A long message the model reads as risk whole needs risk in a part of it
    (`long_part_threshold`): a week's news around a request is not a disclosure, and one
    sentence of despair inside a ramble is."""
    ramble = (
        "Sorry to bother you, I've had a mad few weeks with the kids off sick and my husband "
        "working away, and I completely forgot about the Wednesday questions. I'd like to see "
        "what I put in my old check-ins before my appraisal next week if that's possible"
    )
    risk = (
        "Rota's out, I'm on Christmas Day again, the car needs two tyres and the landlord wants "
        "the rent up. I've stopped making plans past the end of the month because I don't "
        "expect to still be around for them. Anyway, bins are out and the kids are fed"
    )
    user = TeamsUser()
    await bot.install(user)
    assert no_crisis_card(await bot.say(user, ramble))
    assert_crisis_card_first(await bot.say(user, risk))


class _WholeModel:
    """A crisis model that scores one message as a request scores (0.45) and its parts low."""

    def __init__(self, whole: str) -> None:
        self.whole = whole

    def score(self, text, vector=None):
        return 0.45 if text == self.whole else 0.1

    def kind_probabilities(self, text, vector=None):
        return {"none": 0.3, "self": 0.6, "act": 0.05, "someone_else": 0.05}

    def someone_else_score(self, text, vector=None):
        return 0.0


async def test_a_request_to_be_left_alone_in_more_than_one_clause_needs_a_surer_model(
    bot, monkeypatch
):
    """A sure request to be left alone raises the model's bar like a command when it has more
    than one clause (despair beside it is then read in its own clause); in one clause the
    usual bar stays, as people in trouble say it."""
    two = "please stop messaging me, I'm trying to drive home"
    one = "please stop messaging me I'm trying to drive home"
    user = TeamsUser()
    await bot.install(user)
    monkeypatch.setattr(crisis_model, "shipped", lambda: _WholeModel(two))
    assert no_crisis_card(await bot.say(user, two))
    monkeypatch.setattr(crisis_model, "shipped", lambda: _WholeModel(one))
    assert_crisis_card_first(await bot.say(user, one))


async def test_the_crisis_check_runs_when_the_understanding_step_fails(bot, monkeypatch):
    """Nothing before the crisis check may stop it: a reading that raises (a dialog state
    that cannot be read) leaves the check at its usual bar."""

    async def broken(turn):
        raise RuntimeError("dialog state unreadable")

    monkeypatch.setattr(support.understanding, "read", broken)
    user = TeamsUser()
    await bot.install(user)
    assert_crisis_card_first(await bot.say(user, "i want to end it all tonight"))


@pytest.mark.parametrize(
    "said",
    [
        "stop messaging me, I won't be here next week",
        "no more check ins thanks, I've written the letters for my family",
        "This is my last check in. Thanks for asking every week, nobody else ever did",
        "if anything happens to me tell my team I was grateful, and stop the check ins please",
    ],
)
async def test_asking_the_bot_to_stop_with_risk_in_the_same_words_is_risk(bot, said):
    """A command the understanding step is sure of raises the model's bar
    (`request_threshold`); a last check-in or a wish for after the writer is gone keeps the
    usual bar (`serious_phrases`)."""
    user = TeamsUser()
    await bot.install(user)
    assert_crisis_card_first(await bot.say(user, said))


@pytest.mark.parametrize(
    "said",
    [
        "got my tablets saved up lol",
        "been cutting again haha",
        "picked the date 😂",
        "goodbye everyone lol, sorry for everything",
    ],
)
async def test_a_joke_never_quiets_a_method_a_plan_an_act_or_a_goodbye(bot, said):
    user = TeamsUser()
    await bot.install(user)
    assert detect(said) is not None
    assert not no_crisis_card(await bot.say(user, said))


@pytest.mark.parametrize(
    "said",
    [
        "took 20 paracetemol what do i do",
        "i just swallowed the whole packet of my sleeping pills",
        "he's hitting me right now",
        "ive cut myself and the bleeding wont stop",
    ],
)
async def test_an_act_in_progress_gets_999_first(bot, said):
    user = TeamsUser()
    await bot.install(user)
    assert_crisis_card_first(await bot.say(user, said), kind="emergency")


@pytest.mark.parametrize(
    "said",
    [
        "i want to end it all. i'm stood at the edge of the quarry",
        "i cant go on anymore, took everything in the cupboard and i'm feeling woozy now",
        "he said he'd hurt me and he's outside kicking the door in",
    ],
)
async def test_a_crisis_told_as_happening_now_gets_999_first(bot, said):
    """No act phrase names these; a place of danger, the body feeling it or someone at the
    door now does, and turns the card for a person at risk into 999 first."""
    user = TeamsUser()
    await bot.install(user)
    assert_crisis_card_first(await bot.say(user, said), kind="emergency")


@pytest.mark.parametrize(
    "said",
    [
        "I think my colleague is going to hurt herself",
        "my son has been cutting himself, where can I get help for him",
        "one of my nurses told me she doesnt see the point in living anymore, what do I do",
        "my best friend keeps saying everyone would be better off without her",
        # signs of risk told in the worried person's words
        "my brother left a note and now he's gone missing, what do i do",
        "my flatmate texted me sorry for everything and she's not answering",
        "my neighbour's husband knocks her about, I can hear it through the wall",
    ],
)
async def test_worry_about_someone_else_gets_the_card_for_helpers(bot, said):
    user = TeamsUser()
    await bot.install(user)
    sent = await bot.say(user, said)
    assert_helpers_card_first(sent)
    async with bot.services.sessions() as session:
        counted = {c.event for c in (await session.exec(select(SignpostingCount))).all()}
    assert "helpers_shown" in counted and "crisis_shown" not in counted


@pytest.mark.parametrize(
    "said",
    [
        "bed 4 took an overdose of 30 paracetamol, bloods due at 4 hours",
        "handover: pt in bay 2 disclosed thoughts of self harm, seen by liaison psych, referral done",
        "completed the risk assessment for the patient who tried to hang himself last week",
    ],
)
async def test_clinical_work_talk_gets_nothing_crisis_like(bot, said):
    user = TeamsUser()
    await bot.install(user)
    assert no_crisis_card(await bot.say(user, said))


async def test_wording_only_the_model_knows_gets_urgent_help_then_the_matching_services(bot):
    """No phrase names this; the learned model raises it. The urgent help comes first, and the
    services for what it was about follow, in case the model misread it."""
    said = "my ex keeps turning up in the hospital car park waiting for me"
    assert detect(said, use_model=False) is None
    signal = detect(said)
    assert signal is not None and signal.kind in ("self", "emergency")  # the model's call
    user = TeamsUser()
    await bot.install(user)
    sent = await bot.say(user, said)
    assert_crisis_card_first(sent, kind=signal.kind)
    services = [card_text(card) for card in cards_of(sent)[1:]]
    assert len(services) == 1 and "Relationships and home life" in services[0]
    async with bot.services.sessions() as session:
        counted = {c.event for c in (await session.exec(select(SignpostingCount))).all()}
    assert {"crisis_shown", "need_recognised"} <= counted


async def test_a_phrase_crisis_is_urgent_help_alone(bot):
    user = TeamsUser()
    await bot.install(user)
    sent = await bot.say(user, "my husband hits me and i cant cope with the bills")
    assert_crisis_card_first(sent)
    assert len(cards_of(sent)) == 1


async def test_a_crisis_message_is_counted_but_never_stored_or_logged(bot, caplog):
    caplog.set_level(logging.DEBUG)
    user = TeamsUser()
    await bot.install(user)
    marker = "zq7xw"
    assert_crisis_card_first(await bot.say(user, f"i want to end it all {marker}"))

    async with bot.services.sessions() as session:
        counted = (await session.exec(select(SignpostingCount))).all()
        assert [(c.event, c.count) for c in counted] == [("crisis_shown", 1)]
        for table in SQLModel.metadata.sorted_tables:
            rows = (await session.exec(text(f'SELECT * FROM "{table.name}"'))).all()
            assert marker not in repr(rows), f"the message was stored in {table.name}"
    assert marker not in caplog.text


async def test_a_crisis_message_in_a_channel_is_answered_in_personal_chat(bot):
    user, team = TeamsUser(), TeamsTeam()
    activity = activities.channel_message(
        user, team, bot.connector.url, "honestly i dont want to be here anymore"
    )
    assert (await bot.post(activity)).status == 200
    channel = activity["conversation"]["id"].split(";")[0]
    await bot.connector.wait_for(2)
    in_channel = [s.body for s in bot.connector.sent if s.conversation_id.split(";")[0] == channel]
    assert [a.get("text") for a in in_channel] == ["I've sent you a private message."]
    assert not cards_of(in_channel), "no urgent help card in the channel"
    private = [
        s.body
        for s in bot.connector.sent
        if s.conversation_id.split(";")[0] != channel and s.body.get("type") == "message"
    ]
    assert_crisis_card_first(private)
    created = [s for s in bot.connector.sent if s.path == "/v3/conversations"]
    assert created and created[0].body["members"][0]["id"] == user.teams_id


async def test_a_crisis_message_in_a_group_chat_is_answered_in_personal_chat(bot):
    user = TeamsUser()
    await bot.install(user)
    chat = "19:groupchat-" + user.aad_object_id + "@thread.v2"
    await bot.post(activities.group_chat_message(user, bot.connector.url, chat, "he hits me"))
    await bot.connector.wait_for(3)
    assert [s.body.get("text") for s in bot.connector.sent if s.conversation_id == chat] == [
        "I've sent you a private message."
    ]
    # being hit may be happening now: whichever card the check picks, it comes to personal chat
    assert_crisis_card_first(bot.connector.activities(user.chat_id)[1:], detect("he hits me").kind)


async def test_urgent_help_can_be_asked_for(bot):
    user = TeamsUser()
    assert_urgent_leaflet_first(await bot.say(user, "urgent help"))


def urgent_org(*services):
    """The example organisation with these urgent services instead of its own."""
    org = load_org_config()
    support = org.support.model_dump()
    kept = [s for s in support["services"] if s["kind"] != "urgent"]
    support["services"] = kept + [{"kind": "urgent", **service} for service in services]
    return org.model_copy(update={"support": SupportConfig.model_validate(support)})


def test_a_phone_entry_dials_only_its_number_and_a_text_entry_may_say_more():
    org = urgent_org(
        {
            "id": "line",
            "name": "Crisis line",
            "summary": "s",
            "contact": {
                "phone": "0800 123 4567 (option 2)",
                "text_message": "Text 'SHOUT' to 85258 (free)",
            },
        },
        {"id": "emergency", "name": "Emergency", "summary": "s", "contact": {"phone": "999"}},
    )
    context = support.crisis_replies(org)[0].card.context
    assert [call["url"] for call in context["calls"]] == [
        "tel:08001234567",
        "sms:85258?&body=SHOUT",
        "tel:999",
    ], "the emergency number keeps its button"


def test_urgent_services_without_a_number_still_say_how_to_reach_them():
    org = urgent_org(
        {
            "id": "web",
            "name": "Help online",
            "summary": "s",
            "contact": {"web": "https://example.org", "text_message": "Message us on the website"},
        }
    )
    context = support.crisis_replies(org)[0].card.context
    assert context["calls"] == []
    assert "Message us on the website" in context["numbers"]


async def test_risk_inside_a_handover_gets_urgent_help(bot):
    """Work talk around a disclosure must not hide it (signposting/crisis.py
    `_clause_is_risk`)."""
    user = TeamsUser()
    await bot.install(user)
    said = (
        "handover: bay 3 settled, mr p had 2 falls, obs done. i cut myself on my break again. "
        "bed 9 needs a repeat ecg"
    )
    assert_crisis_card_first(await bot.say(user, said))
