"""Token model: RSA signing keys, JWT issue and validation, refresh tokens. No HTTP here.

Tokens follow insights-hub-api.md §2.4: RS256 with a ``kid`` header, claims ``jti, sub, scope``
(a JSON array), ``client_id, cid, azp, grant_type, rev_sig, iat, exp, iss, ten`` plus
``subtenant`` and ``user_name`` where they apply. ``token_keys`` lists the signing key first,
because the Node SDK only ever matches ``keys[0]``.

Not emulated: key rotation over time, token revocation lists, the authorization-code grant
itself (``/_emulator/refresh-token`` hands out what it would have issued).
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from .errors import OAuthError, token_validation_failed

SIGNING_KID = "key-id-1"
# A second, older public key listed after the signing key, so clients that pick by `kid` are
# exercised as well as those that take keys[0] (§2.4).
RETIRED_KID = "key-id-0"
_CACHE_LIMIT = 10_000


def _b64url_uint(value: int) -> str:
    raw = value.to_bytes((value.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


@dataclass
class SigningKey:
    """An RSA key pair published on ``/token_keys``.

    :param kid: key id put in the JWT header
    """

    kid: str
    private_key: rsa.RSAPrivateKey = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    def jwk(self) -> dict[str, str]:
        """Return the key in the ``token_keys`` shape (§2.4)."""
        public = self.private_key.public_key()
        pem = public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
        numbers = public.public_numbers()
        return {
            "kty": "RSA",
            "e": _b64url_uint(numbers.e),
            "use": "sig",
            "kid": self.kid,
            "alg": "RS256",
            "value": pem,
            "n": _b64url_uint(numbers.n),
        }


@dataclass
class RefreshGrant:
    """What a refresh token stands for.

    :param client_id: the client it was issued to
    :param tenant: tenant of the tokens it yields
    :param scopes: scopes of the tokens it yields
    :param expires_at: epoch seconds
    :param user_name: the user of the authorization-code flow, if any
    """

    client_id: str
    tenant: str
    scopes: tuple[str, ...]
    expires_at: float
    user_name: str | None = None
    revoked: bool = False


class TokenService:
    """Issue and validate tokens; hold refresh tokens.

    :param lifetime_s: callable returning the current access-token lifetime (faults may change it)
    :param refresh_lifetime_s: refresh-token lifetime (12 h, S3)
    :param refresh_reuse: keep a used refresh token valid until it expires
    :param clock: epoch-seconds clock
    """

    def __init__(
        self,
        lifetime_s: Callable[[], int],
        refresh_lifetime_s: int,
        refresh_reuse: bool,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.keys = [SigningKey(SIGNING_KID), SigningKey(RETIRED_KID)]
        self._public = {k.kid: k.private_key.public_key() for k in self.keys}
        self._lifetime_s = lifetime_s
        self._refresh_lifetime_s = refresh_lifetime_s
        self._refresh_reuse = refresh_reuse
        self._clock = clock
        self._refresh: dict[str, RefreshGrant] = {}
        self._verified: dict[str, dict[str, Any]] = {}

    def reset(self) -> None:
        """Forget refresh tokens and the validation cache (keys stay, so tokens stay valid)."""
        self._refresh.clear()
        self._verified.clear()

    def token_keys(self) -> dict[str, Any]:
        """Return the ``/token_keys`` document, signing key first."""
        return {"keys": [k.jwk() for k in self.keys]}

    def issue(
        self,
        *,
        client_id: str,
        tenant: str,
        scopes: tuple[str, ...] | list[str],
        grant_type: str,
        issuer: str,
        subtenant: str | None = None,
        user_name: str | None = None,
        lifetime_s: int | None = None,
    ) -> tuple[str, dict[str, Any]]:
        """Sign an access token and return ``(jwt, claims)``.

        :param client_id: the OAuth client
        :param tenant: the ``ten`` claim, which selects the data the token may reach
        :param scopes: scopes (a JSON array in the token)
        :param grant_type: the grant that produced it
        :param issuer: the ``iss`` claim (the token URL)
        :param subtenant: impersonated subtenant, if any
        :param user_name: user of a user token, if any
        :param lifetime_s: lifetime override; defaults to the configured/fault lifetime
        """
        now = int(self._clock())
        lifetime = int(lifetime_s if lifetime_s is not None else self._lifetime_s())
        claims: dict[str, Any] = {
            "jti": uuid.uuid4().hex,
            "sub": _user_id(tenant, user_name) if user_name else client_id,
            "scope": list(scopes),
            "client_id": client_id,
            "cid": client_id,
            "azp": client_id,
            "grant_type": grant_type,
            "rev_sig": hashlib.sha256(f"{client_id}:{tenant}".encode()).hexdigest()[:8],
            "iat": now,
            "exp": now + lifetime,
            "iss": issuer,
            "ten": tenant,
        }
        if subtenant:
            claims["subtenant"] = subtenant
        if user_name:
            claims["user_name"] = user_name
            claims["user_id"] = claims["sub"]
        signing = self.keys[0]
        token = jwt.encode(claims, signing.private_key, algorithm="RS256", headers={"kid": signing.kid})
        return token, claims

    def verify(self, token: str) -> dict[str, Any]:
        """Validate a bearer token's signature and ``exp`` and return its claims.

        :param token: the JWT
        :raises OAuthError: 401 ``token_validation_failed``
        """
        claims = self._verified.get(token)
        if claims is None:
            claims = self._decode(token)
            if len(self._verified) >= _CACHE_LIMIT:
                self._verified.clear()
            self._verified[token] = claims
        if claims["exp"] <= self._clock():
            raise token_validation_failed()
        return claims

    def _decode(self, token: str) -> dict[str, Any]:
        try:
            kid = jwt.get_unverified_header(token).get("kid")
            key = self._public.get(kid) if isinstance(kid, str) else None
            if key is None:
                raise token_validation_failed()
            claims = jwt.decode(
                token,
                key,
                algorithms=["RS256"],
                # Times are judged against the emulator's own clock below, not PyJWT's wall clock.
                options={"require": ["exp", "iat"], "verify_exp": False, "verify_iat": False, "verify_nbf": False},
            )
        except jwt.PyJWTError as exc:
            raise token_validation_failed() from exc
        if not isinstance(claims.get("ten"), str) or not isinstance(claims.get("scope"), list):
            raise token_validation_failed()
        return claims

    def new_refresh_token(
        self, client_id: str, tenant: str, scopes: tuple[str, ...] | list[str], user_name: str | None
    ) -> str:
        """Store and return a new opaque refresh token.

        :param client_id: client the token belongs to
        :param tenant: tenant of the access tokens it yields
        :param scopes: scopes of those tokens
        :param user_name: user of the authorization-code flow
        """
        value = secrets.token_urlsafe(32) + "-r"
        expires = self._clock() + self._refresh_lifetime_s
        self._refresh[value] = RefreshGrant(client_id, tenant, tuple(scopes), expires, user_name)
        return value

    def use_refresh_token(self, value: str, client_id: str) -> RefreshGrant:
        """Check a refresh token presented by ``client_id`` and return its grant.

        :param value: the refresh token
        :param client_id: the authenticated client (must own the token)
        :raises OAuthError: 401 ``invalid_token`` (UAA style) when unknown, revoked, expired or
            issued to another client
        """
        grant = self._refresh.get(value)
        if grant is None or grant.revoked or grant.client_id != client_id:
            raise OAuthError(401, "invalid_token", "Invalid refresh token")
        if grant.expires_at <= self._clock():
            raise OAuthError(401, "invalid_token", "Invalid refresh token (expired)")
        if not self._refresh_reuse:
            grant.revoked = True
        return grant


def _user_id(tenant: str, user_name: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"mdsp-emulator:{tenant}:user:{user_name}"))


def user_id(tenant: str, user_name: str) -> str:
    """Return the deterministic Identity Management id of a user.

    :param tenant: tenant name
    :param user_name: the user's ``userName``
    """
    return _user_id(tenant, user_name)
