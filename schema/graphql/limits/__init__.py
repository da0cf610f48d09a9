"""Operation limits: what one GraphQL operation may cost, checked before it runs.

See `OperationLimits` for the limits, `extensions` for the strawberry extensions that apply
them, and README.md ("Limits") for the settings that configure them.
"""

from __future__ import annotations

from schema.graphql.limits.config import OperationLimits
from schema.graphql.limits.errors import TOO_COMPLEX, OperationTooComplex
from schema.graphql.limits.extension import limit_extensions

__all__ = ["TOO_COMPLEX", "OperationLimits", "OperationTooComplex", "limit_extensions"]
