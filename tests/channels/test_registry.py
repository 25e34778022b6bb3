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


def test_webhook_targets_are_pinned_to_the_checked_public_address() -> None:
    """Tried: loopback, link-local metadata, a private range, IPv6 loopback, a bad scheme."""
    import pytest

    from channels.base import ChannelError
    from channels.http import check_target

    for url in (
        "http://127.0.0.1/hook",
        "http://169.254.169.254/latest",
        "https://10.0.0.8/x",
        "http://[::1]:8080/x",
        "ftp://example.com/x",
    ):
        with pytest.raises(ChannelError):
            check_target(url, allow_private=False)
    target = check_target("https://1.1.1.1:8443/hook?x=1", allow_private=False)
    assert target.url == "https://1.1.1.1:8443/hook?x=1"
    assert target.headers() == {"Host": "1.1.1.1:8443"}
    assert target.extensions() == {"sni_hostname": "1.1.1.1"}
    assert check_target("http://127.0.0.1/x", allow_private=True).host_header is None
