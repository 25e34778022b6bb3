"""SFA HTTP API: forecasts, sales analytics, mobile sync and CSV imports."""

from __future__ import annotations

import io
import tempfile
from typing import IO, Annotated

from fastapi import APIRouter, Depends, Query, Request
from starlette.datastructures import UploadFile

from api.deps import ClockDep, SessionDep
from api.routers.sfa_common import Reader, Writer
from core.errors import InvalidInput
from sfa import analytics, forecast, imports, sync

router = APIRouter(prefix="/api/v1", tags=["sfa: results"])

SPOOL_BYTES = 4 * 1024 * 1024


@router.get("/forecast", summary="Pipeline, weighted, committed and won per period and rep/team")
def get_forecast(
    session: SessionDep,
    actor: Reader,
    period: forecast.Period = forecast.Period.MONTH,
    group_by: forecast.GroupBy = forecast.GroupBy.REP,
) -> forecast.Forecast:
    return forecast.forecast(session, actor=actor, period=period, group_by=group_by)


@router.get(
    "/sales/analytics",
    summary="Win rate, cycle length, time per stage, conversion, stuck deals per rep and team",
)
def get_analytics(
    session: SessionDep,
    clock: ClockDep,
    actor: Reader,
    stuck_days: Annotated[int, Query(ge=1, le=3650)] = 30,
) -> analytics.Analytics:
    return analytics.sales_analytics(session, actor=actor, now=clock.now(), stuck_days=stuck_days)


@router.get("/sync", summary="Changed and deleted records since a cursor (mobile clients)")
def get_sync(
    session: SessionDep,
    actor: Reader,
    since: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> sync.SyncPage:
    return sync.sync(session, since, actor=actor, limit=limit)


async def csv_upload(request: Request) -> IO[bytes]:
    """The uploaded CSV (multipart field `file`, or a text/csv body), spooled to disk."""
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        form = await request.form()
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise InvalidInput("file", "send the CSV as the multipart field 'file'")
        return upload.file
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115 - returned open
    async for chunk in request.stream():
        spool.write(chunk)
    spool.seek(0)
    return spool


CsvDep = Annotated[IO[bytes], Depends(csv_upload)]


def _text(raw: IO[bytes]) -> io.TextIOWrapper:
    return io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")


@router.post("/imports/contacts", summary="Import contacts from CSV (bad rows reported by line)")
def post_import_contacts(
    raw: CsvDep, session: SessionDep, clock: ClockDep, actor: Writer
) -> imports.ImportReport:
    return imports.import_contacts(session, _text(raw), actor=actor, clock=clock)


@router.post(
    "/imports/opportunities",
    summary="Import opportunities (with stage history) from CSV",
)
def post_import_opportunities(
    raw: CsvDep, session: SessionDep, clock: ClockDep, actor: Writer
) -> imports.ImportReport:
    return imports.import_opportunities(session, _text(raw), actor=actor, clock=clock)
