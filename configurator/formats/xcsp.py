"""XCSP 2.1 extensional instances: integer domains, table relations, constraints.

Supported: `<domain>` values as integers and ranges (`0..3 7 9..10`),
`<relation semantics="supports|conflicts">` with `|`-separated tuples, and
`<constraint scope=... reference=R>`. Intensional predicates and global
constraints are refused with the line that uses them. `dump_xcsp` writes a
table-only model back (used to round-trip generated models).
"""

from __future__ import annotations

from pathlib import Path
from xml.sax.saxutils import quoteattr

from configurator.expression import Value
from configurator.formats.xmltree import Node, parse_xml
from configurator.model import Constraint, ProductModel, Variable
from core.errors import InvalidInput


def load_xcsp_file(path: str | Path) -> ProductModel:
    return load_xcsp(Path(path).read_bytes(), name=Path(path).name.split(".")[0])


def load_xcsp(data: str | bytes, *, name: str = "xcsp") -> ProductModel:
    """Parse an XCSP 2.1 extensional instance; errors name the offending line."""
    root = parse_xml(data)
    if root.tag != "instance":
        raise InvalidInput(root.where(), f"expected <instance>, found <{root.tag}>")
    domains = {d.attrs.get("name", ""): _domain(d) for d in _section(root, "domains", "domain")}
    variables = [_variable(v, domains) for v in _section(root, "variables", "variable")]
    relations = {r.attrs.get("name", ""): r for r in _section(root, "relations", "relation")}
    known = {v.name: v.domain for v in variables}
    constraints = [
        _constraint(c, relations, known) for c in _section(root, "constraints", "constraint")
    ]
    presentation = root.find("presentation")
    label = presentation.attrs.get("name", name) if presentation is not None else name
    return ProductModel(
        name=name, label=label, variables=tuple(variables), constraints=tuple(constraints)
    ).validate()


def _section(root: Node, section: str, item: str) -> list[Node]:
    node = root.find(section)
    return node.findall(item) if node is not None else []


def _domain(node: Node) -> tuple[Value, ...]:
    values: list[Value] = []
    for token in node.text.split():
        try:
            if ".." in token:
                low, high = (int(x) for x in token.split(".."))
                values.extend(range(low, high + 1))
            else:
                values.append(int(token))
        except ValueError as exc:
            raise InvalidInput(node.where(), f"bad domain value {token!r}") from exc
    if not values:
        raise InvalidInput(node.where(), "empty domain")
    return tuple(values)


def _variable(node: Node, domains: dict[str, tuple[Value, ...]]) -> Variable:
    ref = node.attrs.get("domain", "")
    if ref not in domains:
        raise InvalidInput(node.where(), f"unknown domain {ref!r}")
    return Variable(node.attrs.get("name", ""), domains[ref])


def _constraint(
    node: Node, relations: dict[str, Node], known: dict[str, tuple[Value, ...]]
) -> Constraint:
    scope = tuple(node.attrs.get("scope", "").split())
    for var in scope:
        if var not in known:
            raise InvalidInput(node.where(), f"unknown variable {var!r} in scope")
    ref = node.attrs.get("reference", "")
    relation = relations.get(ref)
    if relation is None:
        raise InvalidInput(node.where(), f"unknown or unsupported relation {ref!r} (tables only)")
    semantics = relation.attrs.get("semantics", "supports")
    if semantics not in ("supports", "conflicts"):
        raise InvalidInput(relation.where(), f"unknown semantics {semantics!r}")
    tuples = []
    for chunk in relation.text.split("|"):
        if not chunk.strip():
            continue
        try:
            row = tuple(int(x) for x in chunk.split())
        except ValueError as exc:
            raise InvalidInput(relation.where(), f"bad tuple {chunk.strip()!r}") from exc
        if len(row) != len(scope):
            raise InvalidInput(
                relation.where(),
                f"tuple {chunk.strip()!r} has arity {len(row)}, scope {len(scope)}",
            )
        tuples.append(row)
    return Constraint(
        node.attrs.get("name", ref),
        scope=scope,
        tuples=tuple(tuples),
        allowed=semantics == "supports",
        source=node.where(),
    )


def dump_xcsp(model: ProductModel) -> str:
    """An XCSP 2.1 document for a model made of integer variables and tables only."""
    domains = {v.domain for v in model.variables}
    domain_names = {d: f"D{i}" for i, d in enumerate(sorted(domains))}
    lines = [
        "<?xml version='1.0' encoding='UTF-8'?>",
        "<instance>",
        f"<presentation name={quoteattr(model.name)} format='XCSP 2.1'/>",
        f"<domains nbDomains='{len(domains)}'>",
    ]
    lines += [
        f"<domain name='{n}' nbValues='{len(d)}'>{' '.join(map(str, d))}</domain>"
        for d, n in domain_names.items()
    ]
    lines += ["</domains>", f"<variables nbVariables='{len(model.variables)}'>"]
    lines += [
        f"<variable name={quoteattr(v.name)} domain='{domain_names[v.domain]}'/>"
        for v in model.variables
    ]
    lines += ["</variables>", f"<relations nbRelations='{len(model.constraints)}'>"]
    for i, c in enumerate(model.constraints):
        if c.expr is not None:
            raise InvalidInput(f"constraints.{c.name}", "only tables can be written to XCSP")
        body = "|".join(" ".join(map(str, row)) for row in c.tuples)
        semantics = "supports" if c.allowed else "conflicts"
        head = f"<relation name='R{i}' arity='{len(c.scope)}' nbTuples='{len(c.tuples)}'"
        lines.append(f"{head} semantics='{semantics}'>{body}</relation>")
    lines += ["</relations>", f"<constraints nbConstraints='{len(model.constraints)}'>"]
    lines += [
        f"<constraint name={quoteattr(c.name)} arity='{len(c.scope)}'"
        f" scope={quoteattr(' '.join(c.scope))} reference='R{i}'/>"
        for i, c in enumerate(model.constraints)
    ]
    lines += ["</constraints>", "</instance>", ""]
    return "\n".join(lines)
