"""Change detection, hold threshold, preview and approval: what makes an automatic sync trusted.

A bad SIS day must never wipe a roster downstream. Modules:

- :mod:`.diff` — change sets (added / updated with field-level before/after / deleted), columnar;
- :mod:`.health` — the source-health circuit breaker (a broken extract fails the run);
- :mod:`.windows` — rollover windows (additions only, no deletions);
- :mod:`.threshold` — ``hold_threshold`` (:class:`~.threshold.HoldThreshold`) and the decision;
- :mod:`.overrides` — which hold override is in force (the latest grant wins);
- :mod:`.decision` — ``decide(base, candidate, options, overrides, health) -> Decision``;
- :mod:`.report` — a change set as rows with before/after (CLI, CSV);

Pure: no store, no connector, no clock. The run's owner, :mod:`rostersync.sync`, persists the
decision, publishes, holds and notifies (:mod:`rostersync.sync.approval`). Kept import-light on
purpose: the configuration package imports :mod:`.threshold`.
"""
