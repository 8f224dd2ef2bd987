"""Alerts: a JSON POST to a webhook (Slack-style incoming hooks, Opsgenie, …)."""

from __future__ import annotations

import json
import urllib.request
from typing import Any

from dagster import ConfigurableResource

from f1_pipeline.defs.config import env_field


class AlertDeliveryError(RuntimeError):
    """The webhook did not accept the alert."""


class AlertsResource(ConfigurableResource):
    """Posts alerts to a webhook when one is configured. The URL often embeds a token: it is
    an environment variable reference, never shown, logged or put in an error message."""

    webhook_url: str | None = env_field(
        None, "F1_ALERT_WEBHOOK_URL", "Where alerts are POSTed; a secret", secret=True,
        pattern=r"^https?://[^/\s]+", hint="not an http(s) URL",
    )  # fmt: skip
    ui_url: str = env_field(
        "http://127.0.0.1:3000", "F1_DAGSTER_URL", "The Dagster UI's address, for links",
        pattern=r"^https?://[^/\s]+", hint="not an http(s) URL",
    )  # fmt: skip
    timeout_seconds: float = 10.0

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
