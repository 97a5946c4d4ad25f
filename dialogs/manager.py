"""What line managers get: the team digest (words, never individual data), fresh conversation
prompts, checklist guides for the conversations the wellbeing policy asks for, and a polite
refusal whenever anyone with a reporting role asks about one person.

Manager-facing: it reads frozen summaries through core.reporting and never per-person rows
(tests/test_privacy_inventory.py checks its imports).
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from datetime import date

from core import orgimport, reporting
from core.aggregates import Summary
from core.context import Turn
from core.events import Card, Reply
from core.orgconfig import OrgConfig
from dialogs.commands import Command
from dialogs.text import normalise

# ---- prompts, in our own words, from the wellbeing-conversation and policy guidance ---------

OPENER = (
    "Start with \u201cHow are you, really?\u201d, and give the answer time. If the first reply "
    "is \u201cfine\u201d, it's okay to ask again, gently."
)

ONE_TO_ONE = (
    "What's gone well for you lately, and what helped it go well?",
    "When do you feel at your best at work? How could we make more room for that?",
    "What's taking up most of your energy at the moment?",
    "Is anything getting in the way of doing your job the way you'd like to?",
    "What's one thing I could do, or stop doing, that would make your week easier?",
    "How are you looking after yourself at the moment? Is there anything that would help?",
    "What are you proud of from the last few weeks?",
    "Which parts of your work give you energy, and which drain it?",
    "When things were tough before, what helped you through?",
    "Is there anything outside work that's making work harder right now? You only need to "
    "share what you want to.",
    "What would a good week look like for you?",
    "What support would make the biggest difference to you right now?",
)

TEAM_IDEAS = {
    "demands": "Workload: ask the team what's piling up, what could stop, wait or be shared, and "
    "which one change would help most. Agree it together and come back to it in a fortnight.",
    "control": "Ask the team where they'd like more say in how work is organised: rotas, "
    "priorities, who does what.",
    "support": "Talk about what good support looks like, from you and from each other, and how "
    "people can ask for help early, before things build up.",
    "relationships": "Talk together about how the team treats each other, especially under "
    "pressure, and agree what everyone can expect of one another.",
    "role": "Go through priorities together so everyone knows what's expected of them, and clear "
    "up anything that's unclear or pulling in two directions.",
    "change": "If changes are coming, share what you know, when you'll know more, and how people "
    "can ask questions or have a say.",
    "personal": "Remind the team that flexible working is there to ask about, and that they can "
    "talk to you in confidence about things outside work that affect them.",
    "health": "Make sure everyone knows occupational health is there for them, including for "
    "muscle and joint problems, and that they can refer themselves.",
    "low_mood": "Be visible and available this week. Mention the support below in a huddle, so "
    "nobody has to ask for it.",
}

GENERAL_IDEAS = (
    "Open your next team meeting with a quick round of \u201cone good thing this week\u201d.",
    "Ask the team: what's one thing that would make next week better, and what can we do about "
    "it together?",
    "Thank people for something specific they did this week. It matters more than it seems.",
    "Check that everyone is taking their breaks, and that nobody feels they can't.",
    "Ask the team what's working well right now, so you can protect it.",
)

RISK_ASSESSMENT = (
    "Demands stand out for your team. Consider a team stress risk assessment using the HSE "
    "Management Standards (demands, control, support, relationships, role and change): a short "
    "anonymous team questionnaire, then a team session to agree actions together. Say **guide "
    "team stress** for a checklist."
)

REVIEWS = (
    "When someone comes back after time off, hold a welcome-back health review: a supportive talk "
    "about the support they've had and what else would help, not a trigger meeting about their "
    "absence. Where it helps, agree a personalised action plan together. Say **guide welcome "
    "back** or **guide action plan** for a checklist."
)

KIND_WORDS = {
    "staff_support_coordinator": "confidential staff support coordinator",
    "eap": "employee assistance programme: counselling and advice, any time",
    "occupational_health": "occupational health",
    "chaplaincy": "chaplaincy and spiritual care, for people of any faith or none",
    "speak_up": "Freedom to Speak Up, for raising a concern safely",
}
SERVICE_KINDS = ("staff_support_coordinator", "eap", "occupational_health", "chaplaincy")

HIDDEN_MESSAGE = (
    "Your team's results are hidden this time to protect people's privacy. I only show a team "
    "summary when enough people have answered that nobody could be picked out, and I never show "
    "anything about one person. The prompts below still apply."
)

TRUST_NOTE = (
    "This is a summary for the whole team, never anyone's own answers. Please don't try to find "
    "out who answered or who asked for support: people are honest because it stays private."
)

REFUSAL = (
    "I can't tell you anything about one person: not how they're doing, whether they answered, "
    "or whether they asked for support. That stays private to them, and it's why people feel able "
    "to be honest with me.\n\nIf you're worried about someone, the best thing is a private, kind "
    "conversation: ask them how they are, really. Say **guide conversation** for a checklist, or "
    "**team** for your team's summary."
)


def services_to_mention(org: OrgConfig) -> list[str]:
    """The support services to mention to the team, named by kind from the service directory."""
    lines = []
    for kind in SERVICE_KINDS:
        for service in org.support.of_kind(kind):
            lines.append(f"{service.name}: {KIND_WORDS[kind]}")
    if not lines:
        lines = [f"The {KIND_WORDS[kind]}" for kind in SERVICE_KINDS]
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
    one_to_one = rng.sample(ONE_TO_ONE, 3)
    team: list[str] = []
    if "demands_stand_out" in signals:
        team.append(RISK_ASSESSMENT)
    for signal in ("demands", "low_mood", "support", "control", "relationships", "role", "change"):
        if signal in signals:
            team.append(TEAM_IDEAS[signal])
    for signal in ("work", "personal", "health"):
        if signal in signals:
            team.append(TEAM_IDEAS["demands" if signal == "work" else signal])
    team = list(dict.fromkeys(team))[:3]
    general = [idea for idea in GENERAL_IDEAS]
    rng.shuffle(general)
    team += general[: max(0, 2 - len(team))]
    return Prompts(OPENER, tuple(one_to_one), tuple(team), REVIEWS, tuple(services_to_mention(org)))


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
        "hidden_message": HIDDEN_MESSAGE,
        "facts": facts,
        "change": change,
        "themes": themes,
        "strengths": strengths,
        "sections": _prompt_sections(prompts),
        "trust_note": TRUST_NOTE,
    }
    lines = [f"**{context['title']}** ({context['subtitle']})"]
    if summary.shown:
        lines += [f"- {f['title']}: {f['value']}" for f in facts]
        if change:
            lines.append(change)
        if themes:
            lines.append("Most often mentioned: " + "; ".join(themes))
    else:
        lines.append(HIDDEN_MESSAGE)
    for section in context["sections"]:
        lines.append(f"**{section['heading']}**")
        lines += [f"- {item}" for item in section["items"]]
    lines.append(TRUST_NOTE)
    return Card("manager_digest", context, fallback_text="\n".join(lines))


# ---- guides: checklists the manager keeps; nothing about the staff member is stored ----------


@dataclass(frozen=True)
class Guide:
    """A conversation guide as a checklist."""

    id: str
    title: str
    intro: str
    sections: tuple[tuple[str, tuple[str, ...]], ...]
    aliases: tuple[str, ...]


GUIDES = (
    Guide(
        "conversation",
        "A wellbeing conversation",
        "A private, unhurried talk about how someone is, not about performance. Let them lead; "
        "your job is mostly to listen.",
        (
            (
                "Before",
                (
                    "Protect the time: at least half an hour, somewhere private, phones away.",
                    "Tell them what it's for: how they are, and what would help. Not an appraisal.",
                    "Have the support services to hand (say **prompts** for the list).",
                ),
            ),
            (
                "During",
                (
                    "Ask \u201cHow are you, really?\u201d and give the answer time.",
                    "Start from strengths: what's going well, and what helps when it does.",
                    "Ask what's affecting them most, at work, at home or with their health, and "
                    "let them choose how much to share.",
                    "Listen more than you talk. Reflect back what you heard before offering ideas.",
                    "Ask what would help, and what they'd like from you.",
                    "Mention the support they can go to themselves, in confidence.",
                ),
            ),
            (
                "Agree",
                (
                    "One or two small, practical steps, and who does what.",
                    "When you'll check in again.",
                    "What, if anything, they're happy for you to note down, and what stays "
                    "between you.",
                ),
            ),
            (
                "After",
                (
                    "Do what you said you would, and soon.",
                    "Keep what they told you confidential.",
                    "If you're worried about their safety, urgent help comes first.",
                ),
            ),
        ),
        ("conversation", "wellbeing", "wellbeing conversation", "one to one", "1 to 1"),
    ),
    Guide(
        "welcome_back",
        "A welcome-back health review",
        "A supportive meeting when someone returns after time off, or when absences raise a "
        "concern. It replaces the old trigger-based return-to-work interview: the aim is to work "
        "together on their wellbeing, not to count days.",
        (
            (
                "Before",
                (
                    "Welcome them back on their first day, even briefly.",
                    "Book the review soon, somewhere private, and tell them what it's for.",
                    "Look at what support has been offered so far: occupational health advice, "
                    "adjustments, referrals they told you about.",
                ),
            ),
            (
                "Talk through",
                (
                    "How they are now, and how the return is going.",
                    "What support they've had so far, and what has helped.",
                    "What else could help: occupational health, the employee assistance "
                    "programme, a phased return, changes to hours or duties.",
                    "Whether anything at work contributed, and what could change.",
                    "If it relates to a disability, whether disability leave or reasonable "
                    "adjustments apply.",
                ),
            ),
            (
                "Agreed actions",
                (
                    "Write down the actions together: what, who, and by when.",
                    "Agree a personalised action plan if it would help (say **guide action "
                    "plan**).",
                    "Set a date to review how it's going.",
                    "Share the note of agreed actions with them; keep health details out of it "
                    "unless they agree.",
                ),
            ),
        ),
        ("welcome back", "welcome back review", "health review", "return", "return to work"),
    ),
    Guide(
        "action_plan",
        "A personalised action plan",
        "A plan you agree together to help someone stay well at work or return well. They own "
        "it; you support it.",
        (
            (
                "Goals that are SMART",
                (
                    "Specific: what exactly will change? (\u201cFinish by 6pm on three days a "
                    "week\u201d, not \u201cwork less\u201d.)",
                    "Measurable: how will you both know it's happening?",
                    "Achievable: is it realistic with the support available?",
                    "Relevant: does it tackle what's actually affecting them?",
                    "Time-bound: when will you look at it again?",
                ),
            ),
            (
                "Reasonable adjustments to consider",
                (
                    "Changes to hours, shift patterns or start and finish times.",
                    "A phased return, building up over a few weeks.",
                    "Different duties for a while, or sharing out tasks that are hard right now.",
                    "Equipment, a workstation assessment, or a quieter place to work.",
                    "Working from home where the role allows.",
                    "Extra breaks, or time off for appointments and treatment (disability leave "
                    "where it applies).",
                    "Occupational health advice on what would help.",
                ),
            ),
            (
                "Support",
                (
                    "Services they can use themselves: the employee assistance programme, "
                    "occupational health, chaplaincy, the staff support coordinator.",
                    "What you will do, and by when.",
                ),
            ),
            (
                "Review",
                (
                    "Agree the first review date before you finish.",
                    "At each review: what's working, what isn't, what to change.",
                    "Keep the plan with them; share it only as they agree.",
                ),
            ),
        ),
        ("action plan", "plan", "personalised action plan", "smart", "smart goals", "adjustments"),
    ),
    Guide(
        "team_stress",
        "A team stress risk assessment",
        "When demands stand out for a team, look at the causes together, using the six HSE "
        "Management Standards: demands, control, support, relationships, role and change.",
        (
            (
                "Prepare",
                (
                    "Ask your wellbeing lead or health and safety adviser for the team "
                    "questionnaire, and agree a facilitator if you have one.",
                    "Tell the team why you're doing it and that answers are anonymous.",
                ),
            ),
            (
                "Ask",
                (
                    "Run the short anonymous questionnaire on the six standards.",
                    "Share the team-level results with the team, never anyone's answers.",
                ),
            ),
            (
                "Act together",
                (
                    "Hold a team session to pick the one or two areas that matter most.",
                    "Agree practical actions, who leads each, and by when.",
                    "Record the assessment and the actions as your organisation asks.",
                    "Come back to it in a few months to see what changed.",
                ),
            ),
        ),
        ("team", "team stress", "stress", "risk assessment", "stress risk assessment", "hse"),
    ),
)


def find_guide(argument: str) -> Guide | None:
    said = normalise(argument).removesuffix(" guide").removeprefix("for ").removeprefix("a ")
    for guide in GUIDES:
        if said == guide.id.replace("_", " ") or said in guide.aliases:
            return guide
    return None


def guide_card(guide: Guide) -> Card:
    sections = [
        {"heading": heading, "items": list(items), "checklist": True}
        for heading, items in guide.sections
    ]
    lines = [f"**{guide.title}**", guide.intro]
    for heading, items in guide.sections:
        lines.append(f"**{heading}**")
        lines += [f"- [ ] {item}" for item in items]
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
    actions = [{"title": g.title, "command": "guide", "argument": g.aliases[0]} for g in GUIDES]
    intro = "Which guide would you like? Each is a checklist you can keep."
    text = intro + "\n" + "\n".join(f"- **guide {g.aliases[0]}**: {g.title}" for g in GUIDES)
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


async def _managed(turn: Turn) -> list[orgimport.OrgTeamView]:
    if not turn.event.user_id:
        return []
    async with turn.services.sessions() as session:
        return await orgimport.managed_by(session, turn.services.org, turn.event.user_id)


NOT_A_MANAGER = (
    "Team summaries go to the line managers named for each team. If you manage a team and "
    "aren't getting them, ask your wellbeing lead to add you. Say **prompts** for conversation "
    "questions or **guide** for checklists; anyone can use those."
)


async def _team(turn: Turn, _argument: str) -> list[Reply]:
    """`team`: the latest digest again, for each team the person manages."""
    teams = await _managed(turn)
    if not teams:
        return [Reply(text=NOT_A_MANAGER)]
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
    teams = await _managed(turn)
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
                    "footer": TRUST_NOTE,
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
    roles = turn.services.org.roles
    if user in set(roles.admins) | set(roles.wellbeing_leads):
        return True
    return bool(await _managed(turn))


async def person_question_stage(turn: Turn) -> list[Reply] | None:
    """A router stage: someone who sees team figures asks about one person: refuse, kindly."""
    if turn.event.value or not turn.event.text.strip():
        return None
    if not asks_about_a_person(turn.event.text):
        return None
    if not await _sees_figures(turn):
        return None
    return [Reply(text=REFUSAL)]
