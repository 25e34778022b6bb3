"""Demo data of the configurator: the e-bike product (configurator/demo/ebike.yaml)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session

from configurator.catalog import import_product
from core.auth import SYSTEM
from core.clock import Clock

EBIKE = Path(__file__).with_name("demo") / "ebike.yaml"


def load(session: Session, clock: Clock) -> str:
    """Import the demo e-bike as product "ebike"; a second run changes nothing."""
    created = import_product(
        session, EBIKE.read_bytes(), "native", slug="ebike", actor=SYSTEM, clock=clock
    )
    if not created.created:
        return f"configurator: demo product ebike already loaded (version {created.version})"
    return f"configurator: demo product ebike, version {created.version} (id {created.id})"
