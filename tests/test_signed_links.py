"""Signed links (a person's export, the lead's report): never in a log line, used once, by a
POST from the page a GET shows, and dead once their person's data is erased."""

from __future__ import annotations

import logging
from urllib.parse import urlparse

import pytest
from sqlmodel import select

from core.privacy.links import IssuedLink
from tests.support.activities import TeamsUser
from tests.support.clock import TEST_EPOCH, Clock

pytestmark = pytest.mark.time_sensitive

LEAD = TeamsUser(name="Lee Lead")


def _link_path(reply: dict) -> str:
    [action] = reply["attachments"][0]["content"]["actions"]
    assert action["type"] == "Action.OpenUrl"
    return urlparse(action["url"]).path


@pytest.fixture
async def lead_bot(make_bot, org):
    config = org.model_copy(
        update={"roles": org.roles.model_copy(update={"wellbeing_leads": [LEAD.aad_object_id]})}
    )
    return await make_bot(org_config=config, clock=Clock(), WELLBEING_LOG_LEVEL="DEBUG")


async def test_no_token_reaches_a_log_line_and_each_link_works_once(lead_bot, caplog):
    caplog.set_level(logging.DEBUG)
    bot, person = lead_bot, TeamsUser()
    await bot.install(person)
    await bot.install(LEAD)
    export = _link_path((await bot.say(person, "export my data"))[0])
    report = _link_path((await bot.say(LEAD, "report"))[0])
    tokens = [export.rsplit("/", 1)[1], report.rsplit("/", 1)[1]]
    assert all(len(token) > 40 for token in tokens)

    for path in (export, report):
        for _ in range(2):  # a link scanner, then the person: looking uses nothing
            page, body = await bot.fetch("GET", path)
            assert page.status == 200 and b'<form method="post">' in body
        used, _ = await bot.fetch("POST", path)
        assert used.status == 200
        again, body = await bot.fetch("POST", path)
        assert again.status == 410 and b"has been used" in body
        assert (await bot.fetch("GET", path))[0].status == 410

    lines = [record.getMessage() for record in caplog.records]
    assert any("/export/{token}" in line for line in lines), "the access log names the route"
    for token in tokens:
        assert not any(token in line for line in lines)
        assert not any(token[:16] in line for line in lines)


async def test_erasing_a_persons_data_kills_their_unused_links(lead_bot):
    bot, person = lead_bot, TeamsUser()
    await bot.install(person)
    path = _link_path((await bot.say(person, "export my data"))[0])
    assert (await bot.fetch("GET", path))[0].status == 200
    await bot.say(person, "yes delete my data")
    for method in ("GET", "POST"):
        response, body = await bot.fetch(method, path)
        assert response.status == 404 and b"expired" in body


async def test_a_link_is_recorded_by_its_hash_only(lead_bot):
    bot, person = lead_bot, TeamsUser()
    await bot.install(person)
    token = _link_path((await bot.say(person, "export my data"))[0]).rsplit("/", 1)[1]
    async with bot.services.sessions() as session:
        [row] = (await session.exec(select(IssuedLink))).all()
    assert row.digest != token and len(row.digest) == 64 and row.used_at is None
    assert row.aad_object_id == person.aad_object_id
    assert row.issued_at == TEST_EPOCH  # the app's clock, years away from the wall clock
