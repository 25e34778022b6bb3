"""What happens to a configuration after the dialog: BOM, order, abandonment.

An order snapshots a complete configuration (product values, price, BOM) and
publishes `configuration.ordered`; ordering twice returns the same order.
Open configurations idle for too long are marked abandoned by a job, one
`configuration.abandoned` event each, for campaigns to target.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from configurator.catalog import configurator_for
from configurator.events import ConfigurationAbandoned, ConfigurationOrdered
from configurator.models import Configuration, ConfigurationStatus, Order, Product, ProductVersion
from configurator.pricing import Bom
from configurator.pricing import bill_of_materials as expand_bom
from configurator.schemas import BomLineRead, BomRead, OrderCreate, OrderRead
from configurator.state import is_complete
from core.auth import Principal
from core.clock import Clock
from core.errors import Conflict, NotFound
from core.events import publish

ABANDON_BATCH = 500


def load_configuration(
    session: Session, configuration_id: int, *, lock: bool
) -> tuple[Configuration, Product, ProductVersion]:
    """A configuration with its product and version (locked for update when `lock`)."""
    query = (
        select(Configuration, Product, ProductVersion)
        .join(Product, Product.id == Configuration.product_id)
        .join(ProductVersion, ProductVersion.id == Configuration.version_id)
        .where(Configuration.id == configuration_id)
    )
    if lock:
        query = query.with_for_update(of=Configuration)
    found = session.execute(query).one_or_none()
    if found is None:
        raise NotFound("configuration", configuration_id)
    row, product, version = found
    return row, product, version


def bill_of_materials(session: Session, configuration_id: int) -> BomRead:
    """The BOM of a complete configuration; Conflict while it is not complete."""
    row, product, version = load_configuration(session, configuration_id, lock=False)
    bom = _bom(row, product, version)
    return BomRead(
        configuration_id=row.id,
        lines=_lines(bom),
        cost=bom.cost,
        lead_time_days=bom.lead_time_days,
        price=row.price_min or 0.0,
    )


def place_order(
    session: Session,
    configuration_id: int,
    data: OrderCreate,
    *,
    actor: Principal,
    clock: Clock,
) -> tuple[OrderRead, bool]:
    """Order a complete configuration; (order, created). A second call returns the first order."""
    row, product, version = load_configuration(session, configuration_id, lock=True)
    existing = session.scalar(select(Order).where(Order.configuration_id == row.id))
    if existing is not None:
        return _read(existing, version.version), False
    bom = _bom(row, product, version)
    order = Order(
        configuration_id=row.id,
        product_id=product.id,
        version_id=version.id,
        product_values={k: c["value"] for k, c in row.choices.items()},
        bom_lines=[line.model_dump() for line in _lines(bom)],
        price=row.price_min or 0.0,
        cost=bom.cost,
        lead_time_days=bom.lead_time_days,
        contact_email=data.contact_email or row.contact_email,
        contact_id=row.contact_id,
        created_by_key_id=actor.key_id,
        created_at=clock.now(),
    )
    session.add(order)
    row.status = ConfigurationStatus.ORDERED.value
    row.updated_at = row.last_activity_at = clock.now()
    session.flush()
    publish(
        session,
        ConfigurationOrdered(
            order_id=order.id,
            configuration_id=row.id,
            product_id=product.id,
            product_slug=product.slug,
            version=version.version,
            price=order.price,
            contact_id=order.contact_id,
            contact_email=order.contact_email,
        ),
    )
    return _read(order, version.version), True


def get_order(session: Session, configuration_id: int) -> OrderRead:
    found = session.execute(
        select(Order, ProductVersion.version)
        .join(ProductVersion, ProductVersion.id == Order.version_id)
        .where(Order.configuration_id == configuration_id)
    ).one_or_none()
    if found is None:
        raise NotFound("order of configuration", configuration_id)
    order, version = found
    return _read(order, version)


def mark_abandoned(session: Session, *, idle: timedelta, clock: Clock) -> int:
    """Mark open configurations idle for longer than `idle` as abandoned; one event each."""
    now = clock.now()
    rows = session.execute(
        select(Configuration, Product.slug, ProductVersion.version)
        .join(Product, Product.id == Configuration.product_id)
        .join(ProductVersion, ProductVersion.id == Configuration.version_id)
        .where(
            Configuration.status == ConfigurationStatus.OPEN.value,
            Configuration.last_activity_at < now - idle,
        )
        .order_by(Configuration.last_activity_at)
        .limit(ABANDON_BATCH)
        .with_for_update(skip_locked=True, of=Configuration)
    ).all()
    for row, slug, version in rows:
        row.status = ConfigurationStatus.ABANDONED.value
        row.abandoned_at = now
        row.updated_at = now
        publish(
            session,
            ConfigurationAbandoned(
                configuration_id=row.id,
                product_id=row.product_id,
                product_slug=slug,
                version=version,
                price_min=row.price_min,
                price_max=row.price_max,
                contact_id=row.contact_id,
                contact_email=row.contact_email,
                last_activity_at=row.last_activity_at,
            ),
        )
    session.flush()
    return len(rows)


def _bom(row: Configuration, product: Product, version: ProductVersion) -> Bom:
    if not is_complete(row):
        raise Conflict("the configuration is not complete: set every variable or complete it")
    cfg = configurator_for(product, version)
    values = {k: c["value"] for k, c in row.choices.items() if k in cfg.model.variable_map}
    return expand_bom(cfg.model, values)


def _lines(bom: Bom) -> list[BomLineRead]:
    return [
        BomLineRead(
            component=i.component,
            name=i.name,
            quantity=i.quantity,
            unit_price=i.unit_cost,
            price=round(i.cost, 2),
            lead_time_days=i.lead_time_days,
        )
        for i in bom.items
    ]


def _read(order: Order, version: int) -> OrderRead:
    return OrderRead(
        id=order.id,
        configuration_id=order.configuration_id,
        product_id=order.product_id,
        version=version,
        status=order.status,
        product_values=order.product_values,
        lines=[BomLineRead.model_validate(line) for line in order.bom_lines],
        price=order.price,
        cost=order.cost,
        lead_time_days=order.lead_time_days,
        contact_email=order.contact_email,
        contact_id=order.contact_id,
        created_at=order.created_at,
    )
