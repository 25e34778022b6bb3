"""The channel registry: what this deployment can send through.

Bad inputs tried: asking for `phone` before the call center registered it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from api.wiring import build_channels
from channels.web import WebChannel
from core.errors import InvalidInput
from core.settings import Settings, SmsSettings, SmtpSettings


def test_the_embedded_default_sends_email_to_files_and_has_no_phone(tmp_path: Path) -> None:
    registry = build_channels(Settings(data_dir=tmp_path, secret_key="k"))
    assert registry.names() == {"email", "webhook", "web", "post"}
    assert type(registry.require("email")).__name__ == "FileChannel"
    with pytest.raises(InvalidInput) as refused:
        registry.require("phone", field="steps.call.type")
    assert refused.value.field == "steps.call.type"
    assert "no 'phone' channel" in refused.value.reason


def test_smtp_and_sms_replace_the_defaults_when_configured(tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path,
        secret_key="k",
        smtp=SmtpSettings(host="mail.example.com"),
        sms=SmsSettings(gateway_url="https://sms.example.com/send"),
    )
    registry = build_channels(settings)
    assert type(registry.require("email")).__name__ == "SmtpChannel"
    assert "sms" in registry
    registry.register(WebChannel())  # a later registration (the call center's phone) wins
    registry.close()
