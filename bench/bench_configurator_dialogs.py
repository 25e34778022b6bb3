"""Valid domains after every choice, on seeded random dialogs of three models.

Each dialog picks a random open variable and one of its offered values until
the product is complete; the domains of every open variable are recomputed
exactly after each choice, and each dialog must end in a product that breaks
no rule (checked by direct evaluation). Figures: p50, p95 and max seconds per
choice on pc-richmond (364 features + 13 abstract), the generated Renault-like
table model (100 variables, 165 tables, ~2e12 products) and automotive01
(2,513 features). Baseline, same run: python-constraint2 with one solve per
value (FIELD-NOTES) on the root state of the e-bike demo, a small case; for
the table model also arc consistency alone on the same kind of dialogs, with
its dead-end rate.

Run: `python -m bench.bench_configurator_dialogs [--dialogs 200] [--ac-dialogs 20]
[--models pc-richmond,tables,automotive01]`
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Callable

from bench.configurator_ac import ac_dialog
from bench.harness import ROOT, note, percentile, report
from configurator import bruteforce
from configurator.dialog import random_dialog
from configurator.engine import Configurator
from configurator.formats.featureide import load_featureide_file
from configurator.formats.native import load_native_file
from configurator.model import ProductModel
from configurator.synthetic import table_model
from core.errors import InvalidInput

DATA = ROOT / "bench" / "data"
LOADERS: dict[str, Callable[[], ProductModel]] = {
    "pc-richmond": lambda: load_featureide_file(DATA / "pc-richmond.featureide.xml"),
    "tables": table_model,
    "automotive01": lambda: load_featureide_file(DATA / "automotive01.featureide.xml"),
}


def baseline_seconds() -> float:
    """python-constraint2, one solve per value, root state of the e-bike demo (median of 5)."""
    model = load_native_file(ROOT / "configurator" / "demo" / "ebike.yaml")
    runs = []
    for _ in range(5):
        start = time.perf_counter()
        bruteforce.valid_domains_per_value(model, {})
        runs.append(time.perf_counter() - start)
    return sorted(runs)[2]


def run_model(name: str, dialogs: int, baseline_ms: float) -> tuple[Configurator, float]:
    """Load, compile and run the dialogs; returns the model and its dead-end rate in %."""
    start = time.perf_counter()
    model = LOADERS[name]()
    import_s = time.perf_counter() - start
    cfg = Configurator(model)
    load_s = time.perf_counter() - start
    note(f"{name}: import {import_s:.2f} s, import + compile {load_s:.2f} s (baseline: import)")
    report(f"configurator.load.{name}", load_s, "s", import_s)
    start = time.perf_counter()
    cfg.valid_domains({})
    note(f"{name}: root state {1000 * (time.perf_counter() - start):.1f} ms")
    times: list[float] = []
    dead = 0
    started = time.perf_counter()
    for seed in range(dialogs):
        try:
            times += random_dialog(cfg, random.Random(seed)).seconds
        except InvalidInput as exc:
            dead += 1
            note(f"{name}: dialog {seed} failed: {exc}")
    note(
        f"{name}: {dialogs} dialogs, {len(times)} choices, {dialogs - dead} complete and valid, "
        f"{time.perf_counter() - started:.1f} s"
    )
    ms = [1000 * t for t in times]
    for label, figure in (
        ("p50", percentile(ms, 50)),
        ("p95", percentile(ms, 95)),
        ("max", max(ms)),
    ):
        report(f"configurator.choice.{name}.{label}", figure, "ms", baseline_ms)
    return cfg, 100 * dead / max(1, dialogs)


def run_arc_consistency(
    model: ProductModel, dialogs: int, baseline_ms: float, engine_dead: float
) -> None:
    times: list[float] = []
    dead = 0
    for seed in range(dialogs):
        seconds, ok = ac_dialog(model, random.Random(seed))
        times += seconds
        dead += not ok
    ms = [1000 * t for t in times]
    note(f"tables: arc consistency alone dead-ended {dead} of {dialogs} dialogs")
    report("configurator.choice.tables.arc_consistency_p50", percentile(ms, 50), "ms", baseline_ms)
    note("dead ends of exact domains; baseline: arc consistency alone")
    report("configurator.choice.tables.dead_ends", engine_dead, "%", 100 * dead / dialogs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dialogs", type=int, default=200)
    parser.add_argument("--models", default="pc-richmond,tables,automotive01")
    parser.add_argument("--ac-dialogs", type=int, default=20)
    args = parser.parse_args()
    baseline_ms = 1000 * baseline_seconds()
    note(f"baseline: python-constraint2 one solve per value, e-bike root: {baseline_ms:.1f} ms")
    for name in args.models.split(","):
        cfg, dead = run_model(name, args.dialogs, baseline_ms)
        if name == "tables" and args.ac_dialogs:
            run_arc_consistency(cfg.model, args.ac_dialogs, baseline_ms, dead)


if __name__ == "__main__":
    main()
