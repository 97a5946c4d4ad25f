"""The `support` section of the organisation YAML: the service directory, the needs and their
phrases, the crisis phrases, routing rules and coordinator request timings.

Validated when the config loads, like the rest of it: an unknown need or service named anywhere
is an error naming the key. The need and crisis rules ship as a default
(core/data/support-defaults.yaml) that an organisation may replace section by section. Word
lists (`word_lists`, `@name` in a phrase) are written out into the phrases here, once, before the
phrases are checked, so everything that matches them sees plain phrases.
"""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from core.phrases import PhraseError, WordListError, compile_phrase, expand_lists, word_lists, words

SERVICE_KINDS = (
    "eap",
    "occupational_health",
    "chaplaincy",
    "staff_support_coordinator",
    "speak_up",
    "urgent",
    "other",
)
ServiceKind = Literal[
    "eap",
    "occupational_health",
    "chaplaincy",
    "staff_support_coordinator",
    "speak_up",
    "urgent",
    "other",
]
_ID = re.compile(r"^[a-z][a-z0-9_]*$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
NEED_RULES = ("phrases", "not_when", "weak_phrases")
"""A need's fields written in the phrase language."""
CRISIS_RULES = (
    "phrases",
    "harm_phrases",
    "topic_phrases",
    "idioms",
    "policy_context",
    "joke_retractions",
    "serious_phrases",
    "act_phrases",
    "act_now",
    "request_context",
    "medicine_talk",
    "someone_else_phrases",
)
"""The crisis section's fields written in the phrase language."""


class _Strict(BaseModel):
    """Unknown keys are mistakes, as everywhere in the organisation YAML."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def _slug(value: str) -> str:
    if not _ID.match(value):
        raise ValueError(f"{value!r} is not an id (lower case letters, digits and _)")
    return value


def _phrases(values: list[str]) -> list[str]:
    for value in values:
        try:
            compile_phrase(value)
        except PhraseError as error:
            raise ValueError(str(error)) from error
    return values


@lru_cache(maxsize=1)
def shipped_defaults() -> dict[str, Any]:
    """The default need and crisis rules and the national urgent-help services, as data."""
    text = (resources.files("core") / "data" / "support-defaults.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text)


class Contact(_Strict):
    """How to reach a service. Shown on its card as written; links become buttons."""

    phone: str | None = Field(None, description="A number to call, as people should dial it.")
    text_message: str | None = Field(
        None, description="How to text the service, e.g. 'Text SHOUT to 85258'."
    )
    email: str | None = Field(None, description="An email address.")
    teams_chat: str | None = Field(
        None,
        description="The UPN (sign-in address) of a Teams account to chat with; shown as a "
        "'Chat in Teams' button.",
    )
    web: str | None = Field(None, description="A web page (https://…) with more about the service.")
    opening_hours: str | None = Field(None, description="When it is open, in plain words.")
    self_referral: bool = Field(
        True, description="Whether people can go to it themselves, without a manager's referral."
    )

    @field_validator("email", "teams_chat")
    @classmethod
    def _address(cls, value: str | None) -> str | None:
        if value is not None and not _EMAIL.match(value):
            raise ValueError(f"{value!r} is not an email address or UPN")
        return value

    @field_validator("web")
    @classmethod
    def _https(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("https://", "http://")):
            raise ValueError(f"{value!r} is not a web address (start it with https://)")
        return value


_EMERGENCY_NUMBERS = frozenset({"999", "112", "911"})


class Service(_Strict):
    """One service in the directory, as a person sees it on its card."""

    id: str = Field(description="A stable id used by routing rules and reports, e.g. `eap`.")
    name: str = Field(description="The name people know it by.")
    kind: ServiceKind = Field(
        description="eap, occupational_health, chaplaincy, staff_support_coordinator, speak_up, "
        "urgent or other. Urgent services make up the crisis card."
    )
    summary: str = Field(description="One or two plain sentences on what it offers.")
    helps_with: list[str] = Field(
        default_factory=list, description="Need ids it helps with (see `needs`)."
    )
    contact: Contact = Field(default_factory=Contact, description="How to reach it.")
    what_happens_next: str = Field(
        "", description="What happens when someone gets in touch, in plain words."
    )
    who_will_know: str = Field(
        "", description="Who will know they made contact; 'your manager is not told' if true."
    )
    emergency: bool = Field(
        False,
        description="The emergency number: first on the crisis card when something is happening "
        "now (an overdose taken, an injury, someone hurting them), last otherwise. Set for you "
        "when the phone number is 999, 112 or 911.",
    )

    @property
    def is_emergency(self) -> bool:
        """Marked as the emergency number, or its phone is one."""
        return self.emergency or (self.contact.phone or "").replace(" ", "") in _EMERGENCY_NUMBERS

    @field_validator("id")
    @classmethod
    def _id(cls, value: str) -> str:
        return _slug(value)


class Need(_Strict):
    """A need people have, its label in the support menu, and the phrases that recognise it."""

    id: str = Field(description="A stable id (money, stress, …) used by routing and reports.")
    label: str = Field(description="The plain label on the support menu's button.")
    description: str = Field("", description="What the need covers, for whoever edits the rules.")
    phrases: list[str] = Field(
        default_factory=list,
        description="Phrases in the rule language (core/phrases.py) that recognise it; "
        "`@name` stands for a word list (`word_lists`).",
    )
    not_when: list[str] = Field(
        default_factory=list,
        description="Phrases that cancel a match they overlap, e.g. 'phone died' for bereavement.",
    )
    weak_phrases: list[str] = Field(
        default_factory=list,
        description="Phrases that count only when no other need is recognised ('tired', "
        "'someone to talk to'), so a general word never crowds out a named problem.",
    )

    @field_validator("id")
    @classmethod
    def _id(cls, value: str) -> str:
        return _slug(value)

    @field_validator(*NEED_RULES)
    @classmethod
    def _rules(cls, value: list[str]) -> list[str]:
        return _phrases(value)


class Detection(_Strict):
    """How messages are normalised before matching, and what counts as negation."""

    spellings: dict[str, str] = Field(
        default_factory=dict,
        description="Chat spellings and common slips mapped to words the rules use "
        "('wanna': 'want to').",
    )
    negators: list[str] = Field(
        default_factory=list, description="Words that negate what follows ('not', 'no', 'never')."
    )
    fillers: list[str] = Field(
        default_factory=list,
        description="Words that may stand between a negator and what it negates ('really', 'too').",
    )
    negation_window: int = Field(
        4, ge=1, le=8, description="How many words before a match a negator may stand."
    )
    fuzzy_min_length: int = Field(
        6,
        ge=4,
        description="The shortest rule word that `~` may make typo-tolerant.",
    )

    @field_validator("spellings")
    @classmethod
    def _normalised_keys(cls, value: dict[str, str]) -> dict[str, str]:
        for key, replacement in value.items():
            for text in (key, replacement):
                if words(text) != text.split():
                    raise ValueError(
                        f"spelling {key!r}: {text!r} must be lower case words without punctuation"
                    )
        return value


class CrisisModelSettings(_Strict):
    """The learned check beside the phrases (signposting/crisis_model.py)."""

    enabled: bool = Field(
        True,
        description="Ask the learned model as well as the phrases ('false': the phrases alone).",
    )
    threshold: float = Field(
        0.35,
        gt=0,
        lt=1,
        description="The model's score (0 to 1) at which a message counts as a crisis. Lower "
        "catches more and raises more false alarms: bench/train_crisis_model.py prints both.",
    )
    min_words: int = Field(
        3,
        ge=1,
        description="The fewest words a message needs before the model may raise the alarm on "
        "its own: a word or two ('stop', 'help me') is too little to judge, and is left to "
        "the phrases.",
    )
    joke_threshold: float = Field(
        0.35,
        gt=0,
        le=1,
        description="The score the model needs on its own when a joke marker ('lol', 😂) is in "
        "the message: a joke raises the bar rather than silencing the model, because people "
        "laugh off what they mean ('lol i've literally picked the date'). Never below "
        "`threshold`; 1 keeps the model quiet on every joke.",
    )
    request_threshold: float = Field(
        0.5,
        gt=0,
        le=1,
        description="The score the model needs on its own when the message talks to or about "
        "the bot or its check-ins (`request_context`) for most of its words, or the "
        "understanding step is sure it asks for one of the bot's commands, and it names nothing "
        "serious: 'stop messaging me' and 'can I see what I put last month' are requests, not "
        "risk. A clause of it that reaches `part_lifts_bar` alone takes the raised bar away "
        "('delete my data, I won't be around after friday'). Never below `threshold`.",
    )
    part_raises_alarm: float = Field(
        0.95,
        gt=0,
        le=1,
        description="A clause that scores this much read alone raises the alarm whatever the "
        "whole message scores: a disclosure beside a request or inside everyday talk is "
        "diluted whole ('can you pause my check-ins for a few weeks please, I've been sitting "
        "in the car with the hosepipe in the boot': 0.30 whole, 1.0 for its second clause). "
        "1 turns it off.",
    )
    part_lifts_bar: float = Field(
        0.5,
        gt=0,
        le=1,
        description="A clause that reaches this score read alone takes a raised bar "
        "(`request_threshold`, `medicine_threshold`) away: despair beside a request or beside "
        "talk about tablets is diluted whole ('go away, can't do this anymore': 0.37 whole, "
        "0.61 for its second clause). Above the raised bars it has no effect.",
    )
    idiom_threshold: float = Field(
        0.5,
        gt=0,
        le=1,
        description="The score the model needs on its own when an idiom (`idioms`: 'cut myself "
        "shaving', 'dying for a cig') is in the message and nothing serious is named: everyday "
        "talk about medicines, injuries and endings uses a crisis's words. Never below "
        "`threshold`.",
    )
    medicine_threshold: float = Field(
        0.5,
        gt=0,
        le=1,
        description="The score the model needs on its own when a medicine is named in "
        "ordinary use (`medicine_talk`: 'took two co-codamol for my back', 'GP upped my "
        "sertraline') and nothing serious is: the model reads ordinary talk about tablets as "
        "an overdose. A method or means, an amount or a plan (`serious_phrases`, `act_phrases`) "
        "or a sign that it is happening now (`act_now`) keeps the usual bar, and so does a "
        "clause that reaches `part_lifts_bar` alone. Never below `threshold`.",
    )
    long_words: int = Field(
        30,
        ge=1,
        description="A message of this many words or more is long: the model alone raises the "
        "alarm on it only when a part of it (a clause, or two side by side) reaches "
        "`long_part_threshold` read alone. The model scores long everyday messages high whole "
        "(a ramble about the week around a request); a long message that carries risk carries "
        "it in a part. Phrases fire as ever.",
    )
    long_part_threshold: float = Field(
        0.45,
        ge=0,
        le=1,
        description="The score a part of a long message (`long_words`) must reach read alone "
        "for the model's alarm on the whole to stand. 0 turns the check off.",
    )
    someone_else_threshold: float = Field(
        0.15,
        gt=0,
        le=1,
        description="The model's score for worry about someone else (the geometric mean of its "
        "kinds head and its words-and-meaning reader for that question) at which a message is "
        "read as worry about another person at risk (a colleague, a patient, family): they get the card "
        "for helpers, not the one for a person at risk. 1 turns it off.",
    )
    act_threshold: float = Field(
        0.15,
        gt=0,
        le=1,
        description="The kinds head's share for 'act in progress' at which a crisis is read as "
        "happening now (an overdose taken, an injury, someone hurting them now): 999 and A&E "
        "come first. Lower errs towards the emergency route; 1 leaves it to `act_phrases`.",
    )
    act_part_threshold: float = Field(
        0.6,
        gt=0,
        le=1,
        description="The kinds head's share for 'act in progress' that a clause of a message "
        "which has raised the alarm must reach, read alone, for 999 and A&E to come first: "
        "what surrounds an act dilutes the whole message's share ('Wee bit of a confession. "
        "Took a load of paracetamol an hour ago, feelin weird noo'). 1 turns it off.",
    )
    act_alone_threshold: float = Field(
        0.6,
        gt=0,
        le=1,
        description="The kinds head's share for 'act in progress', when it is also its likeliest "
        "reading, at which it raises the alarm by itself (misspelt overdoses the words miss). 1 "
        "turns it off.",
    )
    veto_below: float = Field(
        0.2,
        ge=0,
        lt=1,
        description="A phrase that fires is set aside when the model's score is below this: "
        "the model has learned talk about other people and about policy that phrases mistake "
        "('my daughter has been self harming, how can I help her?'). 0 keeps every phrase.",
    )
    part_keeps_phrase: float = Field(
        0.85,
        gt=0,
        le=1,
        description="A phrase the model would set aside stands when a clause in which a phrase "
        "fires, read alone, scores this much: risk told inside work talk ('handover: bay 3 "
        "settled. i cut myself on my break again. bed 9 needs an ecg') scores low whole and high "
        "on its own. "
        "Clauses of ordinary talk score high alone too ('goodbye everyone' 0.68 from 'last day "
        "in the office. Goodbye everyone'), hence a high bar. 1 turns it off.",
    )


class Crisis(_Strict):
    """What signals risk to life or safety. Deliberately sensitive to a person speaking of
    themselves; everyday idiom and talk about policy must not set it off."""

    phrases: list[str] = Field(
        default_factory=list,
        description="A person speaking of themselves ('kill myself', 'he hits me'): always fire "
        "unless an idiom overlaps or a third person is the subject.",
    )
    harm_phrases: list[str] = Field(
        default_factory=list,
        description="Being harmed by someone ('he hits me', 'scared to go home'): always fire "
        "unless an idiom overlaps.",
    )
    topic_phrases: list[str] = Field(
        default_factory=list,
        description="The subject named ('suicide', 'self harm'): fire unless the message is "
        "about policy, training or someone else.",
    )
    idioms: list[str] = Field(
        default_factory=list,
        description="Everyday idiom ('killing me', 'dying for a'): a match inside one is ignored.",
    )
    policy_context: list[str] = Field(
        default_factory=list,
        description="Phrases that mark talk about the subject or about someone else "
        "('policy', 'training', 'a colleague').",
    )
    joke_markers: list[str] = Field(
        default_factory=list,
        description="Words that mark a message as a joke ('lol', 'haha'): a person "
        "speaking of themselves or naming the subject is then taken as idiom, and the learned "
        "model needs `model.joke_threshold`. Never applied to being harmed by someone.",
    )
    joke_retractions: list[str] = Field(
        default_factory=list,
        description="Phrases that take a joke marker back ('not joking', 'i mean it', 'that "
        "wasn't a figure of speech'): with one, the message is read as meant.",
    )
    serious_phrases: list[str] = Field(
        default_factory=list,
        description="A method or means, a plan or a time, an act done or a goodbye ('tablets "
        "saved', 'picked the date', 'cutting again', 'love you all, sorry'): a joke marker never "
        "quiets a message with one of these.",
    )
    someone_else_phrases: list[str] = Field(
        default_factory=list,
        description="Risk to another person named in words ('cutting herself', 'he wants to "
        "die', 'her partner hits her'): with the model's reading for someone else, the card "
        "for helpers. Worry about someone with no such sign ('my mum is in hospital') gets "
        "no crisis card.",
    )
    request_context: list[str] = Field(
        default_factory=list,
        description="Words that show a message talks to or about the bot and its check-ins "
        "('stop messaging me', 'this bot'): the model alone then needs `model.request_threshold`.",
    )
    medicine_talk: list[str] = Field(
        default_factory=list,
        description="Medicines named in ordinary use: what they are for, the GP or pharmacy, a "
        "dose started, changed, missed or run out, side effects, one or two taken ('took two "
        "co-codamol for my back', 'my inhaler'). With nothing serious named, the model alone "
        "needs `model.medicine_threshold`; a medicine named with no sign of ordinary use keeps "
        "the usual bar.",
    )
    act_phrases: list[str] = Field(
        default_factory=list,
        description="An act in progress or just done ('took 20 paracetamol', 'bleeding', 'he is "
        "hitting me now'): in a crisis, 999 and A&E come first. Also serious: no joke quiets it.",
    )
    act_now: list[str] = Field(
        default_factory=list,
        description="Signs that what a crisis message tells is happening now ('i'm on the "
        "bridge', 'feeling woozy', 'i've done it', 'he's outside kicking the door in'): a "
        "message already read as a crisis for the writer then gets 999 first. They never raise "
        "the alarm by themselves, so everyday talk that uses them costs nothing.",
    )
    third_person: list[str] = Field(
        default_factory=list,
        description="Words that, just before a phrase, make someone else its subject "
        "('they want to die').",
    )
    model: CrisisModelSettings = Field(
        default_factory=CrisisModelSettings,
        description="The learned check that catches wording the phrases miss.",
    )

    @field_validator(*CRISIS_RULES)
    @classmethod
    def _rules(cls, value: list[str]) -> list[str]:
        return _phrases(value)


class CheckinRule(_Strict):
    """Check-in answers that point to services; every condition given must hold."""

    mood_at_most: int | None = Field(None, description="The mood answer (1–5) is this or lower.")
    mood_at_least: int | None = Field(None, description="The mood answer is this or higher.")
    affecting: list[str] = Field(
        default_factory=list,
        description="What is affecting them most is one of these option ids (empty: any).",
    )
    pulse: dict[str, list[str]] = Field(
        default_factory=dict,
        description="At least one of these pulse items has one of the listed answers "
        "(empty: not considered).",
    )
    services: list[str] = Field(
        min_length=1, max_length=3, description="1–3 service ids or kinds to offer."
    )


class Routing(_Strict):
    """Which services to offer for a need, or for check-in answers."""

    needs: dict[str, list[str]] = Field(
        default_factory=dict,
        description="Need id to 1–3 service ids or kinds, in the order shown. A need not listed "
        "gets the services whose `helps_with` names it.",
    )
    checkin: list[CheckinRule] = Field(
        default_factory=list,
        description="Rules for check-in answers; every rule that matches adds its services, in "
        "order, up to `max_services`.",
    )
    max_services: int = Field(3, ge=1, le=3, description="The most services shown at once.")


class CoordinatorRequests(_Strict):
    """Requests for the staff support coordinator to get in touch."""

    expected_response: str = Field(
        "within two working days",
        description="When the person can expect to hear back, as it completes "
        "'The coordinator usually gets in touch …'.",
    )
    remind_backup_after_hours: float = Field(
        24,
        gt=0,
        description="Tell the backup coordinator(s) when a request is still not picked up "
        "after this many hours.",
    )


def _default(key: str) -> Any:
    return shipped_defaults()[key]


def _written_out(
    section: Any, fields: tuple[str, ...], where: str, lists: dict[str, tuple[str, ...]]
) -> Any:
    """A need or the crisis section as given, with the word lists in its phrases written out.
    Anything not shaped as expected is passed on as it is, for the model's own checks to name."""
    if not isinstance(section, dict):
        return section
    section = dict(section)
    for field in fields:
        phrases = section.get(field)
        if not isinstance(phrases, list):
            continue
        written: list[Any] = []
        for index, phrase in enumerate(phrases):
            try:
                written.append(expand_lists(phrase, lists) if isinstance(phrase, str) else phrase)
            except PhraseError as error:
                raise ValueError(f"{where}.{field}[{index}]: {error}") from error
        section[field] = written
    return section


class SupportConfig(_Strict):
    """Signposting: the service directory, needs, crisis phrases, routing and coordinator requests."""

    services: list[Service] = Field(
        default_factory=lambda: _default("services"),
        validate_default=True,
        description="The service directory. Must include at least one `urgent` service; the "
        "default is only the national urgent-help services.",
    )
    word_lists: dict[str, str] = Field(
        default_factory=lambda: _default("word_lists"),
        description="Named word lists for the need and crisis phrases: a name and its choices, "
        "written as inside a phrase's brackets (`medicines: tablet|tablets|sleeping pills|"
        "parac*`). A phrase names a list as `@medicines` wherever a choice can stand "
        "(`took (@medicines)`, `[@medicines]`, `(@medicines|doses)`, `@medicines & in front of "
        "me`), and it is written out into the phrase when the config loads: the rule matches as "
        "if the list were typed into it. A list may name other lists (`@painkillers|insulin`), "
        "never itself. The shipped lists (core/data/support-defaults.yaml) always apply: a name "
        "given here adds a list, or replaces the shipped list of that name in every phrase that "
        "names it, the shipped phrases too. Quote a phrase that starts with a list "
        '("@medicines & in front of me"): YAML reserves `@` at the start of a value.',
    )
    needs: list[Need] = Field(
        default_factory=lambda: _default("needs"),
        validate_default=True,
        description="The needs, in support-menu order, with their phrases. The default is "
        "core/data/support-defaults.yaml; a list here replaces it whole.",
    )
    detection: Detection = Field(
        default_factory=lambda: _default("detection"),
        validate_default=True,
        description="Spellings and negation used by need and crisis matching.",
    )
    crisis: Crisis = Field(
        default_factory=lambda: _default("crisis"),
        validate_default=True,
        description="The crisis phrases. The default is core/data/support-defaults.yaml.",
    )
    routing: Routing = Field(
        default_factory=Routing, description="Needs and check-in answers to services."
    )
    coordinator_requests: CoordinatorRequests = Field(
        default_factory=CoordinatorRequests, description="Timings for coordinator requests."
    )

    @model_validator(mode="before")
    @classmethod
    def _write_out_word_lists(cls, data: Any) -> Any:
        """Write each `@name` in the need and crisis phrases out, once, before they are checked:
        matching and its explanations then see the phrases as if the lists were typed in. A
        list given here replaces the shipped one of its name, in the shipped phrases too."""
        if not isinstance(data, dict):
            return data
        given = data.get("word_lists") or {}
        if not isinstance(given, dict):
            raise ValueError("word_lists: name each list and give its words, `name: a|b c|d*`")
        definitions = {**_default("word_lists"), **given}
        try:
            lists = word_lists(definitions)
        except WordListError as error:
            raise ValueError(f"word_lists.{error.name}: {error}") from error
        needs = data.get("needs", _default("needs"))
        if isinstance(needs, list):
            needs = [
                _written_out(need, NEED_RULES, f"needs[{index}]", lists)
                for index, need in enumerate(needs)
            ]
        crisis = _written_out(data.get("crisis", _default("crisis")), CRISIS_RULES, "crisis", lists)
        return {**data, "word_lists": definitions, "needs": needs, "crisis": crisis}

    @model_validator(mode="after")
    def _references(self) -> SupportConfig:
        need_ids = [need.id for need in self.needs]
        _unique(need_ids, "needs", "need id")
        _unique([s.id for s in self.services], "services", "service id")
        for index, service in enumerate(self.services):
            for need in service.helps_with:
                if need not in need_ids:
                    raise ValueError(
                        f"services[{index}].helps_with: unknown need {need!r} "
                        f"(known: {', '.join(need_ids)})"
                    )
        for need, targets in self.routing.needs.items():
            if need not in need_ids:
                raise ValueError(
                    f"routing.needs.{need}: unknown need {need!r} (known: {', '.join(need_ids)})"
                )
            if not 1 <= len(targets) <= 3:
                raise ValueError(f"routing.needs.{need}: name one to three services")
            self._check_targets(targets, f"routing.needs.{need}")
        for index, rule in enumerate(self.routing.checkin):
            self._check_targets(rule.services, f"routing.checkin[{index}].services")
        if not any(service.kind == "urgent" for service in self.services):
            raise ValueError(
                "services: list at least one service of kind 'urgent' (999, NHS 111, "
                "Samaritans…): the crisis card is made from them"
            )
        return self

    def _check_targets(self, targets: list[str], key: str) -> None:
        ids = {s.id for s in self.services}
        kinds = {s.kind for s in self.services}
        for target in targets:
            if target not in ids and target not in kinds:
                raise ValueError(
                    f"{key}: {target!r} is neither a service id nor the kind of a listed "
                    f"service (service ids: {', '.join(sorted(ids))})"
                )

    def service(self, service_id: str) -> Service | None:
        return next((s for s in self.services if s.id == service_id), None)

    def need(self, need_id: str) -> Need | None:
        return next((n for n in self.needs if n.id == need_id), None)

    def resolve(self, targets: list[str]) -> list[Service]:
        """Service ids or kinds to services, in order, without repeats."""
        found: list[Service] = []
        for target in targets:
            service = self.service(target)
            matches = [service] if service else [s for s in self.services if s.kind == target]
            found += [s for s in matches if s not in found]
        return found

    def of_kind(self, kind: str) -> list[Service]:
        return [s for s in self.services if s.kind == kind]


def _unique(values: list[str], key: str, what: str) -> None:
    seen: set[str] = set()
    for index, value in enumerate(values):
        if value in seen:
            raise ValueError(f"{key}[{index}]: {what} {value!r} is listed twice")
        seen.add(value)
