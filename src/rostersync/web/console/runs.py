"""Run history with filters, a run's page (phases, report summary, listed records paged, CSV
downloads), and the district's charts — views over ``manage.list_runs``/``show_run`` and
``manage.run_reports``.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse, Response

from rostersync import manage
from rostersync.manage import run_reports
from rostersync.manage.run_history import run_history as history_of
from rostersync.store import RunRecord
from rostersync.sync.events import read_events
from rostersync.sync.states import RunStatus
from rostersync.web.console import charts
from rostersync.web.console.deps import (
    NAV_PAGES,
    PREFIX,
    ConsoleError,
    RunId,
    SessionDep,
    district_for,
    render,
    store_of,
)
from rostersync.web.console.home import run_summary
from rostersync.web.console.routing import ConsoleRoute

router = APIRouter(route_class=ConsoleRoute)
NAV_PAGES.add("runs")
RUNS = PREFIX + "/d/{district}/runs"
PAGE = 50
STATUSES = tuple(s.value for s in RunStatus)


def _charts(runs: list[RunRecord]) -> dict[str, Any]:
    """The last 30 runs, oldest first: records out of the pipeline per entity, durations."""
    last = list(reversed(runs[:30]))
    labels = [str(r.id) for r in last]
    entities = sorted(
        {e for r in last for e in (r.report.get("summary") or {}) if isinstance(r.report, dict)}
    )
    series = {
        e: [
            (r.report.get("summary") or {}).get(e, {}).get("out")
            if isinstance(r.report, dict)
            else None
            for r in last
        ]
        for e in entities
    }
    durations = [run_summary(r)["duration_seconds"] for r in last]
    return {"runs": labels, "records": series, "durations": durations}


@router.get(RUNS, include_in_schema=False)
def run_history(
    request: Request,
    session: SessionDep,
    district: str,
    status: Annotated[str, Query(max_length=20)] = "",
    trigger: Annotated[str, Query(max_length=40)] = "",
    offset: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
) -> Response:
    """The district's runs, newest first, filtered by status and trigger, 50 a page."""
    d = district_for(request, session, district)
    store = store_of(request)
    if status and status not in STATUSES:
        raise ConsoleError(422, f"Status: {status!r} is not a run status")
    history = history_of(
        store, d.id, status=status or None, trigger=trigger or None, offset=offset, limit=PAGE
    )
    chart = _charts(manage.list_runs(store, d.id, limit=30))
    data = {
        "filters": {"status": status or None, "trigger": trigger or None},
        "total": history.total,
        "offset": offset,
        "limit": PAGE,
        "runs": history.runs,
        "charts": chart,
    }
    return render(
        request,
        "runs.html",
        data,
        session=session,
        district=d,
        active="runs",
        statuses=STATUSES,
        triggers=history.triggers,
        records_svg=charts.records_chart(chart["runs"], chart["records"]),
        duration_svg=charts.duration_chart(chart["runs"], chart["durations"]),
    )


@router.get(RUNS + "/{run_id}", include_in_schema=False)
def run_page(
    request: Request,
    session: SessionDep,
    district: str,
    run_id: RunId,
    entity: Annotated[str, Query(max_length=64)] = "",
    action: Annotated[str, Query(max_length=20)] = "",
    offset: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
) -> Response:
    """A run: status, phases, the report's summary, and one entity's listed records paged."""
    d = district_for(request, session, district)
    run = manage.show_run(store_of(request), run_id, d.id)
    files = run_reports.report_files(run)
    summary = run.report.get("summary") if isinstance(run.report, dict) else None
    shown = entity or next(iter(files), "")
    page = (
        run_reports.report_page(run, shown, action=action or None, offset=offset, limit=PAGE)
        if shown
        else None
    )
    data = {
        "run": run_summary(run),
        "phases": run.phases,
        "change_summary": run.change_summary,
        "report_summary": summary or {},
        "report_entities": list(files),
        "events": [
            e.to_dict()
            for e in read_events(store_of(request).engine, run.id)
            if e.kind in {"phase_finished", "warning", "decision"}
        ][:200],
        "records": page.as_dict() if page else None,
    }
    return render(
        request,
        "run.html",
        data,
        session=session,
        district=d,
        active="runs",
        actions=run_reports.ACTIONS,
    )


@router.get(RUNS + "/{run_id}/report/{entity}.csv", include_in_schema=False)
def report_csv(
    request: Request, session: SessionDep, district: str, run_id: RunId, entity: str
) -> Response:
    """Download the records one entity's report lists, as CSV."""
    d = district_for(request, session, district)
    run = manage.show_run(store_of(request), run_id, d.id)
    path = run_reports.report_file(run, entity)
    return FileResponse(path, media_type="text/csv", filename=f"{d.slug}-run-{run.id}-{entity}.csv")
