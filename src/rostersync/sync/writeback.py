"""2-way sync, the run: write the gradebook's line items and results back to PowerSchool.

Only in ``sync_mode: two_way`` (import mode never writes). Apps' line items become PowerTeacher
Pro assignments in the class's section (lead teacher, category by name) and their results
scores, through the source connector's session (bounded concurrency, the source's minimum
request interval, retries with backoff). Batched: one assignment POST per section, score PUTs of
up to :data:`SCORE_BATCH` scores per teacher.

Idempotent: the link from each sourcedId to its PowerSchool id is stored with a digest of what
was written, so a rerun writes nothing unless an object changed, and an assignment created by a
request whose answer was lost is found again by its marker instead of being duplicated.

Conflicts: by default a teacher's edit in PowerSchool since our last write wins — the score is
not overwritten, the gradebook result takes PowerSchool's value, and the conflict is reported.
Mass grade changes (:mod:`rostersync.sync.writeback_holds`) are held for approval. Every
action, and PowerSchool's answer to it, goes into the district's write-back log.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

import httpx
import sqlalchemy as sa

from rostersync.admin.secrets import lookup_for
from rostersync.clock import utcnow
from rostersync.config import DistrictConfig, SourceConfig
from rostersync.connectors.powerschool.connector import PowerSchoolConnector
from rostersync.connectors.powerschool.writeback import (
    Answer,
    GradeSync,
    WriteAccessNotGranted,
    grants_text,
    marker_of,
)
from rostersync.errors import ConfigurationError, RostersyncError
from rostersync.export.oneroster.gradebook_store import Stored, read
from rostersync.logs import get_logger
from rostersync.settings import Settings
from rostersync.store import Store
from rostersync.store.schema import (
    gradebook_objects,
    gradebook_writeback_links,
    gradebook_writeback_log,
)
from rostersync.sync.events import RunEvent, RunEvents
from rostersync.sync.sources import connector_for
from rostersync.sync.writeback_holds import held_results
from rostersync.sync.writeback_plan import (
    Link,
    Plan,
    Section,
    digest,
    plan_line_items,
    score,
    sections_of,
    seen_value,
)

log = get_logger("writeback")
SCORE_BATCH = 200
ASSIGNMENT_BATCH = 50
g = gradebook_objects.c
L = gradebook_writeback_links.c


@dataclass
class WritebackReport:
    """What one write-back did (counts, and one line per conflict, refusal or hold)."""

    assignments_created: int = 0
    assignments_updated: int = 0
    assignments_deleted: int = 0
    scores_written: int = 0
    unchanged: int = 0
    conflicts: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    held: list[str] = field(default_factory=list)
    #: Seconds per step: reading the store, talking to the SIS, storing links and the log.
    seconds: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class _Run:
    """One write-back's state: what to persist at the end."""

    district_id: int
    source: str
    now: datetime
    links: dict[tuple[str, str], Link]
    new_links: dict[tuple[str, str], Link] = field(default_factory=dict)
    dropped: list[tuple[str, str]] = field(default_factory=list)
    log: list[dict[str, Any]] = field(default_factory=list)
    sis_edits: list[tuple[Stored, dict[str, Any]]] = field(default_factory=list)
    report: WritebackReport = field(default_factory=WritebackReport)
    _summaries: dict[int, str] = field(default_factory=dict)

    def record(self, kind: str, sid: str, action: str, outcome: str, answer: Answer | None) -> None:
        # One summary per answer: a batch's answer is logged once per object in it.
        text = None
        if answer is not None:
            text = self._summaries.get(id(answer))
            if text is None:
                text = self._summaries[id(answer)] = answer.summary()
        self.log.append(
            {
                "district_id": self.district_id,
                "at": self.now,
                "source": self.source,
                "kind": kind,
                "sourcedId": sid,
                "action": action,
                "outcome": outcome,
                "http_status": answer.status if answer else None,
                "answer": text,
            }
        )


def target_source(config: DistrictConfig) -> SourceConfig:
    """The source grades are written back to: the district's two_way PowerSchool source."""
    for index, source in enumerate(config.sources):
        if source.sync_mode != "two_way":
            continue
        if source.app != "powerschool":
            raise ConfigurationError(
                f"sources[{index}].sync_mode: {source.app} cannot take grades back "
                "(write-back goes to PowerSchool's PowerTeacher Pro)",
                setting=f"sources[{index}].sync_mode",
                hint="set sync_mode: import for this source",
            )
        return source
    raise ConfigurationError(
        "no source has sync_mode two_way: grades are written back to the SIS only in two_way",
        setting="sources[].sync_mode",
        hint="set sync_mode: two_way on the PowerSchool source once its plugin grants grade sync",
    )


def two_way(config: DistrictConfig) -> bool:
    return any(s.sync_mode == "two_way" for s in config.sources)


def check_access(
    config: DistrictConfig,
    settings: Settings,
    *,
    store_lookup: Callable[[str], str | None] | None = None,
) -> None:
    """Refuse ``two_way`` (before anything is read) unless the plugin grants grade sync:
    raises :class:`ConfigurationError` naming the setting and the grants it needs."""
    source = target_source(config)
    index = config.sources.index(source)
    connector, http = connector_for(source, settings, store_lookup=store_lookup)
    assert isinstance(connector, PowerSchoolConnector)

    async def go() -> None:
        try:
            await GradeSync(connector.session).probe()
        finally:
            await http.aclose()

    try:
        asyncio.run(go())
    except WriteAccessNotGranted as exc:
        raise ConfigurationError(
            f"sources[{index}].sync_mode: two_way needs PowerSchool's grade sync, which the "
            f"plugin does not grant ({exc.message})",
            setting=f"sources[{index}].sync_mode",
            hint=f"install a plugin whose access_request has {grants_text()} (`rostersync "
            "powerschool plugin --config FILE --out plugin.zip` writes it for two_way), or set "
            "sync_mode: import",
        ) from exc


def after_sync(
    store: Store,
    config: DistrictConfig,
    settings: Settings,
    events: RunEvents,
    *,
    store_lookup: Callable[[str], str | None] | None = None,
) -> WritebackReport | None:
    """The write-back step of a 2-way run, once the roster is published: its counts and every
    conflict, refusal and hold go into the run's events. A failure is a warning, not a failed
    run (the published roster stands); the next run writes what is still due."""
    try:
        report = write_back(store, config, settings, store_lookup=store_lookup)
    except RostersyncError as exc:
        events.warning(f"grade write-back failed: {exc}", phase="writeback")
        log.warning("grade write-back failed", error=str(exc))
        return None
    counts = report.to_dict()
    events.emit(
        RunEvent(
            "progress",
            f"grade write-back: {report.assignments_created} assignments created, "
            f"{report.assignments_updated} updated, {report.assignments_deleted} deleted, "
            f"{report.scores_written} scores written, {report.unchanged} unchanged",
            phase="writeback",
            data={k: v for k, v in counts.items() if isinstance(v, int | dict)},
        )
    )
    for line in (*report.conflicts, *report.refused, *report.held):
        events.warning(line, phase="writeback")
    return report


def _load(store: Store, district_id: int, source: str) -> tuple[list[Stored], dict[Any, Link]]:
    with store.engine.connect() as conn:
        objects: list[Stored] = []
        for kind in ("lineItems", "results", "categories"):
            objects += read(conn, district_id, kind, [g.origin != "sis"])[0]
        rows = conn.execute(
            sa.select(gradebook_writeback_links).where(
                L.district_id == district_id, L.source == source
            )
        ).mappings()
        links = {
            (r["kind"], r["sourcedId"]): Link(r["sis_id"], r["written"], r["seen"]) for r in rows
        }
    return objects, links


def write_back(
    store: Store,
    config: DistrictConfig,
    settings: Settings,
    *,
    client: httpx.AsyncClient | None = None,
    store_lookup: Callable[[str], str | None] | None = None,
) -> WritebackReport:
    """Write the district's gradebook back to its PowerSchool source (``two_way`` only)."""
    source = target_source(config)
    started = time.perf_counter()
    district_id = store.get_district(config.district).id
    roster = store.read_version(district_id)
    sections = sections_of(roster)
    objects, links = _load(store, district_id, source.name)
    if store_lookup is None:  # store:NAME secrets of this district
        store_lookup = lookup_for(store, settings, district_id)
    run = _Run(district_id, source.name, utcnow(), links)
    connector, http = connector_for(source, settings, client, store_lookup=store_lookup)
    assert isinstance(connector, PowerSchoolConnector)
    sync = GradeSync(connector.session)

    async def go() -> None:
        try:
            await _execute(sync, run, objects, sections, store)
        finally:
            if client is None:
                await http.aclose()

    read_at = time.perf_counter()
    asyncio.run(go())
    wrote_at = time.perf_counter()
    _persist(store, run)
    run.report.seconds = {
        "read": round(read_at - started, 3),
        "write": round(wrote_at - read_at, 3),
        "persist": round(time.perf_counter() - wrote_at, 3),
    }
    return run.report


async def _gather(jobs: Sequence[Any]) -> list[Any]:
    return list(await asyncio.gather(*jobs))


async def _execute(
    sync: GradeSync, run: _Run, objects: list[Stored], sections: dict[str, Section], store: Store
) -> None:
    items = [o for o in objects if o.kind == "lineItems"]
    results = [o for o in objects if o.kind == "results"]
    titles = {o.sourced_id: str(o.body.get("title", "")) for o in objects if o.kind == "categories"}
    await sync.probe()  # refuses at once if the plugin grants no grade sync
    used = sorted(
        {
            sections[str(i.body.get("class"))].teacher
            for i in items
            if str(i.body.get("class")) in sections
        }
    )
    cats = await _gather([sync.categories(t) for t in used])
    categories = {
        t: {str(c.get("name", "")).casefold(): int(c["teachercategoryid"]) for c in found}
        for t, found in zip(used, cats, strict=True)
    }
    plan = plan_line_items(items, sections, run.links, categories, titles)
    run.report.unchanged += plan.unchanged
    for item, why in plan.skipped:
        run.report.refused.append(f"lineItem {item.sourced_id}: {why}")
        run.record("lineItems", item.sourced_id, "skip", "refused", None)
    await _create(sync, run, plan)
    await _gather([_update(sync, run, *u) for u in plan.update])
    await _scores(sync, run, results, sections, store)
    await _gather([_delete(sync, run, *d) for d in plan.delete])


async def _create(sync: GradeSync, run: _Run, plan: Plan) -> None:
    by_teacher: dict[int, list[tuple[Stored, Section, dict[str, Any]]]] = defaultdict(list)
    for entry in plan.create:
        by_teacher[entry[1].teacher].append(entry)

    async def for_teacher(
        teacher: int, entries: list[tuple[Stored, Section, dict[str, Any]]]
    ) -> None:
        existing = await sync.assignments(teacher, [s.dcid for _, s, _ in entries])
        adopted = {m: a for a in existing if (m := marker_of(a)) is not None}
        todo = []
        for item, _section, payload in entries:
            found = adopted.get(item.sourced_id)
            if found is not None:  # created before, but the answer was lost: adopt it
                _linked(run, "lineItems", item.sourced_id, found["assignmentsectionid"], payload)
                run.record("lineItems", item.sourced_id, "create", "adopted", None)
                run.report.assignments_created += 1
            else:
                todo.append((item, payload))
        for start in range(0, len(todo), ASSIGNMENT_BATCH):
            batch = todo[start : start + ASSIGNMENT_BATCH]
            answer = await sync.create(teacher, [p for _, p in batch])
            echoed = (
                answer.body.get("_assignmentsections")
                if answer.ok and isinstance(answer.body, dict)
                else None
            )
            if not isinstance(echoed, list) or len(echoed) != len(batch):
                for item, _ in batch:
                    run.report.refused.append(f"lineItem {item.sourced_id}: {answer.summary(160)}")
                    run.record("lineItems", item.sourced_id, "create", "refused", answer)
                continue
            for (item, payload), made in zip(batch, echoed, strict=True):
                _linked(run, "lineItems", item.sourced_id, made["assignmentsectionid"], payload)
                run.record("lineItems", item.sourced_id, "create", "written", answer)
                run.report.assignments_created += 1

    await _gather([for_teacher(t, e) for t, e in by_teacher.items()])


def _linked(
    run: _Run, kind: str, sid: str, sis_id: Any, payload: dict[str, Any], seen: str | None = None
) -> None:
    link = Link(str(sis_id), digest(payload), seen)
    run.new_links[(kind, sid)] = link
    run.links[(kind, sid)] = link


async def _update(
    sync: GradeSync, run: _Run, item: Stored, section: Section, ident: int, payload: dict[str, Any]
) -> None:
    answer = await sync.update(section.teacher, ident, payload)
    if answer.status == 404:  # deleted in PowerSchool: a teacher's decision, reported
        run.report.conflicts.append(
            f"lineItem {item.sourced_id}: its assignment {ident} was deleted in PowerSchool"
        )
        run.record("lineItems", item.sourced_id, "update", "conflict", answer)
        return
    if not answer.ok:
        run.report.refused.append(f"lineItem {item.sourced_id}: {answer.summary(160)}")
        run.record("lineItems", item.sourced_id, "update", "refused", answer)
        return
    _linked(run, "lineItems", item.sourced_id, ident, payload)
    run.record("lineItems", item.sourced_id, "update", "written", answer)
    run.report.assignments_updated += 1


async def _delete(
    sync: GradeSync, run: _Run, item: Stored, section: Section | None, ident: int
) -> None:
    if section is None:
        run.report.refused.append(f"lineItem {item.sourced_id}: its class is gone from the roster")
        return
    theirs = [s for s in await sync.scores(section.teacher, [ident]) if not _ours(run, ident, s)]
    if theirs:
        run.report.conflicts.append(
            f"lineItem {item.sourced_id}: kept in PowerSchool, "
            f"{len(theirs)} score(s) were entered there"
        )
        run.record("lineItems", item.sourced_id, "delete", "conflict", None)
        return
    answer = await sync.delete(section.teacher, ident, force=True)
    if answer.ok or answer.status == 404:
        run.dropped.append(("lineItems", item.sourced_id))
        run.record("lineItems", item.sourced_id, "delete", "written", answer)
        run.report.assignments_deleted += 1
    else:
        run.report.refused.append(f"lineItem {item.sourced_id}: {answer.summary(160)}")
        run.record("lineItems", item.sourced_id, "delete", "refused", answer)


def _ours(run: _Run, assignment_id: int, sis_score: dict[str, Any]) -> bool:
    """Whether a SIS score is one we wrote and nobody changed since."""
    seen = seen_value(sis_score)
    return any(
        k[0] == "results"
        and link.sis_id == f"{assignment_id}:{sis_score.get('studentsdcid')}"
        and link.seen == seen
        for k, link in run.links.items()
    )


async def _scores(
    sync: GradeSync, run: _Run, results: list[Stored], sections: dict[str, Section], store: Store
) -> None:
    held = held_results(store, run.district_id, results, run.links, run.now)
    for line in held.reasons:
        run.report.held.append(line)
    todo: dict[int, list[tuple[Stored, dict[str, Any], str]]] = defaultdict(list)
    for result in results:
        if result.status != "active" or result.sourced_id in held.ids:
            continue
        item_link = run.links.get(("lineItems", str(result.body.get("lineItem"))))
        section = sections.get(str(result.body.get("class")))
        student = section.students.get(str(result.body.get("student"))) if section else None
        if item_link is None or section is None or student is None:
            continue  # its line item was not written (reported there) or the student left
        payload = score(result, int(item_link.sis_id), student)
        key = f"{item_link.sis_id}:{student}"
        link = run.links.get(("results", result.sourced_id))
        if link is not None and link.written == digest(payload) and link.sis_id == key:
            run.report.unchanged += 1
            continue
        todo[section.teacher].append((result, payload, key))

    async def for_teacher(teacher: int, entries: list[tuple[Stored, dict[str, Any], str]]) -> None:
        ids = {int(k.split(":")[0]) for _, _, k in entries}
        current = {
            f"{s['_assignmentsection']['assignmentsectionid']}:{s.get('studentsdcid')}": s
            for s in await sync.scores(teacher, ids)
            if isinstance(s.get("_assignmentsection"), dict)
        }
        send = []
        for result, payload, key in entries:
            link = run.links.get(("results", result.sourced_id))
            there = current.get(key)
            if link is not None and there is not None and seen_value(there) != link.seen:
                run.sis_edits.append((result, there))
                run.report.conflicts.append(
                    f"result {result.sourced_id}: changed in PowerSchool to "
                    f"{there.get('actualscoreentered')!r} since our last write; PowerSchool's kept"
                )
                run.record("results", result.sourced_id, "score", "conflict", None)
                continue
            send.append((result, payload, key))
        for start in range(0, len(send), SCORE_BATCH):
            await _put_batch(sync, run, teacher, send[start : start + SCORE_BATCH])

    await _gather([for_teacher(t, e) for t, e in todo.items()])


async def _put_batch(
    sync: GradeSync, run: _Run, teacher: int, batch: list[tuple[Stored, dict[str, Any], str]]
) -> None:
    answer = await sync.put_scores(teacher, [p for _, p, _ in batch])
    if answer.status == 409 and len(batch) > 1:
        # PowerSchool refuses the whole batch naming the bad items: send the others again
        bad = _refused_indexes(answer)
        for index in sorted(bad):
            result = batch[index][0]
            run.report.refused.append(f"result {result.sourced_id}: {answer.summary(160)}")
            run.record("results", result.sourced_id, "score", "refused", answer)
        rest = [e for i, e in enumerate(batch) if i not in bad]
        if rest and len(rest) < len(batch):
            await _put_batch(sync, run, teacher, rest)
            return
        batch = [] if bad else batch
    if not answer.ok:
        for result, _, _ in batch:
            run.report.refused.append(f"result {result.sourced_id}: {answer.summary(160)}")
            run.record("results", result.sourced_id, "score", "refused", answer)
        return
    for result, payload, key in batch:
        _linked(run, "results", result.sourced_id, key, payload, seen_value(payload))
        run.record("results", result.sourced_id, "score", "written", answer)
        run.report.scores_written += 1


def _refused_indexes(answer: Answer) -> set[int]:
    errors = answer.body.get("errors") if isinstance(answer.body, dict) else None
    found = set()
    for error in errors or []:
        text = str(error.get("field", "")) if isinstance(error, dict) else ""
        if text.startswith("assignment_scores[") and text.endswith("]"):
            digits = text[len("assignment_scores[") : -1]
            if digits.isdigit():
                found.add(int(digits))
    return found


def _persist(store: Store, run: _Run) -> None:
    """Links, the log and PowerSchool's kept edits, in one transaction."""
    with store.engine.begin() as conn:
        gone: dict[str, list[str]] = defaultdict(list)
        for kind, sid in [*run.new_links, *run.dropped]:
            gone[kind].append(sid)
        for kind, ids in gone.items():
            for start in range(0, len(ids), 500):
                conn.execute(
                    gradebook_writeback_links.delete().where(
                        L.district_id == run.district_id,
                        L.source == run.source,
                        L.kind == kind,
                        L.sourcedId.in_(ids[start : start + 500]),
                    )
                )
        rows = [
            {
                "district_id": run.district_id,
                "source": run.source,
                "kind": kind,
                "sourcedId": sid,
                "sis_id": link.sis_id,
                "written": link.written,
                "seen": link.seen,
                "written_at": run.now,
            }
            for (kind, sid), link in run.new_links.items()
        ]
        if rows:
            conn.execute(gradebook_writeback_links.insert(), rows)
        for result, there in run.sis_edits:
            _keep_sis_edit(conn, run, result, there)
        if run.log:
            conn.execute(gradebook_writeback_log.insert(), run.log)


def _keep_sis_edit(conn: sa.Connection, run: _Run, result: Stored, there: dict[str, Any]) -> None:
    """A teacher's edit in PowerSchool won: the result takes PowerSchool's score (so apps read
    it), and the link records it as written and seen, so it is not reported again."""
    body = dict(result.body)
    entered = str(there.get("actualscoreentered", ""))
    body.pop("score", None)
    body.pop("textScore", None)
    if there.get("actualscorekind") == "EXEMPT":
        body["scoreStatus"] = "exempt"
    elif entered:
        try:
            body["score"] = float(entered) if "." in entered else int(entered)
        except ValueError:
            body["textScore"] = entered
    conn.execute(
        gradebook_objects.update()
        .where(
            g.district_id == run.district_id,
            g.kind == "results",
            g.sourcedId == result.sourced_id,
        )
        .values(body=json.dumps(body, sort_keys=True), dateLastModified=run.now)
    )
    link = run.links[("results", result.sourced_id)]
    assignment, student = (int(p) for p in link.sis_id.split(":"))
    kept = Stored(result.kind, result.sourced_id, "active", run.now, body, result.origin)
    conn.execute(
        gradebook_writeback_links.update()
        .where(
            L.district_id == run.district_id,
            L.source == run.source,
            L.kind == "results",
            L.sourcedId == result.sourced_id,
        )
        .values(
            written=digest(score(kept, assignment, student)),
            seen=seen_value(there),
            written_at=run.now,
        )
    )
