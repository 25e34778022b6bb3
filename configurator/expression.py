"""A safe expression language for configuration rules (parsed, never `eval`-ed).

Grammar, loosest binding first::

    expr    := implies ('iff' implies)*
    implies := or ('implies' implies)?
    or      := and ('or' and)*
    and     := not ('and' not)*
    not     := 'not' not | compare
    compare := arith (('=='|'!='|'<'|'<='|'>'|'>=') arith | 'not'? 'in' list)?
    arith   := term (('+'|'-') term)*
    term    := unary ('*' unary)*
    unary   := '-' unary | atom
    atom    := NUMBER | STRING | true | false | NAME | `quoted name`
             | ('sum'|'count'|'abs') '(' expr (',' expr)* ')' | '(' expr ')'

Errors are `core.errors.InvalidInput` whose reason names the character position.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TypeAlias

from core.errors import InvalidInput

Value: TypeAlias = str | int | float | bool

FUNCTIONS = frozenset({"sum", "count", "abs"})
KEYWORDS = frozenset({"and", "or", "not", "implies", "iff", "in", "true", "false"})
COMPARE_OPS = frozenset({"==", "!=", "<", "<=", ">", ">="})


@dataclass(frozen=True)
class Const:
    """A literal value."""

    value: Value
    pos: int = 0


@dataclass(frozen=True)
class Name:
    """A reference to a variable."""

    name: str
    pos: int = 0


@dataclass(frozen=True)
class Unary:
    """`not x` or `-x`."""

    op: str
    operand: Expr
    pos: int = 0


@dataclass(frozen=True)
class Binary:
    """Logical (and, or, implies, iff), comparison or arithmetic operator."""

    op: str
    left: Expr
    right: Expr
    pos: int = 0


@dataclass(frozen=True)
class InList:
    """`x in [a, b]` (or `not in` when negated)."""

    operand: Expr
    values: tuple[Value, ...]
    negated: bool = False
    pos: int = 0


@dataclass(frozen=True)
class Call:
    """`sum(...)`, `count(...)` or `abs(x)`."""

    func: str
    args: tuple[Expr, ...]
    pos: int = 0


Expr: TypeAlias = Const | Name | Unary | Binary | InList | Call
LOGIC_OPS = frozenset({"and", "or", "implies", "iff"})

_TOKEN = re.compile(
    r"\s*(?:(?P<num>\d+(?:\.\d+)?)|(?P<str>\"[^\"]*\"|'[^']*')|(?P<quoted>`[^`]*`)"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_.]*)|(?P<op>==|!=|<=|>=|[<>+\-*(),\[\]]))"
)


@dataclass(frozen=True)
class _Token:
    kind: str
    text: str
    pos: int


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        match = _TOKEN.match(text, pos)
        if match is None or match.lastgroup is None:
            start = len(text) - len(text[pos:].lstrip())
            tokens.append(_Token("bad", text[start], start))
            return tokens
        kind = match.lastgroup
        tokens.append(_Token(kind, match.group(kind), match.start(kind)))
        pos = match.end()
    tokens.append(_Token("end", "", len(text)))
    return tokens


def _error(pos: int, reason: str) -> InvalidInput:
    return InvalidInput(f"position {pos}", reason)


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = _tokenize(text)
        self.index = 0

    @property
    def tok(self) -> _Token:
        """The current token; an untokenizable character fails when the parser reaches it."""
        token = self.tokens[self.index]
        if token.kind == "bad":
            raise _error(token.pos, f"unexpected character {token.text!r}")
        return token

    def accept(self, text: str) -> bool:
        if self.tok.kind in ("op", "name") and self.tok.text == text:
            self.index += 1
            return True
        return False

    def expect(self, text: str) -> None:
        if not self.accept(text):
            found = self.tok.text or "end of expression"
            raise _error(self.tok.pos, f"expected {text!r}, found {found!r}")

    def parse(self) -> Expr:
        node = self.iff()
        if self.tok.kind != "end":
            raise _error(self.tok.pos, f"unexpected {self.tok.text!r}")
        return node

    def iff(self) -> Expr:
        node = self.implies()
        while self.tok.text == "iff" and self.tok.kind == "name":
            pos = self.tok.pos
            self.index += 1
            node = Binary("iff", node, self.implies(), pos)
        return node

    def implies(self) -> Expr:
        node = self.binary_chain(("or",), self.conj)
        if self.tok.kind == "name" and self.tok.text == "implies":
            pos = self.tok.pos
            self.index += 1
            return Binary("implies", node, self.implies(), pos)
        return node

    def conj(self) -> Expr:
        return self.binary_chain(("and",), self.negation)

    def binary_chain(self, ops: tuple[str, ...], sub: Callable[[], Expr]) -> Expr:
        node = sub()
        while self.tok.kind in ("name", "op") and self.tok.text in ops:
            tok = self.tok
            self.index += 1
            node = Binary(tok.text, node, sub(), tok.pos)
        return node

    def negation(self) -> Expr:
        pos = self.tok.pos
        if self.tok.kind == "name" and self.tok.text == "not":
            self.index += 1
            return Unary("not", self.negation(), pos)
        return self.compare()

    def compare(self) -> Expr:
        left = self.arith()
        tok = self.tok
        if tok.kind == "op" and tok.text in COMPARE_OPS:
            self.index += 1
            return Binary(tok.text, left, self.arith(), tok.pos)
        following = self.tokens[self.index + 1] if tok.kind == "name" else tok
        if tok.text == "not" and following.kind == "name" and following.text == "in":
            self.index += 2
            return InList(left, self.value_list(), True, tok.pos)
        if tok.kind == "name" and tok.text == "in":
            self.index += 1
            return InList(left, self.value_list(), False, tok.pos)
        return left

    def value_list(self) -> tuple[Value, ...]:
        self.expect("[")
        values: list[Value] = []
        while not self.accept("]"):
            if values:
                self.expect(",")
            node = self.unary()
            if not isinstance(node, Const):
                raise _error(node.pos, "a list after 'in' holds literal values only")
            values.append(node.value)
        return tuple(values)

    def arith(self) -> Expr:
        return self.binary_chain(("+", "-"), self.term)

    def term(self) -> Expr:
        return self.binary_chain(("*",), self.unary)

    def unary(self) -> Expr:
        tok = self.tok
        if tok.kind == "op" and tok.text == "-":
            self.index += 1
            operand = self.unary()
            if isinstance(operand, Const) and isinstance(operand.value, int | float):
                return Const(-operand.value, tok.pos)
            return Unary("-", operand, tok.pos)
        return self.atom()

    def atom(self) -> Expr:
        tok = self.tok
        self.index += 1
        if tok.kind == "num":
            return Const(float(tok.text) if "." in tok.text else int(tok.text), tok.pos)
        if tok.kind == "str":
            return Const(tok.text[1:-1], tok.pos)
        if tok.kind == "quoted":
            return Name(tok.text[1:-1], tok.pos)
        if tok.kind == "name":
            return self.name_atom(tok)
        if tok.text == "(":
            node = self.iff()
            self.expect(")")
            return node
        self.index -= 1
        found = tok.text or "end of expression"
        raise _error(tok.pos, f"expected a value, a name or '(', found {found!r}")

    def name_atom(self, tok: _Token) -> Expr:
        if tok.text in ("true", "false"):
            return Const(tok.text == "true", tok.pos)
        if tok.text in KEYWORDS:
            raise _error(tok.pos, f"unexpected keyword {tok.text!r}")
        if self.tok.text == "(" and self.tok.kind == "op":
            if tok.text not in FUNCTIONS:
                raise _error(tok.pos, f"unknown function {tok.text!r}")
            self.index += 1
            args = [self.iff()]
            while self.accept(","):
                args.append(self.iff())
            self.expect(")")
            return Call(tok.text, tuple(args), tok.pos)
        return Name(tok.text, tok.pos)


def parse(text: str, domains: Mapping[str, tuple[Value, ...]] | None = None) -> Expr:
    """Parse `text`; with `domains`, also check names and literal values against them."""
    node = _Parser(text).parse()
    if domains is not None:
        check(node, domains)
    return node


def names(node: Expr) -> frozenset[str]:
    """Every variable the expression mentions."""
    if isinstance(node, Name):
        return frozenset({node.name})
    return frozenset().union(*(names(child) for child in children(node)))


def children(node: Expr) -> tuple[Expr, ...]:
    """Direct sub-expressions."""
    if isinstance(node, Unary):
        return (node.operand,)
    if isinstance(node, Binary):
        return (node.left, node.right)
    if isinstance(node, InList):
        return (node.operand,)
    if isinstance(node, Call):
        return node.args
    return ()


def check(node: Expr, domains: Mapping[str, tuple[Value, ...]]) -> None:
    """Reject unknown names and comparisons with values outside a variable's domain."""
    if isinstance(node, Name) and node.name not in domains:
        raise _error(node.pos, f"unknown variable {node.name!r}")
    if isinstance(node, Binary) and node.op in ("==", "!="):
        _check_literal(node.left, node.right, domains)
        _check_literal(node.right, node.left, domains)
    if isinstance(node, InList) and isinstance(node.operand, Name):
        for value in node.values:
            _check_literal(node.operand, Const(value, node.pos), domains)
    for child in children(node):
        check(child, domains)


def _check_literal(var: Expr, lit: Expr, domains: Mapping[str, tuple[Value, ...]]) -> None:
    if not (isinstance(var, Name) and isinstance(lit, Const) and var.name in domains):
        return
    if not any(_same(lit.value, v) for v in domains[var.name]):
        raise _error(lit.pos, f"{lit.value!r} is not a value of {var.name!r}")


def _same(a: Value, b: Value) -> bool:
    return (type(a) is type(b) and a == b) or (_is_num(a) and _is_num(b) and a == b)


def _is_num(value: Value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def evaluate(node: Expr, env: Mapping[str, Value]) -> Value:
    """Value of the expression under a (complete for its names) assignment."""
    if isinstance(node, Const):
        return node.value
    if isinstance(node, Name):
        return env[node.name]
    if isinstance(node, Unary):
        operand = evaluate(node.operand, env)
        return not _truth(operand) if node.op == "not" else -_num(operand)
    if isinstance(node, InList):
        inside = any(_same(evaluate(node.operand, env), v) for v in node.values)
        return inside != node.negated
    if isinstance(node, Call):
        return _call(node, env)
    return _binary(node, env)


def _call(node: Call, env: Mapping[str, Value]) -> Value:
    values = [evaluate(arg, env) for arg in node.args]
    if node.func == "count":
        return sum(1 for v in values if _truth(v))
    if node.func == "abs":
        return abs(_num(values[0]))
    return sum(_num(v) for v in values)


def _binary(node: Binary, env: Mapping[str, Value]) -> Value:
    if node.op in LOGIC_OPS:
        left = _truth(evaluate(node.left, env))
        if node.op == "and":
            return left and _truth(evaluate(node.right, env))
        if node.op == "or":
            return left or _truth(evaluate(node.right, env))
        if node.op == "implies":
            return not left or _truth(evaluate(node.right, env))
        return left == _truth(evaluate(node.right, env))
    a, b = evaluate(node.left, env), evaluate(node.right, env)
    if node.op == "==":
        return _same(a, b)
    if node.op == "!=":
        return not _same(a, b)
    if node.op in ("+", "-", "*"):
        return _ARITH[node.op](_num(a), _num(b))
    return _order(node, a, b)


_ARITH: dict[str, Callable[[float, float], float]] = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
}


def _order(node: Binary, a: Value, b: Value) -> bool:
    if isinstance(a, str) != isinstance(b, str):
        raise _error(node.pos, f"cannot compare {a!r} with {b!r}")
    if node.op == "<":
        return a < b  # type: ignore[operator]
    if node.op == "<=":
        return a <= b  # type: ignore[operator]
    if node.op == ">":
        return a > b  # type: ignore[operator]
    return a >= b  # type: ignore[operator]


def _truth(value: Value) -> bool:
    return bool(value)


def _num(value: Value) -> float:
    if isinstance(value, str):
        raise InvalidInput("expression", f"{value!r} is not a number")
    return value
