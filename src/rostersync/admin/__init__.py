"""The management plane's foundation: the encrypted secret store, admin accounts and roles,
personal API tokens, login backoff, authorization scoping and the audit trail.

The CLI uses it today and the management API is built on the same functions; nothing here knows
about HTTP. Modules (imported one by one, so a command pays only for what it uses):

- :mod:`~rostersync.admin.secrets`: ``SecretStore`` (``store:NAME``), ``lookup_for``
- :mod:`~rostersync.admin.accounts`: ``Accounts``, ``Account``, the roles
- :mod:`~rostersync.admin.tokens`: ``Tokens`` (personal API tokens)
- :mod:`~rostersync.admin.ratelimit`: ``LoginBackoff``
- :mod:`~rostersync.admin.authz`: ``scope`` and ``require``, the one place access is decided
- :mod:`~rostersync.admin.audit`: reading the audit log; :mod:`~rostersync.admin.actors`: who acts
- :mod:`~rostersync.admin.errors`: ``AuthenticationFailed``, ``LoginThrottled``,
  ``PermissionDenied``
"""
