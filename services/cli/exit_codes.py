"""The `ropa` command's exit codes, one meaning each (README.md lists them)."""

from __future__ import annotations

from enum import IntEnum


class Exit(IntEnum):
    """Why `ropa` stopped; scripts and CI branch on these."""

    OK = 0
    # The document is invalid, or `ropa check` found gaps of error severity.
    INVALID = 1
    # click's own code for a command line it cannot parse.
    USAGE = 2
    # Neo4j cannot be reached.
    UNAVAILABLE = 3
    # A controller or register the command names does not exist.
    NOT_FOUND = 4
    # `ropa audit verify`: the hash chain of the change log is broken.
    AUDIT_BROKEN = 5
    # Neo4j refused the user name or password.
    AUTH_FAILED = 6
    # A program the local stack needs (java, mvn) is not installed.
    MISSING_PREREQUISITE = 7
    # A port the local stack would listen on is taken.
    PORT_IN_USE = 8
    # A service of the local stack did not start or stopped.
    SERVICE_FAILED = 9
    # `ropa notice`: the notice would print a placeholder, and no `--draft` was asked for.
    PLACEHOLDERS = 10
