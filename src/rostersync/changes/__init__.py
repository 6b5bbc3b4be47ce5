"""Change detection, hold threshold, preview and approval: what makes an automatic sync trusted.

A bad SIS day must never wipe a roster downstream. Modules:

- :mod:`.diff` — change sets (added / updated with field-level before/after / deleted), columnar;
- :mod:`.health` — the source-health circuit breaker (a broken extract fails the run);
- :mod:`.windows` — rollover windows (additions only, no deletions);
- :mod:`.threshold` — ``hold_threshold`` (:class:`~.threshold.HoldThreshold`) and the decision;
- :mod:`.flow` — the run's approval flow: ``process_candidate``, ``approve``, ``reject``;
- :mod:`.seam` — ``decide_for(config, settings)``, the hook a sync run passes to ``sync_config``;
- :mod:`.report` — a change set as rows with before/after (CLI, CSV);
- :mod:`.tables` — the package's tables (migration ``0003_changes``).

Kept import-light on purpose: the configuration package imports :mod:`.threshold`.
"""
