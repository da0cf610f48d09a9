"""The registry service: the GraphQL API over the register, with health endpoints."""
