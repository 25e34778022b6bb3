"""Cheapest completion, minimal explanations, price ranges and counting.

States are prefixes of seeded random dialogs (0 to 40 choices). Figures:
- cheapest completion on pc-richmond (RC2 MaxSAT over the prices); baseline:
  one plain SAT call that finds any completion of the same states;
- minimal explanation (QuickXplain over the choices, then over the rules) of
  unavailable values on pc-richmond and the table model; baseline: the raw
  unsat core of one SAT call (not minimal);
- exact price range (cheapest and dearest) per state;
- exact count of the ~2e12 products of the table model by variable
  elimination; baseline: python-constraint2 enumerating the e-bike demo.

Run: `python -m bench.bench_configurator_optimise [--states 60]`
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Callable
from functools import partial

from bench.harness import ROOT, note, percentile, report
from configurator import bruteforce
from configurator.counting import count
from configurator.engine import Configurator
from configurator.explain import explain
from configurator.expression import Value
from configurator.formats.featureide import load_featureide_file
from configurator.formats.native import load_native_file
from configurator.optimise import complete, price_range
from configurator.synthetic import table_model

State = dict[str, Value]


def states(cfg: Configurator, how_many: int) -> list[State]:
    """Prefixes of seeded random dialogs: offered values only, so each is consistent."""
    found = []
    for seed in range(how_many):
        rng = random.Random(seed)
        choices: State = {}
        domains = cfg.valid_domains(choices)
        for _ in range(rng.randint(0, 40)):
            open_vars = sorted(v for v in cfg.variables if len(domains.get(v, [])) > 1)
            if not open_vars:
                break
            var = rng.choice(open_vars)
            choices[var] = rng.choice(domains[var])
            domains = cfg.valid_domains(choices, domains)
        found.append(choices)
    return found


def ms(func: Callable[[], object]) -> float:
    start = time.perf_counter()
    func()
    return 1000 * (time.perf_counter() - start)


def lines(name: str, figures: list[float], baseline: float) -> None:
    for label, value in (("p50", percentile(figures, 50)), ("p95", percentile(figures, 95))):
        report(f"{name}.{label}", value, "ms", baseline)
    report(f"{name}.max", max(figures), "ms", baseline)


def bench_completion(cfg: Configurator, cases: list[State]) -> None:
    optimal = [ms(partial(complete, cfg, c)) for c in cases]
    anyone = [ms(partial(cfg.solve, cfg.literals(c))) for c in cases]
    note("baseline: one SAT call finding any completion of the same states")
    lines("configurator.cheapest.pc-richmond", optimal, percentile(anyone, 50))
    ranges = [ms(partial(price_range, cfg, c)) for c in cases]
    lines("configurator.price_range.pc-richmond", ranges, percentile(anyone, 50))


def unavailable(
    cfg: Configurator, cases: list[State], per_state: int
) -> list[tuple[State, str, Value]]:
    rng = random.Random(7)
    found = []
    for choices in cases:
        domains = cfg.valid_domains(choices)
        out = [
            (choices, v, x)
            for v in cfg.variables
            if v in domains
            for x in cfg.model.domains[v]
            if x not in domains[v]
        ]
        found += rng.sample(out, min(per_state, len(out)))
    return found


def raw_core(cfg: Configurator, case: tuple[State, str, Value]) -> None:
    choices, var, value = case
    with cfg.solver() as solver:
        solver.solve(assumptions=[*cfg.literals(choices), cfg.encoding.lit(var, value)])
        solver.get_core()


def bench_explanations(name: str, cfg: Configurator, cases: list[State]) -> None:
    targets = unavailable(cfg, cases, 5)
    minimal = [ms(partial(explain, cfg, *t)) for t in targets]
    cores = [ms(partial(raw_core, cfg, t)) for t in targets]
    sizes = [len(explain(cfg, *t).conflict) for t in targets]
    mean = sum(sizes) / len(sizes)
    note(f"{name}: {len(targets)} unavailable values, mean conflict size {mean:.2f}")
    note("baseline: the unsat core of one SAT call (not minimal)")
    lines(f"configurator.explain.{name}", minimal, percentile(cores, 50))


def bench_count(cases: list[State], cfg: Configurator) -> None:
    ebike = load_native_file(ROOT / "configurator" / "demo" / "ebike.yaml")
    baseline = ms(lambda: len(bruteforce.solutions(ebike, {})))
    start = time.perf_counter()
    total = count(cfg, {})
    seconds = time.perf_counter() - start
    note(f"tables: {total:.3e} products counted exactly in {seconds:.2f} s")
    note("baseline: python-constraint2 enumerating the e-bike demo's 135,192 products")
    report("configurator.count.tables.root", 1000 * seconds, "ms", baseline)
    timings = [ms(partial(count, cfg, c)) for c in cases]
    lines("configurator.count.tables", timings, baseline)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--states", type=int, default=60)
    args = parser.parse_args()
    pc = Configurator(load_featureide_file(ROOT / "bench" / "data" / "pc-richmond.featureide.xml"))
    pc_states = states(pc, args.states)
    bench_completion(pc, pc_states)
    bench_explanations("pc-richmond", pc, pc_states)
    tables = Configurator(table_model())
    table_states = states(tables, args.states)
    bench_explanations("tables", tables, table_states)
    bench_count(table_states, tables)


if __name__ == "__main__":
    main()
