"""Public tracking (open pixel, click redirect, unsubscribe, web page) and inbound returns
(DSN bounces, email replies, SMS gateway callbacks).

Tracking URLs carry HMAC-signed tokens: a tampered or made-up token gets a
plain 404, a click only ever redirects to the URL signed into the message.
`POST /t/u/{token}` is the RFC 8058 one-click unsubscribe mail clients call;
`GET` shows a page with a button (link scanners must not unsubscribe anyone).
"""

from __future__ import annotations

import base64
import hmac
from dataclasses import asdict
from html import escape
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from api.deps import ClockDep, DispatcherDep, SessionDep, SettingsDep, require
from core.auth import Role
from core.errors import InvalidInput, NotFound, Unauthenticated
from ema.inbound import process_bounce, process_sms
from ema.outbox import OutboxMessage
from ema.rendering import Addressing, RenderError, contact_context
from ema.replies import process_reply
from ema.tracking import Visit, record_return, track_click, track_open, unsubscribe, verify
from sfa.models import Contact

router = APIRouter(tags=["tracking"])
PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")
NOT_FOUND = HTMLResponse("<h1>Not found</h1>", status_code=404)


def _visit(request: Request, clock: ClockDep) -> Visit:
    return Visit(request.headers.get("user-agent", ""), clock.now())


@router.get("/t/o/{token}.gif", summary="Open pixel", response_class=Response)
def open_pixel(
    token: str, request: Request, session: SessionDep, dispatcher: DispatcherDep, clock: ClockDep
) -> Response:
    try:
        track_open(session, dispatcher.renderer.signer, token, _visit(request, clock))
    except (InvalidInput, NotFound):
        return Response(status_code=404)
    return Response(PIXEL, media_type="image/gif", headers={"Cache-Control": "no-store"})


@router.get("/t/c/{token}", summary="Click redirect to the signed original URL")
def click(
    token: str, request: Request, session: SessionDep, dispatcher: DispatcherDep, clock: ClockDep
) -> Response:
    try:
        url = track_click(session, dispatcher.renderer.signer, token, _visit(request, clock))
    except (InvalidInput, NotFound):
        return NOT_FOUND
    return RedirectResponse(url, status_code=302)


@router.get("/t/u/{token}", summary="Unsubscribe page (confirms with a button)")
def unsubscribe_page(token: str, dispatcher: DispatcherDep) -> HTMLResponse:
    try:
        verify(dispatcher.renderer.signer, "u", token)
    except InvalidInput:
        return NOT_FOUND
    return HTMLResponse(
        "<!doctype html><title>Unsubscribe</title><h1>Unsubscribe?</h1>"
        f'<form method="post" action="/t/u/{escape(token)}">'
        '<button type="submit">Unsubscribe me</button></form>'
    )


@router.post("/t/u/{token}", summary="One-click unsubscribe (RFC 8058)")
def unsubscribe_now(
    token: str, session: SessionDep, dispatcher: DispatcherDep, clock: ClockDep
) -> HTMLResponse:
    try:
        unsubscribe(session, dispatcher.renderer.signer, token, clock=clock, how="one-click")
    except (InvalidInput, NotFound):
        return NOT_FOUND
    return HTMLResponse("<!doctype html><title>Unsubscribed</title><h1>You are unsubscribed.</h1>")


@router.get("/t/w/{token}", summary="A personalised landing page (web channel)")
def web_page(
    token: str, request: Request, session: SessionDep, dispatcher: DispatcherDep, clock: ClockDep
) -> HTMLResponse:
    signer = dispatcher.renderer.signer
    try:
        outbox = session.get(OutboxMessage, verify(signer, "w", token).outbox_id)
    except InvalidInput:
        return NOT_FOUND
    contact = session.get(Contact, outbox.contact_id) if outbox else None
    reference = (outbox.content or {}).get("web") if outbox else None
    if outbox is None or contact is None or reference is None:
        return NOT_FOUND
    renderer = dispatcher.renderer
    try:
        compiled = renderer.compiled(session, int(reference))
        context = {
            "contact": contact_context(contact),
            "campaign": {"id": outbox.campaign_id},
            "product": renderer.products_for(session, [contact.id]).get(contact.id),
        }
        message = renderer.render(compiled, Addressing(outbox.id, outbox.campaign_id, ""), context)
    except (RenderError, NotFound, ValueError, TypeError):
        return NOT_FOUND
    record_return(
        session,
        "web.visited",
        occurred_at=clock.now(),
        outbox=outbox,
        detail={"user_agent": request.headers.get("user-agent", "")[:300]},
    )
    return HTMLResponse(message.html or escape(message.text or ""))


@router.post(
    "/api/v1/inbound/bounces",
    summary="Post a raw DSN bounce message (message/rfc822 or text)",
    dependencies=[Depends(require(Role.INTEGRATION))],
)
def post_bounce(
    session: SessionDep,
    dispatcher: DispatcherDep,
    clock: ClockDep,
    raw: Annotated[bytes, Body(media_type="message/rfc822")],
) -> dict[str, Any]:
    report = process_bounce(session, dispatcher.renderer.signer, raw, clock=clock)
    return {
        "hard": report.hard,
        "soft": report.soft,
        "matched_outbox_ids": report.matched_outbox_ids,
    }


@router.post(
    "/api/v1/inbound/replies",
    summary="Post a raw email reply (message/rfc822); matched to the message it answers",
    dependencies=[Depends(require(Role.INTEGRATION))],
    responses={202: {"description": "Recorded nothing: the reply answers no Campana message"}},
)
def post_reply(
    session: SessionDep,
    dispatcher: DispatcherDep,
    clock: ClockDep,
    raw: Annotated[bytes, Body(media_type="message/rfc822")],
    response: Response,
) -> dict[str, Any]:
    match = process_reply(session, dispatcher.renderer.signer, raw, clock=clock)
    if match is None:
        response.status_code = 202
        return {"matched": None}
    return {"matched": asdict(match)}


@router.post("/api/v1/inbound/sms", summary="SMS gateway callback: delivery receipt or inbound")
def post_sms(
    payload: Annotated[dict[str, Any], Body()],
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    dispatcher: DispatcherDep,
    clock: ClockDep,
) -> dict[str, Any]:
    expected = settings.sms.gateway_token.get_secret_value() if settings.sms.gateway_token else ""
    given = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
    if not expected or not hmac.compare_digest(given.encode(), expected.encode()):
        raise Unauthenticated("the SMS gateway token is required")
    row = process_sms(session, dispatcher.renderer.signer, payload, clock=clock)
    return {"id": row.id, "kind": row.kind, "contact_id": row.contact_id}
