"""The configuration wizard: the admin's journey, one step at a time, each step a config version.

Application Gallery → Activate → Sync Mode → Delivery Config → Schools Mapping → Attributes
Mapping → Data Requirements → Filter Rules → Domains of Uniqueness → Master Fields → Sync
Schedule → Done. Each step writes its sections of the district configuration (the same keys as
the YAML file: a step's values are ``{"delivery": {…}, "advanced": {…}}``), is checked by the
same validator as ``config validate`` (every problem with its path, e.g.
``sources[0].delivery.url``) and is saved as the district's next configuration version, with a
comment naming the step — so the wizard's progress is read back from the version history, and
every step can be diffed, restored and exported as YAML. FINISH is allowed once Attributes
Mapping is saved: the later steps keep their defaults.

Activate and Sync Mode of a new source are checked and carried forward, and saved with Delivery
Config: a stored configuration is always a whole, valid one (a source needs its delivery).
The client secret typed into Delivery Config goes to the secret store (``store:NAME``); only
its reference is ever part of a configuration.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from rostersync.admin.secrets import SecretStore
from rostersync.config import DistrictConfig, config_document, dump_config, parse_config_text
from rostersync.errors import ConfigurationError, ConfigValidationError, Problem, VersionNotFound
from rostersync.manage.configs import get_config_version, list_config_versions
from rostersync.manage.wizard_steps import (
    FINISH_AFTER,
    STEPS,
    AppCard,
    Step,
    app_card,
    check_activation,
    gallery,
    step_named,
    uses_delivery,
)
from rostersync.settings import Settings
from rostersync.store import District, Store
from rostersync.sync.run import ensure_district

__all__ = [
    "FINISH_AFTER",
    "STEPS",
    "AppCard",
    "StepOutcome",
    "WizardState",
    "app_card",
    "export_yaml",
    "finish",
    "gallery",
    "import_yaml",
    "save_step",
    "step_named",
    "uses_delivery",
    "wizard_state",
]

#: Comments of the versions the wizard saves: ``wizard <step>: <source>``, ``wizard import``.
COMMENT: Final = "wizard {step}: {source}"
IMPORT_COMMENT: Final = "wizard import"


def secret_name(source: str) -> str:
    """The secret store name of a source's OAuth client secret."""
    return f"{source}-client-secret"


@dataclass(frozen=True)
class StepStatus:
    """One step of the journey for one source: saved yet, and in which version."""

    step: Step
    done: bool
    version: int | None

    def as_dict(self) -> dict[str, Any]:
        return {**self.step.as_dict(), "done": self.done, "version": self.version}


@dataclass(frozen=True)
class WizardState:
    """Where a district's wizard stands for one source, and the values to fill its forms with."""

    district_id: int
    district: str
    source: str | None
    app: str | None
    config_version: int | None
    steps: list[StepStatus]
    next_step: str
    can_finish: bool
    finished: bool
    #: The current configuration (None before the first save): the forms' values.
    config: dict[str, Any] | None = None

    def source_values(self) -> dict[str, Any]:
        """The source's own sections ({} for a source not saved yet)."""
        for s in (self.config or {}).get("sources", []):
            if s.get("name") == self.source:
                return dict(s)
        return {}

    def as_dict(self) -> dict[str, Any]:
        return {
            "district_id": self.district_id,
            "district": self.district,
            "source": self.source,
            "app": self.app,
            "config_version": self.config_version,
            "steps": [s.as_dict() for s in self.steps],
            "next_step": self.next_step,
            "can_finish": self.can_finish,
            "finished": self.finished,
            "config": self.config,
        }


@dataclass(frozen=True)
class StepOutcome:
    """What saving a step did: the new version (None when carried forward), and the state."""

    step: str
    version: int | None
    state: WizardState
    #: Values checked but not saved yet (Activate / Sync Mode of a new source).
    pending: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "step": self.step,
            "version": self.version,
            "saved": self.version is not None,
            "pending": self.pending,
            "state": self.state.as_dict(),
        }


def _newest(store: Store, district: District) -> tuple[int | None, dict[str, Any] | None]:
    try:
        info, body = get_config_version(store, district.id)
    except VersionNotFound:
        return None, None
    return info.version, body


def _saved_steps(store: Store, district: District, source: str | None) -> dict[str, int]:
    """Step key → the newest version saving it for ``source`` (an import fills every step)."""
    out: dict[str, int] = {}
    for info in reversed(list_config_versions(store, district.id)):
        comment = info.comment or ""
        if comment == IMPORT_COMMENT:  # filled, not finished: FINISH is the admin's
            out.update(dict.fromkeys((s.key for s in STEPS if s.key != "done"), info.version))
        for s in STEPS:
            if source is not None and comment == COMMENT.format(step=s.key, source=source):
                out[s.key] = info.version
    return out


def wizard_state(store: Store, district: str | int, source: str | None = None) -> WizardState:
    """The wizard of ``district`` for ``source`` (default: the configuration's first source)."""
    d = store.get_district(district)
    version, body = _newest(store, d)
    sources = (body or {}).get("sources") or []
    if source is None and sources:
        source = str(sources[0].get("name"))
    current = next((s for s in sources if s.get("name") == source), None)
    saved = _saved_steps(store, d, source)
    if current is not None:  # a stored source has its activation, sync mode and delivery
        for key in ("activate", "sync_mode", "delivery"):
            saved.setdefault(key, saved.get("delivery", version or 0))
    steps = [StepStatus(s, s.key in saved, saved.get(s.key)) for s in STEPS]
    todo = [s.step.key for s in steps if not s.done]
    upto = [s.key for s in STEPS[: [x.key for x in STEPS].index(FINISH_AFTER) + 1]]
    return WizardState(
        district_id=d.id,
        district=d.name,
        source=source,
        app=str(current["app"]) if current else None,
        config_version=version,
        steps=steps,
        next_step=todo[0] if todo else "done",
        can_finish=current is not None and all(k in saved for k in upto),
        finished="done" in saved,
        config=body,
    )


def _validated(body: Mapping[str, Any], where: str, server_secrets: bool) -> DistrictConfig:
    """The same validator as ``config validate``, and the API's rule on secret references."""
    config = parse_config_text(json.dumps(body), where)
    if not server_secrets:
        refuse_server_secrets(config)
    return config


def refuse_server_secrets(config: DistrictConfig) -> None:
    """Secrets named as ``env:``/``file:`` are read on the server: operators only."""
    found: list[tuple[str, str | None]] = [
        (f"sources[{i}].delivery.client_secret", s.delivery.client_secret)
        for i, s in enumerate(config.sources)
        if s.delivery is not None
    ]
    n = config.notifications
    found += [("notifications.webhook_secret", n.webhook_secret)]
    found += [(f"notifications.webhooks[{i}].secret", h.secret) for i, h in enumerate(n.webhooks)]
    problems = [
        Problem(path, "refers to a secret outside the secret store: use store:NAME")
        for path, ref in found
        if ref is not None and not ref.startswith("store:")
    ]
    if problems:
        raise ConfigValidationError("the wizard", problems)


def _save(
    store: Store, actor: str, d: District, config: DistrictConfig, comment: str, **detail: Any
) -> int:
    was, _ = _newest(store, d)
    ensure_district(store, config)  # its sources, as a sync would add them
    version = store.save_config_version(
        d.id, config_document(config), created_by=actor, comment=comment
    )
    store.audit(actor, "config.wizard", d.id, version=version, was=was, **detail)
    return version


def save_step(
    store: Store,
    settings: Settings,
    actor: str,
    district: str | int,
    step: str,
    values: Mapping[str, Any],
    *,
    source: str | None = None,
    server_secrets: bool = False,
) -> StepOutcome:
    """Check one step's values with the whole configuration and save it as a new version.

    ``values`` holds the step's sections as the YAML file names them. A new source's Activate
    and Sync Mode are checked and returned as ``pending`` (send them again with Delivery Config).
    Raises :class:`ConfigValidationError` with every problem and its configuration path.
    """
    d = store.get_district(district)
    spec = step_named(step)
    if spec.key == "done":
        return finish(store, actor, d.id, source)
    _, body = _newest(store, d)
    work: dict[str, Any] = copy.deepcopy(body) if body else {"district": d.name, "sources": []}
    sources: list[dict[str, Any]] = work.setdefault("sources", [])
    name = str(values.get("name") or source or (sources[0]["name"] if sources else ""))
    index = next((i for i, s in enumerate(sources) if s.get("name") == name), None)
    spec.check_keys(values, new_source=index is None)
    if index is None:
        if spec.key not in ("activate", "sync_mode", "delivery"):
            raise ConfigurationError(
                f"Source {name!r} is not activated yet" if name else "No source is activated yet",
                setting="name",
                hint="save Activate, Sync Mode and Delivery Config first",
            )
        pending = check_activation(name, values, taken=[str(s.get("name")) for s in sources])
        name = pending["name"]
        if spec.key != "delivery":
            state = wizard_state(store, d.id, name if body else None)
            return StepOutcome(spec.key, None, state, pending)
        sources.append(dict(pending))
        index = len(sources) - 1
    target = sources[index]
    secret = spec.apply(work, target, values)
    delivered = target.get("delivery")
    missing: list[Problem] = []
    if isinstance(delivered, dict) and (secret is not None or not delivered.get("client_secret")):
        if secret is None:  # checked with the rest: every problem is reported at once
            missing.append(
                Problem(f"sources[{index}].delivery.client_secret", "the client secret is required")
            )
        delivered["client_secret"] = f"store:{secret_name(name)}"
    try:
        config = _validated(work, f"the {spec.title} step", server_secrets)
    except ConfigValidationError as exc:
        raise ConfigValidationError(exc.source, [*missing, *exc.problems]) from None
    if missing:
        raise ConfigValidationError(f"the {spec.title} step", missing)
    if secret is not None:
        SecretStore(store, settings).put(d.id, secret_name(name), secret, actor=actor)
    comment = COMMENT.format(step=spec.key, source=name)
    version = _save(store, actor, d, config, comment, step=spec.key, source=name)
    return StepOutcome(spec.key, version, wizard_state(store, d.id, name))


def finish(store: Store, actor: str, district: str | int, source: str | None = None) -> StepOutcome:
    """FINISH: allowed once Attributes Mapping is saved; the remaining steps keep defaults."""
    d = store.get_district(district)
    state = wizard_state(store, d.id, source)
    if not state.can_finish or state.config is None or state.source is None:
        raise ConfigurationError(
            "FINISH is allowed once Delivery Config, Schools Mapping and Attributes Mapping "
            "are saved",
            setting="step",
            hint="next step to save: " + state.next_step,
        )
    config = _validated(state.config, "the configuration", server_secrets=True)
    comment = COMMENT.format(step="done", source=state.source)
    version = _save(store, actor, d, config, comment, step="done", source=state.source)
    return StepOutcome("done", version, wizard_state(store, d.id, state.source))


def export_yaml(store: Store, district: str | int, version: int | None = None) -> str:
    """A configuration version (default: the newest) as the YAML file ``config validate`` reads."""
    info, body = get_config_version(store, district, version)
    return dump_config(
        _validated(body, f"configuration version {info.version}", server_secrets=True)
    )


def import_yaml(
    store: Store,
    actor: str,
    district: str | int,
    text: str,
    *,
    server_secrets: bool = False,
) -> WizardState:
    """Fill the wizard from a YAML file: validated whole, saved as the next version."""
    d = store.get_district(district)
    config = parse_config_text(text, "the imported file")
    if config.district != d.name:
        raise ConfigValidationError(
            "the imported file",
            [Problem("district", f"is {config.district!r}, but this is district {d.name!r}")],
        )
    if not server_secrets:
        refuse_server_secrets(config)
    _save(store, actor, d, config, IMPORT_COMMENT, step="import")
    return wizard_state(store, d.id)
