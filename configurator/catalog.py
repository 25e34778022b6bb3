"""Product use cases: import a model as a new version of a product, list and describe products.

A model is parsed and compiled at import, so a model that is malformed or
admits no valid product is refused (422 naming the line or the rule) before
anything is stored. Re-importing the exact source of a product's latest
version changes nothing and returns that version.
"""

from __future__ import annotations

import hashlib
import re

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from configurator.cache import CACHE, parse_model
from configurator.engine import Configurator
from configurator.model import ProductModel
from configurator.models import ModelFormat, Product, ProductVersion
from configurator.schemas import (
    NeedOptionRead,
    NeedRead,
    ProductCreated,
    ProductDetail,
    ProductSummary,
    VariableRead,
)
from core.auth import Principal
from core.clock import Clock
from core.errors import Conflict, InvalidInput, NotFound

SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]{0,99}$")
MAX_SOURCE_BYTES = 20_000_000


def import_product(
    session: Session,
    body: bytes | str,
    model_format: str,
    *,
    slug: str | None = None,
    actor: Principal,
    clock: Clock,
) -> ProductCreated:
    """Store `body` as the next version of its product (created on first import)."""
    fmt = _format(model_format)
    source = _text(body)
    model = parse_model(source, fmt, name=slug or "")
    slug = _slug(slug, model)
    cfg = Configurator(model)
    digest = hashlib.sha256(source.encode("utf-8")).hexdigest()
    product = session.scalar(select(Product).where(Product.slug == slug).with_for_update())
    now = clock.now()
    if product is None:
        product = Product(slug=slug, name=_name(model), created_at=now, updated_at=now)
        _insert(session, product, slug)
    latest = _latest(session, product.id)
    if latest is not None and latest.source_sha256 == digest and latest.format == fmt:
        return ProductCreated(id=product.id, slug=slug, version=latest.version, created=False)
    version = ProductVersion(
        product_id=product.id,
        version=(latest.version + 1) if latest else 1,
        format=fmt.value,
        source=source,
        source_sha256=digest,
        variable_count=len(model.variables),
        created_by_key_id=actor.key_id,
        created_at=now,
    )
    _insert(session, version, slug)
    product.name = _name(model)
    product.updated_at = now
    CACHE.put(version.id, cfg)
    return ProductCreated(id=product.id, slug=slug, version=version.version, created=True)


def list_products(session: Session) -> list[ProductSummary]:
    """Every product with its latest version (one query)."""
    newest = (
        select(ProductVersion.product_id, func.max(ProductVersion.version).label("version"))
        .group_by(ProductVersion.product_id)
        .subquery()
    )
    rows = session.execute(
        select(Product, ProductVersion)
        .join(newest, newest.c.product_id == Product.id)
        .join(
            ProductVersion,
            (ProductVersion.product_id == Product.id)
            & (ProductVersion.version == newest.c.version),
        )
        .order_by(Product.slug)
    )
    return [
        ProductSummary(
            id=p.id,
            slug=p.slug,
            name=p.name,
            version=v.version,
            format=v.format,
            variable_count=v.variable_count,
            updated_at=p.updated_at,
        )
        for p, v in rows
    ]


def get_product(session: Session, product_id: int) -> ProductDetail:
    """A product's latest version: variables with domains, needs with labels and help."""
    product = session.get(Product, product_id)
    latest = _latest(session, product_id) if product is not None else None
    if product is None or latest is None:
        raise NotFound("product", product_id)
    model = configurator_for(product, latest).model
    versions = session.scalars(
        select(ProductVersion.version)
        .where(ProductVersion.product_id == product_id)
        .order_by(ProductVersion.version)
    )
    return ProductDetail(
        id=product.id,
        slug=product.slug,
        name=product.name,
        label=model.label,
        version=latest.version,
        versions=list(versions),
        format=latest.format,
        base_price=model.base_price,
        variables=[
            VariableRead(name=v.name, label=v.label, help=v.help, domain=list(v.domain))
            for v in model.variables
        ],
        needs=[
            NeedRead(
                name=n.name,
                label=n.label,
                help=n.help,
                options=[
                    NeedOptionRead(value=o.value, label=o.label, help=o.help) for o in n.options
                ],
            )
            for n in model.needs
        ],
    )


def find_product(session: Session, product_id: int | None, slug: str | None) -> Product:
    """A product by id or by slug; exactly one must be given."""
    if (product_id is None) == (slug is None):
        raise InvalidInput("product_id", "give either product_id or product (a slug)")
    if product_id is not None:
        found = session.get(Product, product_id)
    else:
        found = session.scalar(select(Product).where(Product.slug == slug))
    if found is None:
        raise NotFound("product", product_id if product_id is not None else slug)
    return found


def latest_version(session: Session, product: Product) -> ProductVersion:
    found = _latest(session, product.id)
    if found is None:
        raise NotFound("product version", product.slug)
    return found


def configurator_for(product: Product, version: ProductVersion) -> Configurator:
    """The compiled configurator of a version, from this process's cache."""

    def build() -> Configurator:
        return Configurator(parse_model(version.source, version.format, name=product.slug))

    return CACHE.get(version.id, build)


def _insert(session: Session, row: Product | ProductVersion, slug: str) -> None:
    """Insert in a savepoint: a concurrent import of the same slug is a Conflict, not a 500."""
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        raise Conflict(f"product {slug!r} is being imported concurrently: retry") from None


def _latest(session: Session, product_id: int) -> ProductVersion | None:
    return session.scalar(
        select(ProductVersion)
        .where(ProductVersion.product_id == product_id)
        .order_by(ProductVersion.version.desc())
        .limit(1)
    )


def _format(model_format: str) -> ModelFormat:
    try:
        return ModelFormat(model_format)
    except ValueError:
        allowed = ", ".join(f.value for f in ModelFormat)
        raise InvalidInput(
            "format", f"unknown format {model_format!r} (one of {allowed})"
        ) from None


def _text(body: bytes | str) -> str:
    if isinstance(body, str):
        text = body
    else:
        if len(body) > MAX_SOURCE_BYTES:
            raise InvalidInput("body", f"larger than {MAX_SOURCE_BYTES} bytes")
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InvalidInput("body", f"not UTF-8 text (byte {exc.start})") from None
    if not text.strip():
        raise InvalidInput("body", "empty: send the model as the request body")
    return text


def _slug(given: str | None, model: ProductModel) -> str:
    if given is not None:
        if not SLUG.match(given):
            raise InvalidInput("slug", "lowercase letters, digits, '-' and '_' (max 100)")
        return given
    candidate = re.sub(r"[^a-z0-9_-]+", "-", (model.name or model.label).lower()).strip("-_")
    if not SLUG.match(candidate):
        raise InvalidInput("slug", "the model has no usable name: pass ?slug=")
    return candidate[:100]


def _name(model: ProductModel) -> str:
    return (model.label or model.name)[:300]
