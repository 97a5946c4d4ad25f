"""Bot Framework token validation on /api/messages, with a local signing key and metadata server."""

from __future__ import annotations

import socket

import pytest

from tests.support import activities
from tests.support.activities import TeamsUser
from tests.support.tokens import FixedTokenCredentialsFactory, MetadataServer, SigningKey

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
