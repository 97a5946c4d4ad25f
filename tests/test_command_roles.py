"""Commands declare the role they need (`Command.requires`); the router refuses everyone else
before the handler runs, in one wording (dialogs/roles.py). One test per role a command
requires, through the real endpoint: refused without it, served with it."""

from __future__ import annotations

import pytest

from dialogs import roles
from dialogs.commands import ROLES, Command, CommandTable
from dialogs.router import default_commands
from tests.support.activities import TeamsUser
from tests.test_faq import ADMIN, Channels

HR_ADMIN = "00000000-0000-0000-0000-0000000000b1"  # roles.hr_admins in the bundled example
LEAD = "00000000-0000-0000-0000-0000000000a2"  # roles.wellbeing_leads


async def _noop(_turn, _argument):
    return []


def test_every_role_has_a_check_and_the_words_of_its_refusal():
    assert set(roles.CHECKS) == set(roles.WHO) == set(roles.HOW) == set(ROLES)
    required = {c.requires for c in default_commands().commands} - {None}
    assert required == {"admin", "hr_admin", "hr_expert", "lead"}


def test_a_command_cannot_require_a_role_nobody_can_hold():
    with pytest.raises(ValueError, match="requires an unknown role"):
        CommandTable([Command("odd", "odd", _noop, requires="owner")])


def test_one_refusal_wording_names_the_command_or_says_that():
    typed = Command("faq add", "add", _noop, requires="hr_admin")
    card = Command("faq.save", "save", _noop, typed=False, requires="hr_admin")
    assert roles.refusal(typed).startswith("Only HR admins can use **faq add**. ")
    assert roles.refusal(card).startswith("Only HR admins can do that. ")


async def test_hr_admin_commands_refuse_others_and_serve_hr_admins(bot):
    someone, hr_admin = TeamsUser(), TeamsUser(aad_object_id=HR_ADMIN, name="Henry HR")
    await bot.install(someone)
    await bot.install(hr_admin)
    [refused] = await bot.say(someone, "faq add")
    assert refused["text"] == roles.refusal(default_commands().get("faq add"))
    [served] = await bot.say(hr_admin, "faq add")
    assert served["attachments"][0]["content"]["type"] == "AdaptiveCard"


async def test_hr_expert_commands_refuse_others_and_serve_the_experts_channel(bot):
    rooms = Channels(bot)
    await rooms.register_experts()
    _, [refused] = await rooms.ask("faq open")  # the trainers' channel, not the experts'
    assert refused.body["text"] == roles.refusal(default_commands().get("faq open"))
    assert "HR experts channel" in refused.body["text"]
    _, [served] = await rooms.ask("faq open", user=rooms.expert, channel=rooms.experts)
    assert served.body["text"] == "Nothing is waiting for an HR expert right now."


async def test_admin_commands_refuse_others_and_serve_admins(bot):
    rooms = Channels(bot)
    _, [refused] = await rooms.ask("register experts channel", channel=rooms.experts)
    assert refused.body["text"] == roles.refusal(default_commands().get("register experts channel"))
    admin = TeamsUser(aad_object_id=ADMIN, name="Ada Admin")
    _, [served] = await rooms.ask("register experts channel", user=admin, channel=rooms.experts)
    assert served.body["text"].startswith("Done: this is now the HR experts channel.")


async def test_lead_commands_refuse_others_and_serve_wellbeing_leads(bot):
    someone, lead = TeamsUser(), TeamsUser(aad_object_id=LEAD, name="Lee Lead")
    await bot.install(someone)
    await bot.install(lead)
    [refused] = await bot.say(someone, "report")
    assert refused["text"] == roles.refusal(default_commands().get("report"))
    assert "wellbeing lead" in refused["text"]
    [served] = await bot.say(lead, "report")
    assert "Only" not in served.get("text", "") and served["attachments"]
