"""Reads behind the GraphQL API: each function is one read transaction (one round trip).

Functions take ids, never names (`refs` turns names into ids first), and return the records of
`schema.graphql.records`; none of them writes, so all are safe to retry.
"""
