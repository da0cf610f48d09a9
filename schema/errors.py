"""Domain errors: they know nothing of HTTP, GraphQL or the command line."""

from __future__ import annotations

from dataclasses import dataclass


class RopaError(Exception):
    """Base of every expected failure in the registry."""

    code = "ROPA_ERROR"


@dataclass(frozen=True)
class DocumentProblem:
    """One thing wrong with a ROPA document, at a path such as `activities[2].controller`."""

    path: str
    reason: str
    line: int | None = None

    def render(self, source: str) -> str:
        """`FILE:LINE: path: reason`, the form editors and CI logs link to."""
        where = f"{source}:{self.line}" if self.line is not None else source
        return f"{where}: {self.path}: {self.reason}"


class DocumentInvalid(RopaError):
    """A document that cannot be applied; carries every problem found, not just the first."""

    code = "DOCUMENT_INVALID"

    def __init__(self, source: str, problems: list[DocumentProblem]) -> None:
        self.source = source
        self.problems = problems
        super().__init__(f"{source}: {len(problems)} problem(s)")

    def render(self) -> list[str]:
        """One line per problem."""
        return [problem.render(self.source) for problem in self.problems]


class NotFound(RopaError):
    """A reference (by id or name) that names nothing in the register."""

    code = "NOT_FOUND"

    def __init__(self, kind: str, ref: str) -> None:
        self.kind = kind
        self.ref = ref
        super().__init__(f"no {kind} with id or name '{ref}'")


class DatabaseUnavailable(RopaError):
    """Neo4j cannot be reached right now."""

    code = "DATABASE_UNAVAILABLE"


class DatabaseAuthFailed(DatabaseUnavailable):
    """Neo4j refused the configured user name or password (to API clients: unavailable)."""
