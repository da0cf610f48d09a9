"""Read a ROPA document's bytes into a YAML tree, within limits, or say what is wrong and where.

A document may come from anyone who can open a pull request, so reading it must cost a
bounded amount whatever it holds: its size is capped before it is decoded; nesting is capped
while it is composed (ruamel's composer recurses, so 100 000 `[` would end in RecursionError);
and aliases are counted as what they would expand to, so a few hundred bytes of nested
anchors (billion laughs) are refused as soon as their expansion passes the cap, without ever
being expanded. Every failure is a DocumentInvalid with the line, never a traceback.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.composer import Composer, ComposerError
from ruamel.yaml.constructor import ConstructorError, RoundTripConstructor
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.events import AliasEvent
from ruamel.yaml.nodes import MappingNode, ScalarNode, SequenceNode
from ruamel.yaml.reader import ReaderError
from ruamel.yaml.scanner import RoundTripScanner

from schema.errors import DocumentInvalid, DocumentProblem

DOCUMENT = "(document)"


@dataclass(frozen=True)
class ReaderLimits:
    """What one document may cost to read."""

    max_bytes: int = 8 * 1024 * 1024
    max_depth: int = 64
    # Nodes (mappings, sequences, scalars) counted with every alias expanded; the shipped
    # example has about 3 000.
    max_nodes: int = 1_000_000


class _TooBig(MarkedYAMLError):
    """Raised inside the composer; turned into a DocumentProblem by `read_tree`."""


def _depth_limited_scanner(limits: ReaderLimits) -> type[Any]:
    class DepthLimitedScanner(RoundTripScanner):
        """ruamel's scanner, refusing flow collections (`[`, `{`) nested past the limit.

        The composer counts depth too, but the scanner reads ahead of it, and each open
        bracket stays a possible key that every later token re-examines: stopping here keeps
        100 000 `[` from costing seconds before the composer sees the 65th.
        """

        def fetch_flow_collection_start(self, token_class: Any, to_push: str) -> None:
            if len(self.flow_context) >= limits.max_depth:
                raise _TooBig(
                    None,
                    None,
                    f"nested deeper than {limits.max_depth} levels (the limit)",
                    self.reader.get_mark(),
                )
            super().fetch_flow_collection_start(token_class, to_push)

    return DepthLimitedScanner


def _counting_composer(limits: ReaderLimits) -> type[Any]:
    class CountingComposer(Composer):
        """ruamel's composer, counting the nodes the tree would have with aliases expanded."""

        def __init__(self, loader: Any = None) -> None:
            super().__init__(loader)
            self._sizes: dict[int, int] = {}  # id(node) -> its size, expanded
            self._total = 0
            self._depth = 0

        def _count(self, size: int, mark: Any) -> None:
            self._total += size
            if self._total > limits.max_nodes:
                raise _TooBig(
                    None,
                    None,
                    f"would expand through its aliases to more than {limits.max_nodes} values "
                    "(the limit)",
                    mark,
                )

        def compose_node(self, parent: Any, index: Any) -> Any:
            if self.parser.check_event(AliasEvent):
                event = self.parser.peek_event()
                node = super().compose_node(parent, index)
                size = self._sizes.get(id(node))
                if size is None:  # the anchored node is still open: it contains its alias
                    raise ComposerError(
                        None,
                        None,
                        f"alias *{event.anchor} refers to a node that contains it (recursion)",
                        event.start_mark,
                    )
                self._count(size, event.start_mark)
                return node
            self._depth += 1
            if self._depth > limits.max_depth:
                raise _TooBig(
                    None,
                    None,
                    f"nested deeper than {limits.max_depth} levels (the limit)",
                    self.parser.peek_event().start_mark,
                )
            node = super().compose_node(parent, index)
            self._depth -= 1
            size = 1
            if isinstance(node, SequenceNode):
                size += sum(self._sizes[id(child)] for child in node.value)
            elif isinstance(node, MappingNode):
                size += sum(self._sizes[id(k)] + self._sizes[id(v)] for k, v in node.value)
            self._sizes[id(node)] = size
            # Aliased children were counted when met; this node's own values as they came.
            self._count(1, node.start_mark)
            return node

    return CountingComposer


class _Constructor(RoundTripConstructor):
    """Keeps a scalar that YAML cannot turn into its type (2022-02-30, a 5 000-digit integer,
    `!!int` of nothing) as its text, so that the document model reports it with its path, like
    any other wrong value."""

    def construct_non_recursive_object(self, node: Any, tag: str | None = None) -> Any:
        try:
            return super().construct_non_recursive_object(node, tag)
        except YAMLError:
            raise
        except Exception as exc:  # ruamel's constructors raise whatever a bad value causes
            if isinstance(node, ScalarNode):
                return node.value
            raise ConstructorError(None, None, f"cannot read: {exc}", node.start_mark) from exc


def decode(data: bytes, source: str, limits: ReaderLimits = ReaderLimits()) -> str:
    """The document's text; DocumentInvalid if it is too large or not UTF-8."""
    if len(data) > limits.max_bytes:
        raise DocumentInvalid(
            source,
            [DocumentProblem(DOCUMENT, f"larger than the limit of {limits.max_bytes} bytes")],
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        reason = f"not valid UTF-8: byte 0x{data[exc.start]:02x} at column {column} ({exc.reason})"
        raise DocumentInvalid(source, [DocumentProblem(DOCUMENT, reason, line)]) from exc


def read_tree(text: str, source: str, limits: ReaderLimits = ReaderLimits()) -> Any:
    """The YAML tree of `text` (ruamel's round-trip types, which know their lines)."""
    if len(text) > limits.max_bytes:  # characters: at least as many bytes
        raise DocumentInvalid(
            source,
            [DocumentProblem(DOCUMENT, f"larger than the limit of {limits.max_bytes} bytes")],
        )
    yaml = YAML(typ="rt", pure=True)
    yaml.Scanner = _depth_limited_scanner(limits)
    yaml.Composer = _counting_composer(limits)
    yaml.Constructor = _Constructor
    try:
        return yaml.load(io.StringIO(text))
    except MarkedYAMLError as exc:
        raise DocumentInvalid(source, [_marked(exc)]) from exc
    except ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1 if isinstance(exc.position, int) else None
        reason = f"not valid YAML: character #x{exc.character:04x} is not allowed ({exc.reason})"
        raise DocumentInvalid(source, [DocumentProblem(DOCUMENT, reason, line)]) from exc
    except YAMLError as exc:
        raise DocumentInvalid(
            source, [DocumentProblem(DOCUMENT, f"not valid YAML: {exc}")]
        ) from exc
    except (TypeError, ValueError, IndexError, KeyError) as exc:
        # What ruamel's constructor fails with beyond a scalar: a mapping used as a key
        # (`? {a: 1} : b` cannot be hashed), found by tests/security/test_document_fuzz.py.
        problem = DocumentProblem(DOCUMENT, f"not valid YAML for a register: {exc}")
        raise DocumentInvalid(source, [problem]) from exc
    except RecursionError as exc:  # a second line: max_depth should have stopped it first
        raise DocumentInvalid(
            source, [DocumentProblem(DOCUMENT, "nested too deeply to read")]
        ) from exc


def plain(node: Any) -> Any:
    """The tree read_tree returns as plain dicts (string keys) and lists, for pydantic."""
    if isinstance(node, dict):
        return {str(k): plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [plain(v) for v in node]
    return node


def _marked(exc: MarkedYAMLError) -> DocumentProblem:
    mark = exc.problem_mark
    line = mark.line + 1 if mark is not None else None
    if isinstance(exc, _TooBig):
        return DocumentProblem(DOCUMENT, str(exc.problem), line)
    return DocumentProblem(DOCUMENT, f"not valid YAML: {exc.problem}", line)
