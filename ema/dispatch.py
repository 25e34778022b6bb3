"""The dispatch drainer behind `campana worker`: claim, choose, render, send, settle.

One call handles one batch. Rows due now (and claims whose worker died) of
campaigns that are not paused (a paused campaign's rows stay pending) are
claimed in one statement (`FOR UPDATE SKIP LOCKED` on PostgreSQL, so any
number of workers share the outbox; the single writer lock on SQLite) and
committed. Contacts, consents, suppressions and recent sends are loaded in
bulk, the channel is chosen, messages are rendered and handed to each
channel adapter, and every result is committed the moment the provider has
answered: a worker killed mid-batch leaves only unsent rows, which are
claimed again when their claim expires, with the same Message-ID.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from jinja2 import TemplateError
from sqlalchemy import bindparam, text, update
from sqlalchemy.orm import Session

from channels.base import Message, Outcome, SendResult
from channels.choice import Action, Decision, Policy, Recipient, choose
from channels.registry import ChannelRegistry
from core.db import is_postgresql
from core.errors import DomainError
from core.scheduler import JobContext, node_name
from ema.outbox import OutboxMessage, OutboxState
from ema.policy import DEFAULT_POLICY
from ema.recipients import (
    campaign_context,
    load_campaigns,
    load_recipients,
    policy_for,
    recent_sends,
)
from ema.rendering import (
    Addressing,
    CompiledVersion,
    Renderer,
    RenderError,
    contact_context,
)
from ema.settle import TABLE as SETTLE_TABLE
from ema.settle import Settle, settler

logger = logging.getLogger(__name__)

CLAIM_SAFETY = 0.8
"""Share of the claim TTL a batch may spend sending."""
BACKOFF_FIRST = timedelta(seconds=60)
BACKOFF_MAX = timedelta(hours=1)

_CLAIM = """
UPDATE ema_outbox SET state = 'claimed', claimed_by = :node, claimed_until = :until,
    attempts = attempts + CASE WHEN state = 'claimed' THEN 1 ELSE 0 END
WHERE id IN (SELECT id FROM ema_outbox WHERE {where} AND NOT EXISTS (
    SELECT 1 FROM ema_campaigns WHERE ema_campaigns.id = ema_outbox.campaign_id
    AND ema_campaigns.status IN ('paused', 'cancelled')) ORDER BY {order} LIMIT :limit {lock})
RETURNING id, campaign_id, step_id, contact_id, variant, content, attempts
"""
"""Rows of a paused campaign are passed over (left pending, untouched) until it resumes,
and a cancelled campaign's never go: the anti-join is a primary-key probe of
`ema_campaigns` per candidate row. Taking over an expired claim counts as an attempt,
so a message that kills its worker every time still reaches `max_attempts`."""
_EXPIRED = ("state = 'claimed' AND claimed_until < :now", "claimed_until")
_DUE = ("state = 'pending' AND due_at <= :now", "due_at")
"""Two range scans of the (state, due_at) index, each already in order: one query with
`state IN (...)` would sort every pending row of the outbox for each batch."""


@dataclass(frozen=True)
class Claimed:
    id: int
    campaign_id: int
    step_id: str
    contact_id: int
    variant: str | None
    content: Mapping[str, Any]
    attempts: int


@dataclass(frozen=True)
class _Send:
    row: Claimed
    decision: Decision
    context: dict[str, Any]
    compiled: CompiledVersion | str
    reference: Any


class RateLimit:
    """At most `per_second` sends on one channel from this process.

    `monotonic` and `sleep` are injectable so the spacing can be checked without timing."""

    def __init__(
        self,
        per_second: float,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not per_second > 0:
            raise ValueError("a rate limit must be above 0 per second")
        self.interval = 1.0 / per_second
        self._monotonic = monotonic
        self._sleep = sleep
        self._next = 0.0

    def wait(self) -> None:
        """Block until the next send may go (the first one goes at once)."""
        now = self._monotonic()
        if self._next > now:
            self._sleep(self._next - now)
        self._next = max(self._next, now) + self.interval

    def paced(self, messages: Iterator[Message]) -> Iterator[Message]:
        """The messages, each handed over only when the limit allows it."""
        for message in messages:
            self.wait()
            yield message


@dataclass
class Dispatcher:
    """Drains the outbox through `channels`; one instance per worker process."""

    channels: ChannelRegistry
    renderer: Renderer
    rate_limits: dict[str, RateLimit] = field(default_factory=dict)
    node: str = field(default_factory=node_name)

    def __call__(self, ctx: JobContext) -> int:
        return self.drain(ctx)

    def drain(self, ctx: JobContext) -> int:
        """Claim and handle one batch; returns how many rows it handled."""
        settings = ctx.settings.worker
        now = ctx.clock.now()
        with ctx.session_factory() as session:
            rows = claim(session, self.node, now, settings.batch_size, settings.claim_ttl_seconds)
            session.commit()
            if not rows:
                return 0
            # Stop sending well before the claims expire: past that, another worker may
            # take the rows over, and whatever this one still sent would go out twice.
            deadline = time.monotonic() + settings.claim_ttl_seconds * CLAIM_SAFETY
            given_up = [_gave_up(r) for r in rows if r.attempts >= settings.max_attempts]
            live = [r for r in rows if r.attempts < settings.max_attempts]
            sends, settles = self._choose(session, live, now)
            _settle_many(session, given_up + settles, self.node)
            session.commit()  # from here on rendering needs no database: the lock is free
            attempts = {row.id: row.attempts for row in rows}
            failures: list[dict[str, Any]] = []
            by_channel: dict[str, list[_Send]] = defaultdict(list)
            for send in sends:
                by_channel[send.decision.channel or ""].append(send)
            with settler(session, self.node) as settle:
                for channel, batch in by_channel.items():
                    messages = _until(deadline, self._rendered(batch, failures))
                    self._send(channel, messages, attempts, settle, ctx)
            _settle_many(session, failures, self.node)
            session.commit()
        return len(rows)

    def _choose(
        self, session: Session, rows: Sequence[Claimed], now: datetime
    ) -> tuple[list[_Send], list[dict[str, Any]]]:
        """What to render (template compiled, context built) and the settles of the rest."""
        window = DEFAULT_POLICY.frequency_window
        recipients, contacts = load_recipients(session, (r.contact_id for r in rows), now - window)
        campaigns = load_campaigns(session, (r.campaign_id for r in rows))
        policies = {cid: policy_for(campaigns.get(cid)) for cid in {r.campaign_id for r in rows}}
        recipients_in = _windowed(session, rows, policies, recipients, now)
        products = self.renderer.products_for(session, recipients.keys())
        compiled: dict[str, CompiledVersion | str] = {}
        available = self.channels.names()
        sends: list[_Send] = []
        settles: list[dict[str, Any]] = []
        accepted: dict[int, int] = defaultdict(int)
        for row in rows:
            recipient = recipients_in(row)
            if recipient is None:
                settles.append(_skip(row.id, "contact not found"))
                continue
            if accepted[row.contact_id]:
                # Sends accepted earlier in this batch count against the cap too.
                counted = recipient.recent_sends + accepted[row.contact_id]
                recipient = replace(recipient, recent_sends=counted)
            decision = choose(recipient, row.content, available, policies[row.campaign_id], now)
            if decision.action is not Action.SEND:
                settles.append(_decided(row.id, decision))
                continue
            accepted[row.contact_id] += 1
            channel = decision.channel or ""
            reference = row.content.get(channel)
            key = f"{channel}:{reference!r}"
            if key not in compiled:
                compiled[key] = self._compile(session, channel, reference)
            context = {
                "contact": contact_context(contacts[row.contact_id]),
                "campaign": campaign_context(campaigns.get(row.campaign_id), row.campaign_id),
                "product": products.get(row.contact_id),
                "variant": row.variant,
            }
            sends.append(_Send(row, decision, context, compiled[key], reference))
        return sends, settles

    def _rendered(self, sends: list[_Send], failures: list[dict[str, Any]]) -> Iterator[Message]:
        """Messages rendered as the channel asks for them (failures noted on the side)."""
        for send in sends:
            built = self._render(send)
            if isinstance(built, Message):
                yield built
            else:
                failures.append(built)

    def _send(
        self,
        channel: str,
        messages: Iterator[Message],
        attempts: Mapping[int, int],
        settle: Settle,
        ctx: JobContext,
    ) -> None:
        """Send through the channel, settling each result before the next message leaves."""
        adapter = self.channels.require(channel)
        limit = self.rate_limits.get(channel)
        if limit is not None:
            messages = limit.paced(messages)
        max_attempts = ctx.settings.worker.max_attempts
        for result in adapter.send_batch(messages):
            tries = attempts.get(result.outbox_id, 0)
            settle(_result(result, channel, tries, max_attempts, ctx.clock.now()))

    def _render(self, send: _Send) -> Message | dict[str, Any]:
        row, channel = send.row, send.decision.channel or ""
        try:
            if isinstance(send.compiled, str):
                raise RenderError(send.compiled)
            to = Addressing(row.id, row.campaign_id, send.decision.address or "")
            return self.renderer.render(send.compiled, to, send.context)
        except RenderError as exc:
            reason = f"render {channel} template {send.reference!r}: {exc}"
            return {"id": row.id, "state": OutboxState.FAILED.value, "reason": reason[:1000]}

    def _compile(self, session: Session, channel: str, reference: Any) -> CompiledVersion | str:
        """The compiled template a content reference names, or why there is none."""
        try:
            template_id, version = _template_ref(reference)
            found = self.renderer.compiled(session, template_id, version)
        except (DomainError, LookupError, ValueError, TemplateError) as exc:
            return str(exc)
        if found.channel != channel:
            return f"template {template_id} is for {found.channel}"
        return found


def _windowed(
    session: Session,
    rows: Sequence[Claimed],
    policies: Mapping[int, Policy],
    recipients: Mapping[int, Recipient],
    now: datetime,
) -> Callable[[Claimed], Recipient | None]:
    """A row's recipient with the sends counted over its campaign's frequency window.

    Recipients come with the default window's count; each other window in the batch
    costs one grouped query."""
    default = DEFAULT_POLICY.frequency_window
    windows = {p.frequency_window for p in policies.values()} - {default}
    counts = {w: recent_sends(session, (r.contact_id for r in rows), now - w) for w in windows}

    def recipient_of(row: Claimed) -> Recipient | None:
        found = recipients.get(row.contact_id)
        window = policies[row.campaign_id].frequency_window
        if found is None or window == default:
            return found
        return replace(found, recent_sends=counts[window].get(row.contact_id, 0))

    return recipient_of


def claim(session: Session, node: str, now: datetime, limit: int, ttl: float) -> list[Claimed]:
    """Claim up to `limit` rows for `node`: claims whose worker died first, then due rows."""
    postgres = is_postgresql(session)
    lock = "FOR UPDATE SKIP LOCKED" if postgres else ""
    rows: list[Claimed] = []
    for where, order in (_EXPIRED, _DUE):
        if len(rows) >= limit:
            break
        statement = (
            text(_CLAIM.format(where=where, order=order, lock=lock))
            .bindparams(
                node=node, until=now + timedelta(seconds=ttl), now=now, limit=limit - len(rows)
            )
            .columns(
                OutboxMessage.id,
                OutboxMessage.campaign_id,
                OutboxMessage.step_id,
                OutboxMessage.contact_id,
                OutboxMessage.variant,
                OutboxMessage.content,
                OutboxMessage.attempts,
            )
        )
        rows += [Claimed(*row) for row in session.execute(statement)]
    rows.sort(key=lambda r: r.id)
    return rows


def _template_ref(reference: Any) -> tuple[int, int | None]:
    """`7` (latest version) or `{"template_id": 7, "version": 2}`."""
    if isinstance(reference, dict):
        return int(reference["template_id"]), reference.get("version")
    if isinstance(reference, bool) or not isinstance(reference, int | str):
        raise ValueError(f"not a template reference: {reference!r}")
    return int(reference), None


def _until(deadline: float, messages: Iterator[Message]) -> Iterator[Message]:
    """The messages, as long as the batch's claims are safely held (rows left stay claimed,
    expire and are taken over, with the same Message-ID)."""
    for message in messages:
        if time.monotonic() > deadline:
            logger.warning("batch ran past its claim budget; leaving the rest to expire")
            return
        yield message


def _gave_up(row: Claimed) -> dict[str, Any]:
    return {
        "id": row.id,
        "state": OutboxState.FAILED.value,
        "reason": f"gave up after {row.attempts} attempts (its worker stopped each time)",
    }


def _skip(outbox_id: int, reason: str) -> dict[str, Any]:
    return {"id": outbox_id, "state": OutboxState.SKIPPED.value, "reason": reason}


def _decided(outbox_id: int, decision: Decision) -> dict[str, Any]:
    if decision.action is Action.WAIT and decision.until is not None:
        return {
            "id": outbox_id,
            "state": OutboxState.PENDING.value,
            "due_at": decision.until,
            "channel": decision.channel,
            "reason": decision.reason,
            "claimed_by": None,
            "claimed_until": None,
        }
    return _skip(outbox_id, decision.reason or "skipped")


def _result(
    result: SendResult, channel: str, attempts: int, max_attempts: int, now: datetime
) -> dict[str, Any]:
    base: dict[str, Any] = {"oid": result.outbox_id, "channel": channel}
    if result.outcome is Outcome.SENT:
        return {**base, "state": OutboxState.SENT.value, "sent_at": now, "reason": None}
    reason = (result.reason or "")[:1000]
    if result.outcome is Outcome.PERMANENT or attempts + 1 >= max_attempts:
        if result.outcome is Outcome.TRANSIENT:
            reason = f"gave up after {attempts + 1} attempts: {reason}"
        return {
            **base,
            "state": OutboxState.FAILED.value,
            "reason": reason,
            "attempts": attempts + 1,
        }
    delay = min(BACKOFF_FIRST * (2**attempts), BACKOFF_MAX)
    return {
        **base,
        "state": OutboxState.PENDING.value,
        "due_at": now + delay,
        "reason": f"retry {attempts + 1}: {reason}",
        "attempts": attempts + 1,
    }


def _settle_many(session: Session, settles: list[dict[str, Any]], node: str) -> None:
    """Bulk update of rows `node` still holds, one executemany per set of columns."""
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = defaultdict(list)
    for settle in settles:
        groups[tuple(sorted(settle))].append(settle)
    table = SETTLE_TABLE
    for columns, group in groups.items():
        statement = (
            update(table)
            .where(
                table.c.id == bindparam("b_id"),
                table.c.state == OutboxState.CLAIMED.value,
                table.c.claimed_by == node,
            )
            .values({c: bindparam(f"b_{c}") for c in columns if c != "id"})
        )
        session.execute(statement, [{f"b_{k}": v for k, v in s.items()} for s in group])
