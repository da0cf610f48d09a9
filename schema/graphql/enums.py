"""GraphQL enums: the document's own enums, so the two contracts cannot drift apart.

Types import enums from here, which registers them with strawberry before any schema is built.
"""

from __future__ import annotations

import strawberry

from schema.document import (
    DpiaStatus,
    EngagementStatus,
    FlowKind,
    LegalBasisKind,
    OrganisationKind,
    RecipientRole,
)
from schema.graphql.records import HopKind, OrganisationRole

strawberry.enum(OrganisationKind, description="What sort of body it is")
strawberry.enum(LegalBasisKind, description="Which kind of basis, condition or law it is")
strawberry.enum(
    FlowKind, description="A controller's disclosure, or a recipient's onward disclosure"
)
strawberry.enum(RecipientRole, description="What the recipient acts as")
strawberry.enum(EngagementStatus, description="Where an engagement stands")
strawberry.enum(DpiaStatus, description="Whether a DPIA is needed and done")
strawberry.enum(HopKind, description="How data moves along one hop")
strawberry.enum(OrganisationRole, description="A role an organisation plays in the register")

__all__ = [
    "DpiaStatus",
    "EngagementStatus",
    "FlowKind",
    "HopKind",
    "LegalBasisKind",
    "OrganisationKind",
    "OrganisationRole",
    "RecipientRole",
]
