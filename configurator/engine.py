"""The compiled configurator: one per product model version, shared by all sessions.

Valid domains are exact (backtrack-free): a value is offered only if some
complete valid product extends the current choices with it. Each candidate
value is decided by the SAT solver under assumptions (python-sat, Glucose 4)
unless unit propagation already refutes it or a known product already
witnesses it; every product found witnesses all the values it contains, and
solver phases are steered towards values still unwitnessed.

Thread safety: a python-sat solver is not thread-safe. A `Configurator` keeps
a pool of solvers; each call checks one out under a lock and returns it when
done, so any number of threads may share one `Configurator`. The pool of
recent products (witnesses) is shared too, under the same lock. Sessions
hold only their choices and last domains.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import Any

from pysat.solvers import Solver

from configurator.encoding import Encoding, encode
from configurator.errors import ChoicesInconsistent
from configurator.explain import explain_conflict
from configurator.expression import Value
from configurator.model import ProductModel
from core.errors import InvalidInput

SOLVER_NAME = "g4"
RECENT_MODELS = 64  # about two choices' worth of models: the chosen value's witness
Domains = dict[str, list[Value]]


class Configurator:
    """A product model compiled for interactive configuration."""

    def __init__(self, model: ProductModel, *, solver_name: str = SOLVER_NAME) -> None:
        self.model = model.validate()
        self.encoding: Encoding = encode(self.model)
        self.variables: tuple[str, ...] = tuple(v.name for v in model.variables)
        self.needs: tuple[str, ...] = tuple(n.name for n in model.needs)
        self._lock = threading.Lock()
        self._pool = _SolverPool(solver_name, self.encoding.all_clauses)
        first = self.encoding.top + 1
        self.selectors: dict[int, str] = {
            first + i: rule.name for i, rule in enumerate(self.encoding.rules)
        }
        self._selector_pool = _SolverPool(solver_name, self._guarded_clauses)
        self._recent: deque[list[int]] = deque(maxlen=RECENT_MODELS)
        self._lit_maps = {
            q: dict(zip(self.encoding.domains[q], self.encoding.lits[q], strict=True))
            for q in self.questions
        }
        if self.solve([]) is None:
            raise InvalidInput("model", "the rules admit no valid product")

    @property
    def questions(self) -> tuple[str, ...]:
        """Technical variables then needs: every name a choice may set."""
        return self.variables + self.needs

    def solver(self) -> AbstractContextManager[Any]:
        """Check a solver out of the pool (one is created when all are busy)."""
        return self._pool.checkout()

    def selector_solver(self) -> AbstractContextManager[Any]:
        """A solver whose rule roots are guarded by `self.selectors` (for explanations)."""
        return self._selector_pool.checkout()

    def _guarded_clauses(self) -> list[list[int]]:
        guarded = [
            [-selector, *clause]
            for selector, rule in zip(self.selectors, self.encoding.rules, strict=True)
            for clause in rule.roots
        ]
        return self.encoding.base + guarded

    def close(self) -> None:
        """Free the native solvers."""
        self._pool.close()
        self._selector_pool.close()

    def normalize(self, choices: Mapping[str, object]) -> dict[str, Value]:
        """Check names and values; coerce JSON-ish raw values ("true", "750") to domain values."""
        result: dict[str, Value] = {}
        for name, raw in choices.items():
            domain = self.encoding.domains.get(name)
            if domain is None:
                raise InvalidInput(f"choices.{name}", "unknown variable or need")
            result[name] = _coerce(name, raw, domain)
        return result

    def literals(self, choices: Mapping[str, Value]) -> list[int]:
        return [self.encoding.lit(name, value) for name, value in choices.items()]

    def solve(self, assumptions: Sequence[int]) -> list[int] | None:
        """A model (list of signed literals) satisfying the assumptions, or None."""
        with self.solver() as solver:
            if not solver.solve(assumptions=list(assumptions)):
                return None
            model = self.model_of(solver)
        self._remember(model)
        return model

    def model_of(self, solver: Any) -> list[int]:
        """The solver's last model, padded so that every encoded variable has a literal.

        A variable that occurs in no clause (an unconstrained flag, an option
        without rules) may be missing from the solver's model: it is free, so
        it reads as false.
        """
        model: list[int] = solver.get_model()
        top = self.encoding.top
        if len(model) < top:
            model = model + [-v for v in range(len(model) + 1, top + 1)]
        return model

    def decode(self, model: Sequence[int]) -> dict[str, Value]:
        """The technical product a SAT model describes."""
        product: dict[str, Value] = {}
        for name in self.variables:
            for value, lit in zip(
                self.encoding.domains[name], self.encoding.lits[name], strict=True
            ):
                if model[abs(lit) - 1] == lit:
                    product[name] = value
                    break
        return product

    def check_consistent(self, choices: Mapping[str, Value]) -> list[int]:
        """Assumption literals of `choices`; ChoicesInconsistent (minimal conflict) if none fit."""
        lits = self.literals(choices)
        if self.solve(lits) is None:
            raise ChoicesInconsistent(explain_conflict(self, choices))
        return lits

    def valid_domains(
        self, choices: Mapping[str, Value], candidates: Mapping[str, Sequence[Value]] | None = None
    ) -> Domains:
        """For every question not in `choices`, exactly the values that extend to a product.

        `candidates` (e.g. the domains before the last added choice) narrows
        the values tested: adding a choice never makes a value valid again.
        """
        assumptions = self.check_consistent(choices)
        if candidates is None:
            candidates = {q: self.encoding.domains[q] for q in self.questions if q not in choices}
        open_lits = {
            q: [(v, self._lit_maps[q][v]) for v in values]
            for q, values in candidates.items()
            if q not in choices
        }
        pending = dict.fromkeys(lit for pairs in open_lits.values() for _, lit in pairs)
        valid = self._decide(assumptions, pending)
        return {q: [v for v, lit in pairs if lit in valid] for q, pairs in open_lits.items()}

    def _decide(self, assumptions: list[int], pending: dict[int, None]) -> set[int]:
        """The literals of `pending` that hold in some model under `assumptions`."""
        valid: set[int] = set()
        with self._lock:
            recent = list(self._recent)
        for model in recent:
            # Newest choice first: most models fail on it at once.
            if all(model[abs(a) - 1] == a for a in reversed(assumptions)):
                _witness(model, pending, valid)
        with self.solver() as solver:
            _, implied = solver.propagate(assumptions=assumptions)
            for lit in implied:
                pending.pop(-lit, None)
            while pending:
                lit = next(iter(pending))
                solver.set_phases(list(pending))
                if solver.solve(assumptions=[*assumptions, lit]):
                    model = self.model_of(solver)
                    self._remember(model)
                    _witness(model, pending, valid)
                else:
                    del pending[lit]
        return valid

    def _remember(self, model: list[int]) -> None:
        with self._lock:
            self._recent.append(model)


class _SolverPool:
    """Idle solvers of one CNF; checkout is thread-safe, a solver serves one thread at a time."""

    def __init__(self, name: str, clauses: Callable[[], list[list[int]]]) -> None:
        self._name = name
        self._clauses = clauses
        self._lock = threading.Lock()
        self._idle: list[Any] = []

    @contextmanager
    def checkout(self) -> Iterator[Any]:
        with self._lock:
            solver = self._idle.pop() if self._idle else None
        if solver is None:
            solver = Solver(name=self._name, bootstrap_with=self._clauses())
        try:
            yield solver
        finally:
            with self._lock:
                self._idle.append(solver)

    def close(self) -> None:
        with self._lock:
            for solver in self._idle:
                solver.delete()
            self._idle.clear()


def _witness(model: Sequence[int], pending: dict[int, None], valid: set[int]) -> None:
    """Move every pending literal true in `model` to `valid`."""
    if len(pending) * 8 < len(model):
        hits: Iterable[int] = [lit for lit in pending if model[abs(lit) - 1] == lit]
    else:
        hits = pending.keys() & set(model)
    for lit in hits:
        del pending[lit]
        valid.add(lit)


def _coerce(name: str, raw: object, domain: Sequence[Value]) -> Value:
    for value in domain:
        if type(value) is type(raw) and value == raw:
            return value
    text = str(raw).strip().lower()
    for value in domain:
        if str(value).lower() == text or (isinstance(value, bool) and text == str(int(value))):
            return value
    shown = ", ".join(repr(v) for v in domain[:10])
    more = ", ..." if len(domain) > 10 else ""
    raise InvalidInput(f"choices.{name}", f"{raw!r} is not a value of {name} ({shown}{more})")
