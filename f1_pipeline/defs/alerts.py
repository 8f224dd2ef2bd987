"""Failure alerts: a JSON POST to a webhook (Slack-style incoming hooks, Opsgenie, …)."""

from __future__ import annotations

import json
import urllib.request
from typing import Any

from dagster import ConfigurableResource
from pydantic import Field


class AlertDeliveryError(RuntimeError):
    """The webhook did not accept the alert."""


class AlertsResource(ConfigurableResource):
    """Posts run-failure alerts to a webhook when one is configured. The URL often embeds a
    token: it is given as an environment variable reference, never logged or put in an error
    message."""

    webhook_url: str | None = Field(
        default=None, description="Where alerts are POSTed (F1_ALERT_WEBHOOK_URL); a secret."
    )
    timeout_seconds: float = Field(default=10.0, description="Per-POST timeout.")
    ui_url: str = Field(
        default="http://127.0.0.1:3000",
        description="The Dagster UI's address, for links in alerts (F1_DAGSTER_URL).",
    )

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
