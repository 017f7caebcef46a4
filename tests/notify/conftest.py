"""Fixtures shared by the notify tests."""

from __future__ import annotations

import pytest

from panjereh.core.config import NotifySettings, Settings

TOKEN = "test-registry-token"  # the registries' token is the simulated gateway's API key
SENDER = "10004346"


@pytest.fixture
def kavenegar_settings(settings: Settings, registries_url: str) -> Settings:
    """SMS through Kavenegar's client, pointed at the simulated gateway of the registries."""
    notify = NotifySettings(
        sms_provider="kavenegar", kavenegar_api_key=TOKEN, kavenegar_sender=SENDER,
        kavenegar_url=f"{registries_url}/sms-gateway", kavenegar_timeout_seconds=5,
    )  # fmt: skip
    return settings.model_copy(update={"notify": notify})
