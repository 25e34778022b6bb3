"""Product use cases: import (native, FeatureIDE, XCSP), versions, listing, bad models.

Bad inputs tried: malformed YAML (names the line), unknown format, empty body,
non-UTF-8 bytes, malformed XML, an invalid slug, a model whose rules admit no
product, an unknown product id.
"""

from __future__ import annotations

import threading

import pytest
from sqlalchemy.orm import Session

from configurator import demo, service
from configurator.cache import CACHE, ConfiguratorCache
from configurator.engine import Configurator
from configurator.formats.native import load_native
from core.auth import SYSTEM
from core.clock import FrozenClock
from core.errors import InvalidInput, NotFound
from tests.configurator.service_builders import (
    PC_RICHMOND,
    TINY_XCSP,
    ebike_source,
    import_ebike,
    start,
)


def test_import_creates_version_one_and_same_source_is_idempotent(
    session: Session, clock: FrozenClock
) -> None:
    first = import_ebike(session, clock)
    again = import_ebike(session, clock)
    assert (first.slug, first.version, first.created) == ("ebike", 1, True)
    assert (again.id, again.version, again.created) == (first.id, 1, False)


def test_new_source_under_same_slug_is_a_new_version_and_old_dialogs_keep_theirs(
    session: Session, clock: FrozenClock
) -> None:
    import_ebike(session, clock)
    dialog = start(session, clock)
    changed = ebike_source().replace("base_price: 1290", "base_price: 1390")
    second = import_ebike(session, clock, source=changed)
    assert second.version == 2
    assert service.get_configuration(session, dialog.id).version == 1
    assert start(session, clock).version == 2
    listed = {p.slug: p for p in service.list_products(session)}
    assert listed["ebike"].version == 2
    assert service.get_product(session, second.id).versions == [1, 2]


def test_product_detail_lists_variables_with_domains_and_needs_with_labels(
    session: Session, clock: FrozenClock
) -> None:
    created = import_ebike(session, clock)
    detail = service.get_product(session, created.id)
    variables = {v.name: v for v in detail.variables}
    assert variables["battery_wh"].domain == [400, 500, 625, 750]
    assert variables["frame"].label == "Frame"
    usage = next(n for n in detail.needs if n.name == "usage")
    assert usage.label == "What will you mostly ride for?"
    assert [o.value for o in usage.options] == ["commute", "touring", "offroad"]


def test_featureide_and_xcsp_imports(session: Session, clock: FrozenClock) -> None:
    pc = service.import_product(
        session, PC_RICHMOND.read_bytes(), "featureide", actor=SYSTEM, clock=clock
    )
    tiny = service.import_product(
        session, TINY_XCSP, "xcsp", slug="tiny", actor=SYSTEM, clock=clock
    )
    assert pc.slug == "pc-richmond-f"  # from the root feature
    assert pc.version == 1
    assert service.get_product(session, tiny.id).variables[0].domain == [0, 1, 2]
    state = start(session, clock, product="tiny")
    assert state.domains == {"x": [0, 1], "y": [1, 2]}


@pytest.mark.parametrize(
    ("body", "model_format", "field"),
    [
        ("product: x\nvariables: [a\n", "native", "line 3"),
        ("product: ebike", "yaml", "format"),
        ("   ", "native", "body"),
        (b"\xff\xfe", "native", "body"),
        ("<instance><domains>", "xcsp", "line 1"),
    ],
)
def test_malformed_models_name_the_field_or_line(
    session: Session, clock: FrozenClock, body: str | bytes, model_format: str, field: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        service.import_product(session, body, model_format, actor=SYSTEM, clock=clock)
    assert caught.value.field.startswith(field), caught.value.field


def test_invalid_slug_and_unsatisfiable_model_are_refused(
    session: Session, clock: FrozenClock
) -> None:
    with pytest.raises(InvalidInput) as caught:
        service.import_product(
            session, ebike_source(), "native", slug="Bad Slug!", actor=SYSTEM, clock=clock
        )
    assert caught.value.field == "slug"
    impossible = (
        "product: nope\nvariables:\n  a: {domain: [1, 2]}\n"
        "constraints:\n  - {name: big, rule: a >= 2}\n  - {name: small, rule: a <= 1}\n"
    )
    with pytest.raises(InvalidInput) as caught:
        service.import_product(session, impossible, "native", actor=SYSTEM, clock=clock)
    assert caught.value.field == "model"


def test_unknown_product_is_not_found(session: Session) -> None:
    with pytest.raises(NotFound):
        service.get_product(session, 999_999)


def test_cache_compiles_each_version_once_even_under_concurrency() -> None:
    cache = ConfiguratorCache(size=2)
    model = load_native(ebike_source())
    builds: list[int] = []

    def build() -> Configurator:
        builds.append(1)
        return Configurator(model)

    got: list[Configurator] = []
    threads = [threading.Thread(target=lambda: got.append(cache.get(1, build))) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(builds) == 1
    assert all(cfg is got[0] for cfg in got)
    cache.get(2, build)
    cache.get(3, build)
    assert 1 not in cache
    assert 3 in cache


def test_a_version_is_recompiled_from_its_stored_source_after_eviction(
    session: Session, clock: FrozenClock
) -> None:
    import_ebike(session, clock)
    state = start(session, clock)
    CACHE.clear()
    after = service.get_product(session, state.product_id)
    assert after.slug == "ebike"
    assert start(session, clock).domains == state.domains


def test_demo_loader_imports_the_ebike_once(session: Session, clock: FrozenClock) -> None:
    first = demo.load(session, clock)
    second = demo.load(session, clock)
    assert "version 1" in first
    assert "already loaded" in second
    assert [p.slug for p in service.list_products(session)] == ["ebike"]
