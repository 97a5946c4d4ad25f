"""What line managers get: the team digest (words, never individual data), fresh conversation
prompts, checklist guides for the conversations the wellbeing policy asks for, and a polite
refusal whenever anyone with a reporting role asks about one person.

Manager-facing: it reads frozen summaries through core.reporting.frozen and never per-person rows
(tests/test_privacy_inventory.py checks its imports).
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from datetime import date

from core.config.orgconfig import OrgConfig
from core.context import Turn
from core.events import Card, Reply
from core.privacy.aggregates import Summary
from core.reporting import frozen as reporting
from dialogs import guidance, roles
from dialogs.commands import Command
from dialogs.guidance import Guide
from dialogs.text import normalise


def services_to_mention(org: OrgConfig) -> list[str]:
    """The support services to mention to the team, named by kind from the service directory."""
    services = guidance.shipped().services
    lines = []
    for kind in services.mentioned:
        for service in org.support.of_kind(kind):
            lines.append(f"{service.name}: {services.kind_words[kind]}")
    if not lines:
        lines = [f"The {services.kind_words[kind]}" for kind in services.mentioned]
    lines.append(
        "People can go to these themselves, in confidence: they don't need you to refer them."
    )
    return lines


@dataclass(frozen=True)
class Prompts:
    """A set of conversation prompts chosen from a team's themes."""

    opener: str
    one_to_one: tuple[str, ...]
    team: tuple[str, ...]
    reviews: str
    services: tuple[str, ...]


def choose_prompts(signals: frozenset[str], org: OrgConfig, rng: random.Random) -> Prompts:
    """Prompts for the themes that stand out, and general ones for the rest."""
    words = guidance.shipped().prompts
    one_to_one = rng.sample(words.one_to_one, 3)
    team: list[str] = []
    if "demands_stand_out" in signals:
        team.append(words.risk_assessment)
    for signal in ("demands", "low_mood", "support", "control", "relationships", "role", "change"):
        if signal in signals:
            team.append(words.team_ideas[signal])
    for signal in ("work", "personal", "health"):
        if signal in signals:
            team.append(words.team_ideas["demands" if signal == "work" else signal])
    team = list(dict.fromkeys(team))[:3]
    general = list(words.general_ideas)
    rng.shuffle(general)
    team += general[: max(0, 2 - len(team))]
    return Prompts(
        words.opener,
        tuple(one_to_one),
        tuple(team),
        words.reviews,
        tuple(services_to_mention(org)),
    )


def _prompt_sections(prompts: Prompts) -> list[dict[str, object]]:
    return [
        {"heading": "How are you, really?", "items": [prompts.opener]},
        {"heading": "Questions for one-to-ones", "items": list(prompts.one_to_one)},
        {"heading": "Ideas for the team", "items": list(prompts.team)},
        {"heading": "Reviews and plans", "items": [prompts.reviews]},
        {"heading": "Support to mention to the team", "items": list(prompts.services)},
    ]


def _week(cycle_date: date) -> str:
    return f"Wellbeing Wednesday, {cycle_date:%-d %B %Y}"


def digest_card(summary: Summary, org: OrgConfig) -> Card:
    """The digest: figures in words when shown, a plain statement when hidden, prompts always."""
    rng = random.Random(f"{summary.cycle_date}:{summary.name}")
    prompts = choose_prompts(summary.signals, org, rng)
    messages = guidance.shipped().messages
    facts: list[dict[str, str]] = []
    themes: list[str] = []
    strengths: list[str] = []
    change = None
    if summary.shown:
        facts.append({"title": "Who answered", "value": f"{summary.response} of the team"})
        facts += [{"title": label.capitalize(), "value": band} for label, band in summary.mood]
        if summary.change:
            change = {
                "lower": "Mood is lower than last time.",
                "about the same": "Mood is about the same as last time.",
                "brighter": "Mood is brighter than last time.",
            }[summary.change]
        themes = [f"{t.label} ({t.band})" for t in summary.themes]
        strengths = [f"{t.label} ({t.band} agree)" for t in summary.strengths]
    context = {
        "title": f"Your team: {summary.name}",
        "subtitle": _week(summary.cycle_date),
        "shown": summary.shown,
        "hidden_message": messages.hidden,
        "facts": facts,
        "change": change,
        "themes": themes,
        "strengths": strengths,
        "sections": _prompt_sections(prompts),
        "trust_note": messages.trust_note,
    }
    lines = [f"**{context['title']}** ({context['subtitle']})"]
    if summary.shown:
        lines += [f"- {f['title']}: {f['value']}" for f in facts]
        if change:
            lines.append(change)
        if themes:
            lines.append("Most often mentioned: " + "; ".join(themes))
    else:
        lines.append(messages.hidden)
    for section in context["sections"]:
        lines.append(f"**{section['heading']}**")
        lines += [f"- {item}" for item in section["items"]]
    lines.append(messages.trust_note)
    return Card("manager_digest", context, fallback_text="\n".join(lines))


# ---- guides: checklists the manager keeps; nothing about the staff member is stored ----------


def find_guide(argument: str) -> Guide | None:
    said = normalise(argument).removesuffix(" guide").removeprefix("for ").removeprefix("a ")
    for guide in guidance.shipped().guides:
        if said == guide.id.replace("_", " ") or said in guide.aliases:
            return guide
    return None


def guide_card(guide: Guide) -> Card:
    sections = [
        {"heading": section.heading, "items": list(section.items), "checklist": True}
        for section in guide.sections
    ]
    lines = [f"**{guide.title}**", guide.intro]
    for section in guide.sections:
        lines.append(f"**{section.heading}**")
        lines += [f"- [ ] {item}" for item in section.items]
    footer = "Keep this card as your checklist. Nothing you tick or discuss is sent to me."
    lines.append(footer)
    return Card(
        "manager_sections",
        {
            "title": guide.title,
            "intro": guide.intro,
            "sections": sections,
            "footer": footer,
            "actions": [],
        },
        fallback_text="\n".join(lines),
    )


def guide_list_card() -> Card:
    guides = guidance.shipped().guides
    actions = [{"title": g.title, "command": "guide", "argument": g.aliases[0]} for g in guides]
    intro = "Which guide would you like? Each is a checklist you can keep."
    text = intro + "\n" + "\n".join(f"- **guide {g.aliases[0]}**: {g.title}" for g in guides)
    return Card(
        "manager_sections",
        {
            "title": "Conversation guides",
            "intro": intro,
            "sections": [],
            "footer": "",
            "actions": actions,
        },
        fallback_text=text,
    )


# ---- commands ----------------------------------------------------------------------------------


async def _team(turn: Turn, _argument: str) -> list[Reply]:
    """`team`: the latest digest again, for each team the person manages."""
    teams = await roles.managed_teams(turn)
    if not teams:
        return [Reply(text=guidance.shipped().messages.not_a_manager)]
    replies = []
    questions = turn.services.org.checkin.questions
    async with turn.services.sessions() as session:
        for team in teams:
            summary = await reporting.latest_team_summary(session, team.id, team.name, questions)
            if summary is None:
                replies.append(
                    Reply(
                        text=f"No summary for {team.name} yet: the first comes after the next "
                        "Wellbeing Wednesday check-in closes."
                    )
                )
            else:
                replies.append(Reply(card=digest_card(summary, turn.services.org)))
    return replies


async def _prompts(turn: Turn, _argument: str) -> list[Reply]:
    """`prompts`: a fresh set of conversation questions, shaped by the team's latest themes."""
    signals: set[str] = set()
    teams = await roles.managed_teams(turn)
    if teams:
        questions = turn.services.org.checkin.questions
        async with turn.services.sessions() as session:
            for team in teams:
                summary = await reporting.latest_team_summary(
                    session, team.id, team.name, questions
                )
                if summary is not None:
                    signals |= summary.signals
    prompts = choose_prompts(frozenset(signals), turn.services.org, random.Random())
    sections = _prompt_sections(prompts)
    lines = ["Here are some fresh conversation prompts."]
    for section in sections:
        lines.append(f"**{section['heading']}**")
        lines += [f"- {item}" for item in section["items"]]
    return [
        Reply(
            card=Card(
                "manager_sections",
                {
                    "title": "Conversation prompts",
                    "intro": "A fresh set. Say **prompts** again for another.",
                    "sections": [{**s, "checklist": False} for s in sections],
                    "footer": guidance.shipped().messages.trust_note,
                    "actions": [{"title": "More prompts", "command": "prompts", "argument": ""}],
                },
                fallback_text="\n".join(lines),
            )
        )
    ]


async def _guide(turn: Turn, argument: str) -> list[Reply]:
    """`guide …`: a conversation guide as a checklist card; nothing about anyone is stored."""
    guide = find_guide(argument) if argument.strip() else None
    return [Reply(card=guide_card(guide) if guide else guide_list_card())]


TEAM = Command(
    "team",
    "managers: your team's latest summary again",
    _team,
    phrases=("my team", "team summary", "how is my team doing", "how's my team doing", "digest"),
    examples=(
        "show me my teams results",
        "how are my staff doing",
        "team wellbeing summary",
        "my teams scores this week",
        "latest summary for my team",
        "how is the team feeling",
    ),
    audience="manager",
)
PROMPTS = Command(
    "prompts",
    "managers: fresh questions for wellbeing conversations",
    _prompts,
    phrases=("conversation prompts", "conversation questions"),
    examples=(
        "give me some questions to ask my team",
        "ideas for a wellbeing chat with my staff",
        "what should i ask in a one to one",
        "conversation starters",
        "questions for a team huddle",
    ),
    audience="manager",
)
GUIDE = Command(
    "guide",
    "managers: a checklist for a wellbeing conversation, welcome-back review or action plan",
    _guide,
    phrases=("guides", "conversation guide"),
    takes_argument=True,
    usage="guide [conversation | welcome back | action plan | team stress]",
    examples=(
        "how do i run a wellbeing conversation",
        "checklist for a return to work meeting",
        "guide for a welcome back meeting",
        "help me plan a wellbeing conversation",
        "show me the action plan guide",
        "steps for a team stress risk assessment",
    ),
    audience="manager",
)

# ---- questions about one person: refused, whoever they name ----------------------------------

_TOPIC = (
    r"(?:answer\w*|respon\w*|repl\w*|check(?:ed)? ?ins?|checkins?|survey\w*|mood\w*|score\w*|"
    r"feel\w*|doing|coping|struggl\w*|stress\w*|ok|okay|alright|all right|well|sick|ill|unwell|"
    r"low|down|depress\w*|anxious|anxiety|burn\w*|support\w*|help|referr\w*|refer|coordinator|"
    r"counsell\w*|eap|occupational health|chaplain\w*|contact\w*|said|say|wrote|write|note\w*|"
    r"wellbeing|health|mental|unhappy|upset|result\w*|crisis|at risk|self ?referr?\w*)"
)
_SELF_OR_BOT = r"(?:i|me|you|we|us|it|this|that|there|things|everything|anything|work|life)"
_TEAM_WORDS = r"(?:my team|the team|our team|the ward|my ward|the department|team)"
_NOT_PEOPLE = (
    r"(?!(?:the\s+|our\s+|this\s+|that\s+|a\s+)?(?:survey|check|checkin|questionnaire|bot|"
    r"digest|summary|card|message|reminder|link|form|data|policy|guidance|toolkit|law|rules?|"
    r"procedure|document|faq|handbook|charter|act|process|standards?|hse|nhs|union|contract)\b)"
)
_PATTERNS = tuple(
    re.compile(p)
    for p in (
        # who is struggling / who answered / who hasn't checked in
        r"\bwho(?!\s+(?:can|could|should|do|would|will|to)\s+(?:i|me|you)\b)(?!\s+to\b)"
        r"(?!\s+(?:can|could|will|would) help\b)(?!(?:'s|\s+is|\s+are)\s+(?:the|my|our|a|an)\b)"
        r"(?:'s|\s|$).*\b" + _TOPIC + r"\b",
        # which of my staff / which nurse
        r"\bwhich\s+(?:of\s+)?(?:my\s+|the\s+|our\s+|your\s+)?(?:staff|people|person|ones?|"
        r"members?|colleagues?|team members?|nurses?|employees?|of them|workers?|reports?|"
        r"doctors?|carers?|officers?)\b",
        # has anyone in my team asked for support / did everyone answer
        r"\b(?:has|have|did|does|do|is|are|was|were|had)\s+(?:any\s?one|any\s?body|some\s?one|"
        r"some\s?body|every\s?one|every\s?body|all of them|any of (?:my|the|them|our)\w*|"
        r"one of (?:my|them|the|our)\w*|any staff|nobody|no one)\b.*\b" + _TOPIC + r"\b",
        # how is Sam doing / how's Priya getting on
        r"\bhow(?:'s|\s+is|\s+are|\s+was|\s+were|\s+has|\s+have)\s+(?!" + _SELF_OR_BOT + r"\b)"
        r"(?!" + _TEAM_WORDS + r"\b)(?!every\s?(?:one|body)\b)(?!people\b)(?!staff\b)"
        r"[\w'.-]+(?:\s[\w'.-]+){0,2}\s+(?:doing|getting on|getting along|feeling|coping|"
        r"holding up|managing|been|finding|really|today|lately|at the moment|this week|now|"
        r"since|after)\b",
        r"^how(?:'s|\s+is)\s+(?!" + _SELF_OR_BOT + r"\b)(?!" + _TEAM_WORDS + r"\b)[\w'.-]+$",
        # is Mo ok / is Dr Jones coping
        r"^(?:is|are|was)\s+(?!" + _SELF_OR_BOT + r"\b)(?!there\b)[\w'.-]+(?:\s[\w'.-]+)?\s+"
        r"(?:ok|okay|alright|all right|well|struggling|coping|stressed|depressed|anxious|sick|ill|"
        r"unwell|off sick|low|down|using|in crisis|at risk|safe|getting support|getting help|"
        r"seeing|talking to|one of)\b",
        # did Priya answer / has John checked in / was Chloe referred
        r"\b(?:did|has|have|hasn't|haven't|didn't|does|doesn't|was|were|is)\s+(?!"
        + _SELF_OR_BOT
        + r"\b)(?!"
        + _TEAM_WORDS
        + r"\b)"
        + _NOT_PEOPLE
        + r"[\w'.-]+(?:\s[\w'.-]+){0,2}\s+(?:answer\w*|respon\w*|repl\w*|check(?:ed)? in|"
        r"fill\w*|complet\w*|do(?:ne)? the|finish\w*|ask\w*|contact\w*|speak|spoken|talk\w*|"
        r"go(?:ne)? to|get(?:ting)? help|got help|us\w* the|been referred|referred|refer\w*|"
        r"self ?refer\w*|seek|sought|say|said|mention\w*|put|wr[io]te|written|tell|told|"
        r"reach\w* out|been in touch)\b",
        # what did Ahmed say / what was her mood
        r"\bwhat\s+(?:did|does|has|have|was|were|is)\s+(?!"
        + _SELF_OR_BOT
        + r"\b)"
        + _NOT_PEOPLE
        + r"[\w'.-]+(?:\s[\w'.-]+)?\s+(?:say|said|answer\w*|put|wr[io]te|written|score\w*|"
        r"cho(?:o)?se|chosen|pick\w*|mood|feeling|note|tell|told)\b",
        # Sarah's mood / his check-in / their answers
        r"\b(?!(?:team|ward|everyone|today|week|month|year|what|it|that|there|who|let|here|bot|"
        r"trust|organisation|nhs|council)'s)"
        r"\w+'s\s+(?:answers?|responses?|check ?ins?|checkins?|moods?|scores?|results?|notes?|"
        r"wellbeing|data|feedback|survey|referrals?|requests?|feelings?)\b",
        r"\b(?:his|her|their)\s+(?:answers?|responses?|check ?ins?|checkins?|moods?|scores?|"
        r"notes?|referrals?|requests?)\b",
        # show me individual answers / names of people who answered
        r"\b(?:names? of|individual(?:ly)?\s+(?:answers?|responses?|results?|scores?|data|"
        r"people|moods?)|by name|per person|person by person|each person's|everyone's answers|"
        r"identify (?:who|them|people|the)|pick out|single out)\b",
    )
)


_OWN_DATA = re.compile(
    r"\bmy\s+(?:own\s+)?(?:answers?|responses?|data|check ?ins?|checkins?|notes?|moods?|"
    r"results?|information|details)\b"
)


def asks_about_a_person(text: str) -> bool:
    """Whether a message asks for anything about one person (or who did what)."""
    said = normalise(text)
    if not said or _OWN_DATA.search(said):
        return False
    return any(pattern.search(said) for pattern in _PATTERNS)


async def _sees_figures(turn: Turn) -> bool:
    """Managers, wellbeing leads and admins: the people this refusal is for."""
    user = (turn.event.user_id or "").lower()
    if not user:
        return False
    configured = turn.services.org.roles
    if user in set(configured.admins) | set(configured.wellbeing_leads):
        return True
    return bool(await roles.managed_teams(turn))


async def person_question_stage(turn: Turn) -> list[Reply] | None:
    """A router stage: someone who sees team figures asks about one person: refuse, kindly."""
    if turn.event.value or not turn.event.text.strip():
        return None
    if not asks_about_a_person(turn.event.text):
        return None
    if not await _sees_figures(turn):
        return None
    return [Reply(text=guidance.shipped().messages.refusal)]
