"""The fake Zendesk's OAuth: ``/oauth/authorizations/new`` approves at once (a 302 to the
``redirect_uri`` with a code), ``/oauth/tokens`` trades a code (with PKCE) or a refresh
token for tokens that expire.
"""

from __future__ import annotations

import base64
import hashlib
import secrets as _secrets
from datetime import timedelta
from urllib.parse import urlencode

import httpx

from oncall_tui.demo.fakes import Call, FakePart, json_response
from oncall_tui.demo.fakes.zendesk_shared import Grant, ZendeskHost, error_response


def _oauth_error(error: str, description: str) -> httpx.Response:
    return json_response(400, {"error": error, "error_description": description})


def _pkce(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


class OAuthRoutes(FakePart[ZendeskHost]):
    """Part of :class:`~oncall_tui.demo.fakes.zendesk.ZendeskFake` (its ``oauth``)."""

    def authorize(self, call: Call) -> httpx.Response:
        redirect = call.param("redirect_uri")
        client_id = call.param("client_id")
        if call.param("response_type") != "code" or not redirect or not client_id:
            return error_response(
                400,
                "invalid_request",
                "response_type=code, client_id and redirect_uri are required",
            )
        code = _secrets.token_urlsafe(16)
        self.fake._grants[code] = Grant(
            client_id=client_id,
            redirect_uri=redirect,
            challenge=call.param("code_challenge"),
            method=call.param("code_challenge_method") or "plain",
            scope=call.param("scope") or "read write",
            expires=self.fake._now() + timedelta(minutes=2),
        )
        query = {"code": code}
        if call.param("state"):
            query["state"] = call.param("state") or ""
        separator = "&" if "?" in redirect else "?"
        return httpx.Response(302, headers={"Location": f"{redirect}{separator}{urlencode(query)}"})

    def issue_tokens(self, scope: str) -> httpx.Response:
        access = f"zd-access-{_secrets.token_urlsafe(12)}"
        refresh = f"zd-refresh-{_secrets.token_urlsafe(12)}"
        self.fake.tokens.add(access)
        self.fake._expiry[access] = self.fake._now() + timedelta(hours=1)
        self.fake._refresh[refresh] = scope
        self.fake.count("oauth_token")
        return json_response(
            200,
            {
                "access_token": access,
                "refresh_token": refresh,
                "token_type": "bearer",
                "scope": scope,
                "expires_in": 3600,
                "refresh_token_expires_in": 2592000,
            },
        )

    def token(self, call: Call) -> httpx.Response:
        grant = call.param("grant_type")
        if grant == "authorization_code":
            code = call.param("code") or ""
            stored = self.fake._grants.pop(code, None)  # codes are single-use
            if stored is None or stored.expires < self.fake._now():
                return _oauth_error("invalid_grant", "The authorization code is invalid or used")
            if call.param("client_id") != stored.client_id:
                return _oauth_error("invalid_client", "client_id does not match the code")
            if call.param("redirect_uri") != stored.redirect_uri:
                return _oauth_error("invalid_grant", "redirect_uri does not match the code")
            if stored.challenge:
                verifier = call.param("code_verifier") or ""
                expected = _pkce(verifier) if stored.method == "S256" else verifier
                if not verifier or expected != stored.challenge:
                    return _oauth_error("invalid_grant", "PKCE verification failed")
            return self.issue_tokens(stored.scope)
        if grant == "refresh_token":
            token = call.param("refresh_token") or ""
            scope = self.fake._refresh.pop(token, None)  # rotation: the old one dies here
            if scope is None:
                return _oauth_error("invalid_grant", "The refresh token is invalid or was used")
            return self.issue_tokens(scope)
        return _oauth_error("unsupported_grant_type", f"grant_type {grant!r} is not supported")


__all__ = ["OAuthRoutes"]
