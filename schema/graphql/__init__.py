"""The GraphQL contract of the registry: strawberry types over records the loaders return.

Types reach data only through the request context (`schema.graphql.context`), whose loaders
the service implements on the graph; nothing here knows where records come from.
"""
