"""The fake GitHub's OAuth device flow: ``/login/device/code`` hands out a device and a user
code, ``/login/oauth/access_token`` answers ``authorization_pending``, ``slow_down``,
``access_denied`` or ``expired_token`` until the code is approved, then a token.
"""

from __future__ import annotations

import secrets as _secrets
from collections.abc import Mapping
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import httpx

from oncall_tui.demo.fakes import Call, FakePart, json_response
from oncall_tui.demo.fakes.github_shared import DEVICE_GRANT, Device, GitHubHost, error_response


class DeviceFlow(FakePart[GitHubHost]):
    """Part of :class:`~oncall_tui.demo.fakes.github.GitHubFake` (its ``device``)."""

    def answer(self, call: Call, data: Mapping[str, Any]) -> httpx.Response:
        if "json" in call.request.headers.get("accept", ""):
            return json_response(200, dict(data))
        return httpx.Response(
            200,
            content=urlencode({k: str(v) for k, v in data.items()}).encode(),
            headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
        )

    def device_code(self, call: Call) -> httpx.Response:
        client_id = call.param("client_id")
        if not client_id:
            return error_response(404, "Not Found")
        device_code = _secrets.token_hex(20)
        letters = "BCDFGHJKLMNPQRSTVWXZ"
        user_code = (
            "".join(self.fake.random.choice(letters) for _ in range(4))
            + "-"
            + "".join(self.fake.random.choice("0123456789") for _ in range(4))
        )
        self.fake._devices[device_code] = Device(
            client_id=client_id,
            user_code=user_code,
            scope=call.param("scope") or "",
            expires=self.fake._now() + timedelta(minutes=15),
        )
        return self.answer(
            call,
            {
                "device_code": device_code,
                "user_code": user_code,
                "verification_uri": f"{call.base}/login/device",
                "expires_in": 900,
                "interval": 5,
            },
        )

    def access_token(self, call: Call) -> httpx.Response:
        if call.param("grant_type") != DEVICE_GRANT:
            return self.answer(call, {"error": "unsupported_grant_type"})
        device = self.fake._devices.get(call.param("device_code") or "")
        if device is None:
            return self.answer(call, {"error": "incorrect_device_code"})
        if call.param("client_id") != device.client_id:
            return self.answer(call, {"error": "incorrect_client_credentials"})
        now = self.fake._now()
        if now > device.expires:
            return self.answer(call, {"error": "expired_token"})
        if device.last_poll is not None and now - device.last_poll < timedelta(
            seconds=device.interval
        ):
            device.interval += 5
            device.last_poll = now
            return self.answer(call, {"error": "slow_down", "interval": device.interval})
        device.polls += 1
        device.last_poll = now
        if device.denied:
            return self.answer(call, {"error": "access_denied"})
        auto = self.fake.device_auto_approve_after
        if not device.approved and auto is not None and device.polls > auto:
            device.approved = True
        if not device.approved:
            return self.answer(call, {"error": "authorization_pending"})
        del self.fake._devices[call.param("device_code") or ""]
        token = f"gho_{_secrets.token_urlsafe(24)}"
        self.fake.tokens.add(token)
        self.fake.count("oauth_token")
        return self.answer(
            call, {"access_token": token, "token_type": "bearer", "scope": device.scope}
        )


__all__ = ["DeviceFlow"]
