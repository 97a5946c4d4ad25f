"""Bot Framework authentication: anonymous in local mode, validated tokens with an app id.

botbuilder 4.17 fetches the OpenID metadata and signing keys with a blocking `requests.get` and no
timeout, inside the event loop. We fetch them ourselves first, in a worker thread with a timeout,
and put them in the SDK's cache, so the SDK never fetches while a request waits.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from types import SimpleNamespace

import jwt
import requests
from botbuilder.integration.aiohttp import ConfigurationServiceClientCredentialFactory
from botframework.connector.auth import (
    AuthenticateRequestResult,
    AuthenticationConstants,
    BotFrameworkAuthentication,
    BotFrameworkAuthenticationFactory,
    ClaimsIdentity,
    ConnectorFactory,
    JwtTokenValidation,
    ServiceClientCredentialsFactory,
)
from botframework.connector.auth.jwt_token_extractor import JwtTokenExtractor

from core.config.settings import Settings

log = logging.getLogger(__name__)

# The SDK refreshes keys older than a day; refreshing a little sooner keeps it from ever doing so.
KEY_MAX_AGE = timedelta(hours=23)
SDK_KEY_MAX_AGE = timedelta(days=1)
# A token naming a key we do not have triggers a refresh, but not more often than this.
UNKNOWN_KEY_REFRESH_INTERVAL = timedelta(minutes=5)
# After a failed fetch, no other is tried for this long, doubling with each failure up to the
# maximum: requests meanwhile are answered at once from the keys we have, or with 503.
FETCH_BACKOFF_FIRST = timedelta(seconds=2)
FETCH_BACKOFF_MAX = timedelta(minutes=1)
# Bot Framework tokens are RS256; the SDK decodes no other algorithm.
TOKEN_ALGORITHM = "RS256"
# The SDK's leeway on a token's lifetime (ChannelValidation's clock_tolerance).
CLOCK_TOLERANCE = timedelta(minutes=5)


class Unauthorized(Exception):
    """The request's credentials are missing or invalid (answer 401)."""


class AuthUnavailable(Exception):
    """The signing keys could not be fetched in time (answer 503 so the channel retries)."""


def metadata_url(settings: Settings) -> str:
    return (
        settings.openid_metadata_url
        or AuthenticationConstants.TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL
    )


def credentials_factory_for(settings: Settings) -> ServiceClientCredentialsFactory:
    """Outgoing credentials from the bot registration (password, single tenant or managed identity)."""
    return ConfigurationServiceClientCredentialFactory(
        SimpleNamespace(
            APP_ID=settings.microsoft_app_id,
            APP_PASSWORD=settings.microsoft_app_password,
            APP_TYPE=settings.microsoft_app_type,
            APP_TENANTID=settings.microsoft_app_tenant_id,
        )
    )


class _ReusedConnectorFactory(ConnectorFactory):
    """Hands out one connector client per bot identity, service URL and audience."""

    def __init__(self, inner: ConnectorFactory, clients: dict, identity: str | None):
        self._inner, self._clients, self._identity = inner, clients, identity

    async def create(self, service_url: str, audience: str | None = None):
        key = (self._identity, service_url, audience)
        if key not in self._clients:
            self._clients[key] = await self._inner.create(service_url, audience)
        return self._clients[key]


def _identity(claims_identity: ClaimsIdentity | None) -> str | None:
    claims = getattr(claims_identity, "claims", None) or {}
    return JwtTokenValidation.get_app_id_from_claims(claims) if claims else None


class ReusedClients(BotFrameworkAuthentication):
    """The SDK's authentication, with the connector and user-token clients it builds for every
    turn made once per bot identity and service URL instead (as the older BotFrameworkAdapter
    did). Building them cost ~15 ms of CPU a turn (msrest rebuilds its retry tables for each),
    most of a core at 50 check-in answers a second. There are a handful of keys per bot."""

    def __init__(self, inner: BotFrameworkAuthentication):
        self._inner = inner
        self._clients: dict = {}
        self._token_clients: dict = {}

    async def authenticate_request(self, activity, auth_header: str) -> AuthenticateRequestResult:
        result = await self._inner.authenticate_request(activity, auth_header)
        if result.connector_factory is not None:
            result.connector_factory = _ReusedConnectorFactory(
                result.connector_factory, self._clients, _identity(result.claims_identity)
            )
        return result

    async def authenticate_streaming_request(self, auth_header: str, channel_id_header: str):
        return await self._inner.authenticate_streaming_request(auth_header, channel_id_header)

    def create_connector_factory(self, claims_identity: ClaimsIdentity) -> ConnectorFactory:
        return _ReusedConnectorFactory(
            self._inner.create_connector_factory(claims_identity),
            self._clients,
            _identity(claims_identity),
        )

    async def create_user_token_client(self, claims_identity: ClaimsIdentity):
        key = _identity(claims_identity)
        if key not in self._token_clients:
            self._token_clients[key] = await self._inner.create_user_token_client(claims_identity)
        return self._token_clients[key]

    def create_bot_framework_client(self):
        return self._inner.create_bot_framework_client()

    def get_originating_audience(self) -> str:
        return self._inner.get_originating_audience()

    async def authenticate_channel_request(self, auth_header: str) -> ClaimsIdentity:
        return await self._inner.authenticate_channel_request(auth_header)


def build_authentication(
    settings: Settings, credentials_factory: ServiceClientCredentialsFactory | None = None
) -> BotFrameworkAuthentication:
    """The SDK's authentication for our settings; `credentials_factory` replaces the login service."""
    return ReusedClients(_sdk_authentication(settings, credentials_factory))


def _sdk_authentication(
    settings: Settings, credentials_factory: ServiceClientCredentialsFactory | None
) -> BotFrameworkAuthentication:
    factory = credentials_factory or credentials_factory_for(settings)
    if not settings.openid_metadata_url:
        return BotFrameworkAuthenticationFactory.create(credential_factory=factory)
    return BotFrameworkAuthenticationFactory.create(
        credential_factory=factory,
        to_channel_from_bot_login_url=AuthenticationConstants.TO_CHANNEL_FROM_BOT_LOGIN_URL,
        to_channel_from_bot_oauth_scope=AuthenticationConstants.TO_CHANNEL_FROM_BOT_OAUTH_SCOPE,
        to_bot_from_channel_token_issuer=settings.token_issuer,
        to_bot_from_channel_open_id_metadata_url=settings.openid_metadata_url,
        to_bot_from_emulator_open_id_metadata_url=settings.openid_metadata_url,
    )


def _fetch_keys(url: str, timeout: float) -> list[dict]:
    """Blocking fetch of the metadata document and its JWKS; run in a worker thread."""
    metadata = requests.get(url, timeout=timeout)
    metadata.raise_for_status()
    response = requests.get(metadata.json()["jwks_uri"], timeout=timeout)
    response.raise_for_status()
    keys = response.json()["keys"]
    if not isinstance(keys, list) or not all(isinstance(key, dict) for key in keys):
        raise ValueError("the JWKS holds no list of keys")
    return keys


class SigningKeys:
    """Keeps the SDK's cache of Bot Framework signing keys fresh without blocking the loop.

    One fetch at a time for everyone: a request that needs the keys while a fetch is under way
    waits for that fetch instead of starting its own, and after a failure none is tried until a
    back-off has passed, so forged tokens naming unknown keys cannot queue fetches behind which
    Teams' own requests wait.

    Two clocks, both passed in, and not the app's: the SDK stamps and ages its key cache with
    its own clock (naive local wall time, as it checks tokens' lifetimes), so this cache is read
    and written with `sdk_clock`, which must be that clock; the waits between attempts are
    intervals, measured on `monotonic`."""

    def __init__(
        self,
        url: str,
        timeout: float,
        *,
        sdk_clock: Callable[[], datetime],
        monotonic: Callable[[], float] = time.monotonic,
    ):
        self.url = url
        self.timeout = timeout
        self.sdk_clock = sdk_clock
        self.monotonic = monotonic
        self._fetch: asyncio.Task[None] | None = None
        self._last_attempt: float | None = None
        self._last_failed = False
        self._failures = 0
        self._retry_at = 0.0

    def _cache(self):
        return JwtTokenExtractor.get_open_id_metadata(self.url)

    def _age(self) -> timedelta:
        return self.sdk_clock() - self._cache().last_updated

    def _known(self, key_id: str) -> bool:
        return any(key.get("kid") == key_id for key in self._cache().keys)

    def _may_look_for(self, key_id: str) -> bool:
        """A key we do not have may be a new one: look, but not more often than the interval."""
        return not self._known(key_id) and (
            self._last_attempt is None
            or self.monotonic() - self._last_attempt > UNKNOWN_KEY_REFRESH_INTERVAL.total_seconds()
        )

    async def ensure(self, key_id: str) -> None:
        """Make sure the SDK has usable keys, including `key_id`. Raises Unauthorized if the
        current keys do not include it, AuthUnavailable if the keys could not be fetched."""
        if self._age() > KEY_MAX_AGE or self._may_look_for(key_id):
            await self._refresh()
        if self._known(key_id) and self._age() <= SDK_KEY_MAX_AGE:
            return
        if self._last_failed:
            raise AuthUnavailable("signing keys unavailable")
        raise Unauthorized("token signed with an unknown key")

    async def _refresh(self) -> None:
        """Wait for the fetch under way, or start one unless backing off from a failure."""
        if self._fetch is None:
            if self._last_failed and self.monotonic() < self._retry_at:
                return
            self._fetch = asyncio.create_task(self._fetch_once(), name="signing-keys")
        # Shielded: a request that gives up does not cancel the fetch the others wait for.
        await asyncio.shield(self._fetch)

    async def _fetch_once(self) -> None:
        self._last_attempt = self.monotonic()
        try:
            keys = await asyncio.wait_for(
                asyncio.to_thread(_fetch_keys, self.url, self.timeout), self.timeout * 2 + 1
            )
        except (requests.RequestException, TimeoutError, KeyError, ValueError) as error:
            self._failures += 1
            backoff = min(
                FETCH_BACKOFF_FIRST * 2 ** (self._failures - 1), FETCH_BACKOFF_MAX
            ).total_seconds()
            self._retry_at = self.monotonic() + backoff
            self._last_failed = True
            log.warning(
                "could not fetch Bot Framework signing keys (%s); next try in %.0f s",
                type(error).__name__,
                backoff,
            )
        else:
            cache = self._cache()
            cache.keys = keys
            cache.last_updated = self.sdk_clock()
            self._failures, self._last_failed = 0, False
        finally:
            self._fetch = None


class RequestAuthenticator:
    """Turns an Authorization header into the SDK's AuthenticateRequestResult, or a clear refusal.

    A token is first checked for everything that needs no key (algorithm, issuer, audience,
    lifetime, service URL), as the SDK would check it: one that fails is refused with 401 at
    once, whether or not the signing keys can be fetched. Only a token that could be genuine
    waits for the keys."""

    def __init__(
        self,
        settings: Settings,
        authentication: BotFrameworkAuthentication,
        *,
        sdk_clock: Callable[[], datetime],
    ):
        self.settings = settings
        self.authentication = authentication
        self.keys = SigningKeys(
            metadata_url(settings), settings.openid_fetch_timeout, sdk_clock=sdk_clock
        )

    def _plausible(self, token: str, activity) -> str:
        """The id of the key that must have signed `token`; Unauthorized for a token no key
        could make valid."""
        try:
            header = jwt.get_unverified_header(token)
            claims = jwt.decode(
                token,
                options={
                    "verify_signature": False,
                    "verify_exp": True,
                    "verify_nbf": True,
                    "verify_aud": True,
                },
                audience=self.settings.microsoft_app_id,
                leeway=CLOCK_TOLERANCE,
            )
        except jwt.PyJWTError as error:
            raise Unauthorized(f"token refused ({type(error).__name__})") from error
        if header.get("alg") != TOKEN_ALGORITHM:
            raise Unauthorized("token not signed with RS256")
        key_id = header.get("kid")
        if not isinstance(key_id, str) or not key_id:
            raise Unauthorized("token names no signing key")
        if claims.get("iss") != self.settings.token_issuer:
            raise Unauthorized("token from an unexpected issuer")
        if claims.get("serviceurl") != activity.service_url:
            raise Unauthorized("token for another service URL")
        return key_id

    async def authenticate(self, activity, auth_header: str) -> AuthenticateRequestResult:
        if self.settings.local_mode:
            return await self.authentication.authenticate_request(activity, "")
        scheme, _, token = (auth_header or "").partition(" ")
        if scheme != "Bearer" or not token:
            raise Unauthorized("missing bearer token")
        key_id = self._plausible(token, activity)
        await self.keys.ensure(key_id)
        try:
            return await self.authentication.authenticate_request(activity, auth_header)
        # The SDK signals bad tokens with PermissionError, PyJWT errors and bare Exceptions alike.
        except Exception as error:
            raise Unauthorized(type(error).__name__) from error
