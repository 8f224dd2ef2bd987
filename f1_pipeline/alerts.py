"""Failure alerts: a JSON POST to a webhook (Slack-style incoming hooks, Opsgenie, …)."""

from __future__ import annotations

import json
import urllib.request
from typing import Any


class AlertDeliveryError(RuntimeError):
    """The webhook did not accept the alert."""


class AlertSink:
    """Posts alerts to ``webhook_url`` when one is configured. The URL often embeds a
    token, so it is never logged or put in an error message."""

    def __init__(self, webhook_url: str | None, timeout_seconds: float = 10.0) -> None:
        self.webhook_url = webhook_url
        self.timeout_seconds = timeout_seconds

    def __repr__(self) -> str:
        return f"AlertSink(webhook={'set' if self.webhook_url else 'unset'})"

    def send(self, payload: dict[str, Any]) -> bool:
        """POST ``payload``; False when no webhook is configured."""
        if not self.webhook_url:
            return False
        request = urllib.request.Request(
            self.webhook_url,
            data=json.dumps(payload).encode("utf-8"),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_seconds) as response:
                if not 200 <= response.status < 300:
                    raise AlertDeliveryError(f"alert webhook answered HTTP {response.status}")
        except OSError as err:  # URLError, HTTPError and timeouts are OSErrors
            raise AlertDeliveryError(f"alert webhook failed: {type(err).__name__}") from None
        return True
