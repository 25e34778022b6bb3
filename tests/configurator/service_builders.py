"""Builders for configurator persistence and API tests: plain functions over the services."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session

from configurator import service
from configurator.demo import EBIKE
from configurator.schemas import ConfigurationCreate, ConfigurationState, JsonValue, ProductCreated
from core.auth import SYSTEM
from core.clock import Clock

ROOT = Path(__file__).resolve().parents[2]
PC_RICHMOND = ROOT / "bench" / "data" / "pc-richmond.featureide.xml"
"""The public benchmark model, copied into the repository (see bench/data/README.md)."""

TINY_XCSP = """<instance>
  <presentation name="tiny"/>
  <domains nbDomains="1"><domain name="D" nbValues="3">0..2</domain></domains>
  <variables nbVariables="2">
    <variable name="x" domain="D"/><variable name="y" domain="D"/>
  </variables>
  <relations nbRelations="1">
    <relation name="R" arity="2" nbTuples="2" semantics="supports">0 1|1 2</relation>
  </relations>
  <constraints nbConstraints="1"><constraint name="C" arity="2" scope="x y" reference="R"/>
  </constraints>
</instance>
"""


def ebike_source() -> str:
    return EBIKE.read_text(encoding="utf-8")


def import_ebike(session: Session, clock: Clock, *, source: str | None = None) -> ProductCreated:
    body = source if source is not None else ebike_source()
    return service.import_product(session, body, "native", actor=SYSTEM, clock=clock)


def start(
    session: Session, clock: Clock, product: str = "ebike", **needs: JsonValue
) -> ConfigurationState:
    data = ConfigurationCreate(product=product, needs=needs)
    return service.start_configuration(session, data, actor=SYSTEM, clock=clock)
