"""Who may read and change which register: principals, roles, scopes and the one policy.

`principal` defines who a request acts as (a bearer token, a signed-in person, the CLI);
`policy` answers every "may this principal read / change this register" question, and what
anonymous callers get (`ROPA_PUBLIC_READS`); `tokens` reads the bearer-token list.
"""
