"""Peak memory of holding and using a model, in a fresh process.

The figure is the peak RSS after generating (or importing) and compiling the
model, computing the root state, running seeded dialogs, a price range, a
cheapest completion and an exact count (table model only). Baseline: the
RSS of this process once the libraries are imported, before any model.

Run: `python -m bench.bench_configurator_memory [--model tables|automotive01|pc-richmond]
[--dialogs 10]`
"""

from __future__ import annotations

import argparse
import random
import time

from bench.harness import ROOT, note, peak_rss_mb, report
from configurator.counting import count
from configurator.dialog import random_dialog
from configurator.engine import Configurator
from configurator.formats.featureide import load_featureide_file
from configurator.model import ProductModel
from configurator.optimise import complete, price_range
from configurator.synthetic import table_model


def load(name: str) -> ProductModel:
    if name == "tables":
        return table_model()
    return load_featureide_file(ROOT / "bench" / "data" / f"{name}.featureide.xml")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", default="tables")
    parser.add_argument("--dialogs", type=int, default=10)
    args = parser.parse_args()
    baseline = peak_rss_mb()
    start = time.perf_counter()
    cfg = Configurator(load(args.model))
    note(f"{args.model}: loaded and compiled in {time.perf_counter() - start:.2f} s")
    cfg.valid_domains({})
    for seed in range(args.dialogs):
        random_dialog(cfg, random.Random(seed))
    price_range(cfg, {})
    complete(cfg, {})
    if args.model == "tables":
        note(f"tables: {count(cfg, {}):.3e} products")
    report(f"configurator.memory.{args.model}.peak_rss", peak_rss_mb(), "MB", baseline)


if __name__ == "__main__":
    main()
