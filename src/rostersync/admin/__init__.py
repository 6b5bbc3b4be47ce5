"""The management plane's foundation: the encrypted secret store, admin accounts and roles,
personal API tokens, login backoff, authorization scoping and the audit trail.

The CLI uses it today and the management API is built on the same functions; nothing here knows
about HTTP.
"""
