"""A minimal XML tree with line numbers, built on expat, for the model importers.

Document type declarations are refused outright, so no entity (internal or
external) is ever expanded: an uploaded model cannot trigger entity bombs
or read files.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from xml.parsers import expat

from core.errors import InvalidInput


@dataclass
class Node:
    """An element: tag, attributes, text, children and the line it starts on."""

    tag: str
    attrs: dict[str, str]
    line: int
    children: list[Node] = field(default_factory=list)
    text: str = ""

    def find(self, tag: str) -> Node | None:
        return next((c for c in self.children if c.tag == tag), None)

    def findall(self, tag: str) -> list[Node]:
        return [c for c in self.children if c.tag == tag]

    def where(self) -> str:
        return f"line {self.line}"


def parse_xml(data: str | bytes) -> Node:
    """Parse a document; malformed XML raises InvalidInput naming the line."""
    parser = expat.ParserCreate()
    stack: list[Node] = []
    roots: list[Node] = []

    def start(tag: str, attrs: dict[str, str]) -> None:
        node = Node(tag, attrs, parser.CurrentLineNumber)
        (stack[-1].children if stack else roots).append(node)
        stack.append(node)

    def end(_tag: str) -> None:
        stack.pop()

    def text(chunk: str) -> None:
        if stack:
            stack[-1].text += chunk

    def doctype(*_args: object) -> None:
        raise InvalidInput(f"line {parser.CurrentLineNumber}", "DOCTYPE declarations are refused")

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = text
    parser.StartDoctypeDeclHandler = doctype
    try:
        parser.Parse(data, True)
    except expat.ExpatError as exc:
        raise InvalidInput(
            f"line {exc.lineno}", f"malformed XML: {expat.errors.messages[exc.code]}"
        ) from exc
    if not roots:
        raise InvalidInput("line 1", "empty document")
    return roots[0]
