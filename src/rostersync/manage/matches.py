"""Manual match / unmatch: join two records the rules missed, split a wrong match, list them.

- :func:`link_records` — two records of the published roster are one: ``other`` is merged into
  ``keep`` from the next sync on (``keep``'s values win, ``other`` fills what it leaves empty,
  references follow). Earlier decisions that pointed at ``other`` now point at ``keep``.
- :func:`unlink_records` — reverse a match (an admin's link, a sync's re-link, or a merge of
  two sources' records by their common domain of uniqueness: one of the two is published, the
  other not): from the next sync on the two are two records again, and they are never
  re-linked or merged across sources automatically. (Two records of one source equal on its
  own domain of uniqueness are merged by that domain: change the domain to split them.)
- :func:`list_matches` — the decisions in force (or also the reversed ones), newest first.

The sync applies the decisions in force on every run (:mod:`rostersync.sync.links`), so they
survive every later sync. Every change is audited (``matches.link``, ``matches.unlink``).
"""

from __future__ import annotations

from rostersync.errors import ConfigurationError
from rostersync.model import ENTITIES, ENTITY_TYPES
from rostersync.store import Store
from rostersync.store.schema import record_links
from rostersync.sync.links import LinkRecord, add_link, end_link, list_links

#: How many decisions a listing shows at most.
MAX_LISTED = 1000


def entity_table(name: str) -> str:
    """The canonical table of an entity given as a table (``users``) or a type (``student``)."""
    if name in ENTITIES:
        return name
    if name in ENTITY_TYPES:
        return ENTITY_TYPES[name].entity
    known = ", ".join([*ENTITY_TYPES, *ENTITIES])
    raise ConfigurationError(f"unknown entity {name!r}; use one of: {known}", setting="entity")


def _published_ids(store: Store, district_id: int, entity: str) -> set[str]:
    return set(store.read_current_hashes(district_id, entity)["sourcedId"].to_list())


def list_matches(
    store: Store,
    district: str | int,
    *,
    entity: str | None = None,
    kind: str | None = None,
    record: str | None = None,
    include_reversed: bool = False,
    limit: int = 100,
) -> list[LinkRecord]:
    """A district's match decisions, newest first (see the module docstring)."""
    d = store.get_district(district)
    if kind is not None and kind not in ("relink", "link", "apart"):
        raise ConfigurationError(
            f"unknown kind {kind!r}; use relink, link or apart", setting="kind"
        )
    if not 1 <= limit <= MAX_LISTED:
        raise ConfigurationError(f"limit must be from 1 to {MAX_LISTED}", setting="limit")
    table = entity_table(entity) if entity is not None else None
    return list_links(
        store, d.id, entity=table, kind=kind, record=record, ended=include_reversed, limit=limit
    )


def link_records(
    store: Store,
    actor: str,
    district: str | int,
    entity: str,
    keep: str,
    other: str,
    *,
    note: str | None = None,
) -> LinkRecord:
    """Join ``other`` into ``keep`` (both published records of ``entity``) from the next sync."""
    d = store.get_district(district)
    table = entity_table(entity)
    if keep == other:
        raise ConfigurationError("give two different records to join", setting="other")
    published = _published_ids(store, d.id, table)
    missing = [sid for sid in (keep, other) if sid not in published]
    if missing:
        raise ConfigurationError(
            f"no record {', '.join(repr(m) for m in missing)} among the district's published "
            f"{table}",
            setting="keep" if keep in missing else "other",
            hint="give the sourcedIds of two records of the current roster version",
        )
    t = record_links
    in_force = t.c.ended_at.is_(None) & (t.c.district_id == d.id) & (t.c.entity == table)
    with store.engine.begin() as conn:
        for row in conn.execute(
            t.select().where(
                in_force,
                t.c.kind == "apart",
                ((t.c.from_id == keep) & (t.c.to_id == other))
                | ((t.c.from_id == other) & (t.c.to_id == keep)),
            )
        ):
            end_link(conn, row.id, actor)
        retargeted = conn.execute(
            t.update()
            .where(in_force, t.c.kind.in_(("link", "relink")), t.c.to_id == other)
            .values(to_id=keep)
        ).rowcount
        link_id = add_link(
            conn,
            d.id,
            entity=table,
            from_id=other,
            to_id=keep,
            kind="link",
            created_by=actor,
            detail=note,
        )
    store.audit(
        actor,
        "matches.link",
        d.id,
        entity=table,
        keep=keep,
        other=other,
        retargeted=int(retargeted or 0),
        note=note,
    )
    return next(r for r in list_links(store, d.id, entity=table, record=other) if r.id == link_id)


def _merged_by_the_rules(
    store: Store, district_id: int, name: str, table: str, first: str, second: str
) -> tuple[str, str]:
    """(gone, kept) when one of the two is published and the other is not: a record merged
    into another by the domains of uniqueness across sources, which the split keeps apart."""
    published = _published_ids(store, district_id, table)
    shown = [sid for sid in (first, second) if sid in published]
    if first != second and len(shown) == 1:
        kept = shown[0]
        return (second if kept == first else first), kept
    why = "are two published records already" if len(shown) == 2 else "are not matched"
    raise ConfigurationError(
        f"{first!r} and {second!r} {why} in the district's {table}",
        setting="records",
        hint=f"see `rostersync matches list --district {name!r} --record {first}`",
    )


def unlink_records(
    store: Store,
    actor: str,
    district: str | int,
    entity: str,
    first: str,
    second: str,
    *,
    note: str | None = None,
) -> LinkRecord:
    """Reverse the match of two records (see the module docstring); they stay apart.

    Returns the ``apart`` decision that keeps them so.
    """
    d = store.get_district(district)
    table = entity_table(entity)
    t = record_links
    either_way = ((t.c.from_id == first) & (t.c.to_id == second)) | (
        (t.c.from_id == second) & (t.c.to_id == first)
    )
    with store.engine.begin() as conn:
        rows = list(
            conn.execute(
                t.select().where(
                    t.c.district_id == d.id,
                    t.c.entity == table,
                    t.c.ended_at.is_(None),
                    t.c.kind.in_(("link", "relink")),
                    either_way,
                )
            )
        )
        if rows:
            for row in rows:
                end_link(conn, row.id, actor)
            pair: tuple[str, str] = (rows[0].from_id, rows[0].to_id)
        else:
            pair = _merged_by_the_rules(store, d.id, d.name, table, first, second)
        apart_id = add_link(
            conn,
            d.id,
            entity=table,
            from_id=pair[0],
            to_id=pair[1],
            kind="apart",
            created_by=actor,
            detail=note,
        )
    store.audit(
        actor,
        "matches.unlink",
        d.id,
        entity=table,
        records=[first, second],
        reversed=[{"id": r.id, "kind": r.kind} for r in rows],
        note=note,
    )
    found = list_links(store, d.id, entity=table, kind="apart", record=first)
    return next(r for r in found if r.id == apart_id)
