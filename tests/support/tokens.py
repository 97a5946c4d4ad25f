"""Bot Framework tokens signed with a local test key, and the OpenID metadata to check them.

The metadata server runs on its own thread: botbuilder fetches it with a blocking call, which
would deadlock a server sharing the test's event loop.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
from botframework.connector.auth import MicrosoftAppCredentials, ServiceClientCredentialsFactory
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

ISSUER = "https://api.botframework.com"


class SigningKey:
    """An RSA key with a key id, published as a JWKS entry endorsed for Teams."""

    def __init__(self, kid: str | None = None):
        self.kid = kid or uuid.uuid4().hex
        self.private = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    def jwk(self) -> dict:
        key = json.loads(RSAAlgorithm.to_jwk(self.private.public_key()))
        key.update(kid=self.kid, use="sig", alg="RS256", endorsements=["msteams"])
        return key

    def token(
        self, *, app_id: str, service_url: str, issuer: str = ISSUER, lifetime: int = 3600, **extra
    ) -> str:
        claims = token_claims(app_id=app_id, service_url=service_url, issuer=issuer)
        claims["exp"] += lifetime - 3600
        claims.update(extra)
        return jwt.encode(claims, self.private, algorithm="RS256", headers={"kid": self.kid})


def token_claims(*, app_id: str, service_url: str, issuer: str = ISSUER) -> dict:
    """What a channel's token says, valid for an hour: sign it, or forge it."""
    # The real clock, on purpose: the SDK checks a token's lifetime against it, not against
    # the app's clock (tests/conftest.py moves both together, so the token is current).
    now = int(time.time())
    return {
        "iss": issuer,
        "aud": app_id,
        "serviceurl": service_url,
        "nbf": now - 60,
        "exp": now + 3600,
    }


class MetadataServer:
    """Serves /.well-known/openidconfiguration and /keys on a thread; counts the fetches.
    `delay` makes every answer that late, `status` makes every answer that error."""

    def __init__(self, keys: list[SigningKey]):
        self.keys = keys
        self.fetches = 0
        self.delay = 0.0
        self.status: int | None = None
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                owner.fetches += 1
                time.sleep(owner.delay)
                if owner.status is not None:
                    self.send_error(owner.status)
                    return
                if self.path == "/.well-known/openidconfiguration":
                    body = {
                        "issuer": ISSUER,
                        "jwks_uri": f"{owner.base_url}/keys",
                        "id_token_signing_alg_values_supported": ["RS256"],
                    }
                elif self.path == "/keys":
                    body = {"keys": [key.jwk() for key in owner.keys]}
                else:
                    self.send_error(404)
                    return
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *_args) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self.metadata_url = f"{self.base_url}/.well-known/openidconfiguration"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> MetadataServer:
        self._thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self._server.shutdown()
        self._server.server_close()


class FixedTokenCredentials(MicrosoftAppCredentials):
    """Outgoing credentials that never call Microsoft's login service."""

    def __init__(self, app_id: str, token: str):
        super().__init__(app_id, "unused")
        self._token = token

    def get_access_token(self, force_refresh: bool = False) -> str:
        return self._token


class FixedTokenCredentialsFactory(ServiceClientCredentialsFactory):
    """Hands the adapter FixedTokenCredentials, so replies carry a known bearer token."""

    def __init__(self, app_id: str, token: str = "outbound-test-token"):
        self.app_id = app_id
        self.token = token

    async def is_valid_app_id(self, app_id: str) -> bool:
        return app_id == self.app_id

    async def is_authentication_disabled(self) -> bool:
        return False

    async def create_credentials(self, app_id, oauth_scope, login_endpoint, validate_authority):
        return FixedTokenCredentials(self.app_id, self.token)
