"""Configurator API: product models (admin, planner) and configuration dialogs (any key).

Configurations are meant for customers through the public web form (next
issue); until then any authenticated API key may drive a dialog. The model of
`POST /products` is the raw request body (YAML/JSON text for `native`, XML
for `featureide` and `xcsp`), read by an async dependency so the endpoints
themselves stay synchronous (one style per engine).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response, status

from api.deps import ClockDep, PrincipalDep, SessionDep, require
from configurator import service
from configurator.schemas import (
    BomRead,
    ChoicesUpdate,
    CompleteRequest,
    ConfigurationCreate,
    ConfigurationState,
    ExplanationRead,
    OrderCreate,
    OrderRead,
    ProductCreated,
    ProductDetail,
    ProductSummary,
)
from core.auth import Principal, Role
from sfa import service as sfa_service

router = APIRouter(prefix="/api/v1", tags=["configurator"])

ManagerDep = Annotated[Principal, Depends(require(Role.PLANNER))]


async def raw_body(request: Request) -> bytes:
    """The request body as bytes, whatever its content type."""
    return await request.body()


RawBody = Annotated[bytes, Depends(raw_body)]

MODEL_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "The product model: YAML or JSON (native), XML (featureide, xcsp)",
        "content": {
            media: {"schema": {"type": "string"}}
            for media in ("application/yaml", "application/json", "application/xml", "text/plain")
        },
    }
}


@router.post(
    "/products",
    status_code=status.HTTP_201_CREATED,
    summary="Import a product model (a new version when the slug exists)",
    openapi_extra=MODEL_BODY,
)
def post_product(
    body: RawBody,
    session: SessionDep,
    clock: ClockDep,
    principal: ManagerDep,
    response: Response,
    model_format: Annotated[str, Query(alias="format")] = "native",
    slug: Annotated[str | None, Query(description="Defaults to the model's name")] = None,
) -> ProductCreated:
    created = service.import_product(
        session, body, model_format, slug=slug, actor=principal, clock=clock
    )
    if not created.created:
        response.status_code = status.HTTP_200_OK
    return created


@router.get("/products", summary="List products with their latest version")
def get_products(session: SessionDep, _principal: PrincipalDep) -> list[ProductSummary]:
    return service.list_products(session)


@router.get("/products/{product_id}", summary="A product: variables, needs, latest version")
def get_product(product_id: int, session: SessionDep, _principal: PrincipalDep) -> ProductDetail:
    return service.get_product(session, product_id)


@router.post(
    "/configurations",
    status_code=status.HTTP_201_CREATED,
    summary="Start a configuration on a product's latest version",
)
def post_configuration(
    body: ConfigurationCreate, session: SessionDep, clock: ClockDep, principal: PrincipalDep
) -> ConfigurationState:
    if body.contact_id is not None:  # a configuration is attached to a contact one may see
        sfa_service.get_contact(session, body.contact_id, actor=principal)
    return service.start_configuration(session, body, actor=principal, clock=clock)


@router.get("/configurations/{configuration_id}", summary="The state of a configuration")
def get_configuration(
    configuration_id: int, session: SessionDep, _principal: PrincipalDep
) -> ConfigurationState:
    return service.get_configuration(session, configuration_id)


@router.post(
    "/configurations/{configuration_id}/choices",
    summary="Set and unset choices (409 with the explanation for an unavailable value)",
)
def post_choices(
    configuration_id: int,
    body: ChoicesUpdate,
    session: SessionDep,
    clock: ClockDep,
    principal: PrincipalDep,
) -> ConfigurationState:
    return service.set_choices(session, configuration_id, body, actor=principal, clock=clock)


@router.get(
    "/configurations/{configuration_id}/explain",
    summary="Why a value is unavailable and which choices to withdraw",
)
def get_explanation(
    configuration_id: int,
    variable: str,
    value: str,
    session: SessionDep,
    _principal: PrincipalDep,
) -> ExplanationRead:
    return service.explain_value(session, configuration_id, variable, value)


@router.post(
    "/configurations/{configuration_id}/complete",
    summary="Complete with the cheapest (or best weighted) product",
)
def post_complete(
    configuration_id: int,
    session: SessionDep,
    clock: ClockDep,
    principal: PrincipalDep,
    body: CompleteRequest | None = None,
) -> ConfigurationState:
    request = body or CompleteRequest()
    return service.complete_configuration(
        session, configuration_id, request, actor=principal, clock=clock
    )


@router.get(
    "/configurations/{configuration_id}/bom",
    summary="Bill of materials of a complete configuration",
)
def get_bom(configuration_id: int, session: SessionDep, _principal: PrincipalDep) -> BomRead:
    return service.bill_of_materials(session, configuration_id)


@router.post(
    "/configurations/{configuration_id}/order",
    status_code=status.HTTP_201_CREATED,
    summary="Order a complete configuration (idempotent: a second call returns the order)",
)
def post_order(
    configuration_id: int,
    session: SessionDep,
    clock: ClockDep,
    principal: PrincipalDep,
    response: Response,
    body: OrderCreate | None = None,
) -> OrderRead:
    order, created = service.place_order(
        session, configuration_id, body or OrderCreate(), actor=principal, clock=clock
    )
    if not created:
        response.status_code = status.HTTP_200_OK
    return order


@router.get("/configurations/{configuration_id}/order", summary="The order of a configuration")
def get_order(configuration_id: int, session: SessionDep, _principal: PrincipalDep) -> OrderRead:
    return service.get_order(session, configuration_id)
