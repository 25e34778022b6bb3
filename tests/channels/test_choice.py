"""Channel choice: preference, consent, reachability, fallback, quiet hours, caps, suppression.

Bad inputs tried: no consent, withdrawn consent, no address, an invalid phone,
a suppressed address, a channel missing from the deployment, an unknown time
zone, a contact over the frequency cap, a deleted contact, no content at all.
"""

from __future__ import annotations

from datetime import UTC, datetime, time

from channels.choice import Action, Policy, Recipient, choose, quiet_until

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # Monday 09:00 UTC
ALL = {"email", "sms", "post", "web", "phone"}


def who(**fields: object) -> Recipient:
    base: dict[str, object] = {
        "contact_id": 1,
        "email": "ana@example.com",
        "phone": "+351910000001",
        "consents": {"email": True, "sms": True},
    }
    return Recipient(**{**base, **fields})  # type: ignore[arg-type]


def test_the_preferred_channel_wins_when_it_has_content_consent_and_an_address() -> None:
    decision = choose(who(preferred_channel="sms"), {"email": 1, "sms": 2}, ALL, Policy(), NOW)
    assert (decision.action, decision.channel, decision.address) == (
        Action.SEND,
        "sms",
        "+351910000001",
    )


def test_without_consent_on_the_preferred_channel_the_fallback_order_is_used() -> None:
    person = who(preferred_channel="sms", consents={"email": True, "sms": False})
    decision = choose(person, {"email": 1, "sms": 2}, ALL, Policy(fallback=("email",)), NOW)
    assert (decision.action, decision.channel) == (Action.SEND, "email")


def test_every_refusal_is_named_when_nothing_is_left() -> None:
    person = who(email=None, phone="912", consents={"sms": True}, suppressed=frozenset())
    decision = choose(person, {"email": 1, "sms": 2, "post": 3}, ALL - {"post"}, Policy(), NOW)
    assert decision.action is Action.SKIP
    assert decision.reason == (
        "email: consent not given; sms: not reachable (no valid address); "
        "post: no such channel in this deployment"
    )


def test_a_suppressed_address_is_skipped_even_with_consent() -> None:
    decision = choose(who(suppressed=frozenset({"email"})), {"email": 1}, ALL, Policy(), NOW)
    assert decision.reason == "email: address on the suppression list"


def test_the_frequency_cap_counts_sends_of_every_campaign() -> None:
    decision = choose(who(recent_sends=5), {"email": 1}, ALL, Policy(frequency_cap=5), NOW)
    assert decision.action is Action.SKIP
    assert decision.reason == "frequency cap: 5 sent in 7 days"
    assert (
        choose(who(recent_sends=5), {"email": 1}, ALL, Policy(frequency_cap=None), NOW).action
        is Action.SEND
    )


def test_deleted_contacts_and_missing_content_are_skipped() -> None:
    assert (
        choose(who(live=False), {"email": 1}, ALL, Policy(), NOW).reason
        == "contact deleted or merged"
    )
    assert choose(who(), {"fax": 1}, ALL, Policy(), NOW).action is Action.SKIP


def test_quiet_hours_make_the_message_wait_in_the_contacts_time_zone() -> None:
    # 09:00 UTC is 01:00 in Los Angeles (quiet), 09:00 in Lisbon, 18:00 in Tokyo (not quiet).
    la = choose(
        who(preferred_channel="sms", time_zone="America/Los_Angeles"),
        {"sms": 1},
        ALL,
        Policy(),
        NOW,
    )
    assert la.action is Action.WAIT
    assert la.until == datetime(2026, 3, 2, 16, 0, tzinfo=UTC)  # 08:00 PST
    assert la.reason == "sms: quiet hours in America/Los_Angeles"
    lisbon = choose(who(time_zone="Europe/Lisbon"), {"sms": 1}, ALL, Policy(), NOW)
    assert lisbon.action is Action.SEND
    tokyo_late = datetime(2026, 3, 2, 13, 30, tzinfo=UTC)  # 22:30 in Tokyo
    tokyo = choose(who(time_zone="Asia/Tokyo"), {"sms": 1}, ALL, Policy(), tokyo_late)
    assert tokyo.action is Action.WAIT
    assert tokyo.until == datetime(2026, 3, 2, 23, 0, tzinfo=UTC)  # 08:00 next day in Tokyo


def test_email_has_no_default_quiet_hours_and_a_campaign_can_set_them() -> None:
    night = who(time_zone="America/New_York")  # 04:00 there
    assert choose(night, {"email": 1}, ALL, Policy(), NOW).action is Action.SEND
    strict = Policy(quiet_hours={"email": (time(22), time(7))})
    assert choose(night, {"email": 1}, ALL, strict, NOW).action is Action.WAIT


def test_a_same_day_window_and_an_unknown_zone() -> None:
    lunch = (time(12), time(14))
    assert quiet_until("UTC", lunch, datetime(2026, 3, 2, 13, tzinfo=UTC)) == datetime(
        2026, 3, 2, 14, tzinfo=UTC
    )
    assert quiet_until("UTC", lunch, datetime(2026, 3, 2, 15, tzinfo=UTC)) is None
    assert quiet_until("Mars/Olympus", lunch, datetime(2026, 3, 2, 13, tzinfo=UTC)) is not None
