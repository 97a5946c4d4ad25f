"""Bot Framework token validation on /api/messages, with a local signing key and metadata server."""

from __future__ import annotations

import asyncio
import socket
import time

import jwt
import pytest

from bot.app import AUTHENTICATOR
from tests.support import activities
from tests.support.activities import TeamsUser
from tests.support.tokens import (
    FixedTokenCredentialsFactory,
    MetadataServer,
    SigningKey,
    token_claims,
)

APP_ID = "3f1c7a2e-0d4b-4a8e-9c55-2b7e1f0a9d10"


@pytest.fixture
def signing_key() -> SigningKey:
    return SigningKey()


@pytest.fixture
def metadata(signing_key):
    with MetadataServer([signing_key]) as server:
        yield server


@pytest.fixture
async def secured_bot(make_bot, metadata):
    return await make_bot(
        MicrosoftAppId=APP_ID,
        WELLBEING_OPENID_METADATA_URL=metadata.metadata_url,
        credentials_factory=FixedTokenCredentialsFactory(APP_ID),
    )


def _message(bot, text="help"):
    return activities.personal_message(TeamsUser(), bot.connector.url, text)


async def test_a_valid_token_is_accepted_and_replies_carry_the_bots_own_token(
    secured_bot, signing_key, metadata
):
    token = signing_key.token(app_id=APP_ID, service_url=secured_bot.connector.url)
    for _ in range(3):
        response = await secured_bot.post(
            _message(secured_bot), headers={"Authorization": f"Bearer {token}"}
        )
        assert response.status == 200
    assert len(secured_bot.connector.sent) == 3
    assert {s.authorization for s in secured_bot.connector.sent} == {"Bearer outbound-test-token"}
    assert metadata.fetches == 2  # metadata and keys, once, then cached


@pytest.mark.parametrize(
    "make_header",
    [
        lambda key, url: None,
        lambda key, url: "Bearer",
        lambda key, url: "Bearer not-a-jwt",
        lambda key, url: "Basic dXNlcjpwYXNz",
        lambda key, url: f"Bearer {SigningKey(kid=key.kid).token(app_id=APP_ID, service_url=url)}",
        lambda key, url: f"Bearer {SigningKey().token(app_id=APP_ID, service_url=url)}",
        lambda key, url: f"Bearer {key.token(app_id='someone-elses-bot', service_url=url)}",
        lambda key, url: f"Bearer {key.token(app_id=APP_ID, service_url='https://evil.example/')}",
        lambda key, url: f"Bearer {key.token(app_id=APP_ID, service_url=url, lifetime=-3600)}",
        lambda key, url: (
            f"Bearer {key.token(app_id=APP_ID, service_url=url, issuer='https://sts.windows.net/x/')}"
        ),
    ],
    ids=[
        "missing",
        "empty-bearer",
        "garbage",
        "wrong-scheme",
        "forged-same-kid",
        "unknown-key",
        "wrong-audience",
        "wrong-service-url",
        "expired",
        "wrong-issuer",
    ],
)
async def test_missing_or_bad_tokens_get_401_and_nothing_is_sent(
    secured_bot, signing_key, make_header
):
    header = make_header(signing_key, secured_bot.connector.url)
    headers = {"Authorization": header} if header else {}
    response = await secured_bot.post(_message(secured_bot), headers=headers)
    assert response.status == 401
    assert secured_bot.connector.sent == []


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def test_unreachable_signing_keys_answer_503_so_the_channel_retries(make_bot, signing_key):
    url = f"http://127.0.0.1:{_closed_port()}/.well-known/openidconfiguration"
    bot = await make_bot(
        MicrosoftAppId=APP_ID,
        WELLBEING_OPENID_METADATA_URL=url,
        WELLBEING_OPENID_TIMEOUT=1,
        credentials_factory=FixedTokenCredentialsFactory(APP_ID),
    )
    token = signing_key.token(app_id=APP_ID, service_url=bot.connector.url)
    response = await bot.post(_message(bot), headers={"Authorization": f"Bearer {token}"})
    assert response.status == 503
    assert bot.connector.sent == []


@pytest.fixture
async def bot_without_keys(make_bot, metadata):
    """A bot whose signing keys cannot be fetched: every answer of the metadata server is 503."""
    metadata.status = 503
    return await make_bot(
        MicrosoftAppId=APP_ID,
        WELLBEING_OPENID_METADATA_URL=metadata.metadata_url,
        WELLBEING_OPENID_TIMEOUT=1,
        credentials_factory=FixedTokenCredentialsFactory(APP_ID),
    )


HMAC_KEY = "a-shared-secret-anyone-could-have-made-up"


@pytest.mark.parametrize(
    "forge",
    [
        lambda key, claims: jwt.encode(claims, None, algorithm="none", headers={"kid": key.kid}),
        lambda key, claims: jwt.encode(
            claims, HMAC_KEY, algorithm="HS256", headers={"kid": key.kid}
        ),
        lambda key, claims: jwt.encode(claims, key.private, algorithm="RS256"),
        lambda key, claims: key.token(app_id="someone-elses-bot", service_url=claims["serviceurl"]),
        lambda key, claims: key.token(app_id=APP_ID, service_url="https://evil.example/"),
        lambda key, claims: key.token(
            app_id=APP_ID, service_url=claims["serviceurl"], lifetime=-3600
        ),
    ],
    ids=["alg-none", "hs256", "no-key-id", "wrong-audience", "wrong-service-url", "expired"],
)
async def test_tokens_no_key_could_make_valid_get_401_while_the_keys_cannot_be_fetched(
    bot_without_keys, metadata, signing_key, forge
):
    """Only a token with an unknown key waits for the keys (and gets 503 when they are away)."""
    claims = token_claims(app_id=APP_ID, service_url=bot_without_keys.connector.url)
    token = forge(signing_key, claims)
    response = await bot_without_keys.post(
        _message(bot_without_keys), headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status == 401
    assert metadata.fetches == 0
    assert bot_without_keys.connector.sent == []


async def test_forged_tokens_share_one_key_fetch_and_then_back_off(make_bot, metadata, signing_key):
    """Four forged tokens naming unknown keys, while the key server hangs: one fetch for all of
    them (not four in a row), then none until the back-off has passed, then the real token."""
    metadata.delay = 3  # longer than the 1 s timeout: every fetch times out
    bot = await make_bot(
        MicrosoftAppId=APP_ID,
        WELLBEING_OPENID_METADATA_URL=metadata.metadata_url,
        WELLBEING_OPENID_TIMEOUT=1,
        credentials_factory=FixedTokenCredentialsFactory(APP_ID),
    )
    keys = bot.server.app[AUTHENTICATOR].keys
    url = bot.connector.url
    forged = [SigningKey().token(app_id=APP_ID, service_url=url) for _ in range(4)]
    started = time.monotonic()
    responses = await asyncio.gather(
        *(bot.post(_message(bot), headers={"Authorization": f"Bearer {t}"}) for t in forged)
    )
    assert [r.status for r in responses] == [503] * 4
    assert time.monotonic() - started < 2.5  # one 1 s timeout, not four
    assert metadata.fetches == 1

    genuine = {"Authorization": f"Bearer {signing_key.token(app_id=APP_ID, service_url=url)}"}
    started = time.monotonic()
    assert (await bot.post(_message(bot), headers=genuine)).status == 503
    assert time.monotonic() - started < 0.5  # backing off: answered at once, no fetch
    assert metadata.fetches == 1

    metadata.delay = 0
    keys.monotonic = lambda: time.monotonic() + 3600  # the back-off has passed
    assert (await bot.post(_message(bot), headers=genuine)).status == 200
    assert metadata.fetches == 3  # the metadata and the keys, once
    assert (await bot.post(_message(bot), headers=genuine)).status == 200
    assert metadata.fetches == 3
