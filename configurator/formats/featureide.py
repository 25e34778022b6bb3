"""FeatureIDE XML feature models (plain and extended, with `Price` attributes).

Every feature becomes a boolean variable. The tree gives the rules: the root
is selected, a child requires its parent, a mandatory child of an `and` is
required by its parent, an `alt` parent needs exactly one child and an `or`
parent at least one. Cross-tree `<rule>`s (imp, eq, disj, conj, not, var)
become expressions. A `Price` attribute is the price of selecting a feature.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from configurator.expression import Binary, Const, Expr, Name, Unary
from configurator.formats.xmltree import Node, parse_xml
from configurator.model import Constraint, PriceRule, ProductModel, Variable
from core.errors import InvalidInput

GROUPS = frozenset({"and", "alt", "or", "feature"})
CONNECTIVES = {"imp": "implies", "eq": "iff", "disj": "or", "conj": "and"}
BOOL_DOMAIN = (False, True)


def load_featureide_file(path: str | Path) -> ProductModel:
    return load_featureide(Path(path).read_bytes(), name=Path(path).name.split(".")[0])


def load_featureide(data: str | bytes, *, name: str = "feature-model") -> ProductModel:
    """Parse a FeatureIDE model; errors name the line of the offending element."""
    root = parse_xml(data)
    struct = root.find("struct")
    if struct is None or not [c for c in struct.children if c.tag in GROUPS]:
        raise InvalidInput(root.where(), "no <struct> with a root feature")
    builder = _Builder()
    top = next(c for c in struct.children if c.tag in GROUPS)
    builder.feature(top, None)
    builder.constraints.insert(0, Constraint(f"root {top.attrs['name']}", Name(top.attrs["name"])))
    rules = root.find("constraints")
    for i, rule in enumerate(rules.findall("rule") if rules else []):
        builder.rule(rule, i + 1)
    return ProductModel(
        name=name,
        label=top.attrs["name"],
        variables=tuple(builder.variables),
        constraints=tuple(builder.constraints),
        prices=tuple(builder.prices),
    ).validate()


class _Builder:
    def __init__(self) -> None:
        self.variables: list[Variable] = []
        self.constraints: list[Constraint] = []
        self.prices: list[PriceRule] = []
        self.known: set[str] = set()

    def feature(self, node: Node, parent: Node | None) -> None:
        name = node.attrs.get("name")
        if not name:
            raise InvalidInput(node.where(), f"<{node.tag}> without a name")
        if name in self.known:
            raise InvalidInput(node.where(), f"feature {name!r} defined twice")
        self.known.add(name)
        description = node.find("description")
        help_text = " ".join(description.text.split()) if description is not None else ""
        self.variables.append(Variable(name, BOOL_DOMAIN, name, help_text))
        self.price(node, name)
        if parent is not None:
            self.constraints.append(
                Constraint(
                    f"{name} requires {parent.attrs['name']}",
                    _imp(Name(name), Name(parent.attrs["name"])),
                )
            )
        kids = [c for c in node.children if c.tag in GROUPS]
        for kid in kids:
            self.feature(kid, node)
        self.group(node, name, kids)

    def price(self, node: Node, name: str) -> None:
        for attr in node.findall("attribute"):
            if attr.attrs.get("name", "").lower() == "price" and attr.attrs.get("value"):
                try:
                    amount = float(attr.attrs["value"])
                except ValueError as exc:
                    raise InvalidInput(
                        attr.where(), f"price {attr.attrs['value']!r} is not a number"
                    ) from exc
                if amount:
                    self.prices.append(PriceRule(name, True, amount))

    def group(self, node: Node, name: str, kids: Sequence[Node]) -> None:
        names = [Name(k.attrs["name"]) for k in kids]
        if not names:
            return
        if node.tag == "and":
            for kid, ref in zip(kids, names, strict=True):
                if kid.attrs.get("mandatory") == "true":
                    self.constraints.append(
                        Constraint(f"{name} requires mandatory {ref.name}", _imp(Name(name), ref))
                    )
        elif node.tag == "or":
            self.constraints.append(
                Constraint(f"or group {name}", _imp(Name(name), _join("or", names)))
            )
        elif node.tag == "alt":
            one = _join("or", names)
            pairs = [
                Unary("not", _join("and", [a, b]))
                for i, a in enumerate(names)
                for b in names[i + 1 :]
            ]
            rule = _imp(Name(name), _join("and", [one, *pairs]))
            self.constraints.append(Constraint(f"alternative group {name}", rule))

    def rule(self, node: Node, number: int) -> None:
        body = [c for c in node.children if c.tag != "description"]
        if len(body) != 1:
            raise InvalidInput(node.where(), "a <rule> holds exactly one formula")
        self.constraints.append(
            Constraint(f"rule {number}", self.formula(body[0]), source=node.where())
        )

    def formula(self, node: Node) -> Expr:
        if node.tag == "var":
            name = node.text.strip()
            if name not in self.known:
                raise InvalidInput(node.where(), f"unknown feature {name!r} in a constraint")
            return Name(name)
        parts = [self.formula(c) for c in node.children]
        if node.tag == "not" and len(parts) == 1:
            return Unary("not", parts[0])
        if node.tag in ("imp", "eq") and len(parts) == 2:
            return Binary(CONNECTIVES[node.tag], parts[0], parts[1])
        if node.tag in ("disj", "conj") and parts:
            return _join(CONNECTIVES[node.tag], parts)
        raise InvalidInput(node.where(), f"unexpected <{node.tag}> with {len(parts)} operand(s)")


def _imp(a: Expr, b: Expr) -> Expr:
    return Binary("implies", a, b)


def _join(op: str, items: Sequence[Expr]) -> Expr:
    """A balanced tree of `op` (keeps recursion shallow for groups of hundreds)."""
    if not items:
        return Const(op == "and")
    if len(items) == 1:
        return items[0]
    half = len(items) // 2
    return Binary(op, _join(op, items[:half]), _join(op, items[half:]))
