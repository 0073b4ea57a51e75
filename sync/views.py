"""The event viewer (ops staff and accountants): connections with their state, runs with their
counts, and events, last 7 days by default, newest first."""

from __future__ import annotations

import json
from datetime import date

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from erp.errors import DomainError
from erp.roles import companies_with_perm, has_company_perm

from . import selectors, services
from .connectors.customer_file import FIELDS
from .connectors.qr_source import DEMO_RECEIVERS, MAX_LIMIT, QrSource
from .connectors.wopen_source import DEMO_DOCUMENTS, WopenSource, parse_documents_query
from .models import Connection, CustomerImport, Event, Run


def _date(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


@login_required
def event_viewer(request):
    if not companies_with_perm(request.user, "sync.view_event").exists():
        raise Http404("Su rol no tiene acceso al visor de eventos.")
    connections = list(selectors.connections_for(request.user).order_by("name"))
    latest = selectors.last_runs([c.pk for c in connections])
    rows = []
    for connection in connections:
        last = latest.get(connection.pk)
        rows.append(
            {
                "connection": connection,
                "last_run": last,
                "next_run_at": selectors.next_run_at(connection, last),
                "can_run": has_company_perm(request.user, connection.company_id, "sync.run_connection"),
                "viewer_url": selectors.viewer_url(connection),
                "can_import": connection.kind == Connection.Kind.CUSTOMER_FILE
                and has_company_perm(request.user, connection.company_id, "sync.add_customerimport"),
            }
        )
    params = request.GET
    since = _date(params.get("since")) if "since" in params else selectors.default_since()
    until = _date(params.get("until"))
    connection_id = params.get("connection") or ""
    run_id = params.get("run") or ""
    level = params.get("level") or ""
    text = params.get("q", "").strip()
    events = selectors.filter_events(
        selectors.events_for(request.user),
        connection=int(connection_id) if connection_id.isdigit() else None,
        level=level or None,
        run=int(run_id) if run_id.isdigit() else None,
        since=since,
        until=until,
        text=text,
    )
    page = Paginator(events, 100).get_page(params.get("page"))
    run = selectors.runs_for(request.user).filter(pk=run_id).first() if run_id.isdigit() else None
    runs = selectors.runs_for(request.user)
    if connection_id.isdigit():
        runs = runs.filter(connection_id=connection_id)
    if since:
        runs = runs.filter(queued_at__date__gte=since)
    return render(
        request,
        "sync/event_viewer.html",
        {
            "rows": rows,
            "page": page,
            "runs": runs[:20],
            "run": run,
            "levels": Event.Level.choices,
            "filters": {
                "since": since.isoformat() if since else "",
                "until": until.isoformat() if until else "",
                "connection": connection_id,
                "run": run_id,
                "level": level,
                "q": text,
            },
        },
    )


def _connection_for_run(request, pk: int):
    connection = get_object_or_404(selectors.connections_for(request.user), pk=pk)
    if not has_company_perm(request.user, connection.company_id, "sync.run_connection"):
        raise Http404("Su rol no puede sincronizar esta conexión.")
    return connection


@login_required
@require_POST
def run_now(request, pk: int):
    connection = _connection_for_run(request, pk)
    run = services.request_run(connection=connection, trigger=Run.Trigger.MANUAL)
    messages.info(request, f"Sincronización de «{connection.name}» solicitada (ejecución #{run.pk}).")
    return redirect("sync:events")


@login_required
@require_POST
def toggle(request, pk: int):
    connection = _connection_for_run(request, pk)
    services.set_connection_enabled(connection=connection, enabled=not connection.enabled)
    state = "activada" if connection.enabled else "desactivada"
    messages.info(request, f"Conexión «{connection.name}» {state}.")
    return redirect("sync:events")


def demo_qr_source(request):
    """The demo's CONTPAQi QR receivers, served by the project's own server in development, so
    the demo connection can be synced from the viewer (``make run``). Off unless
    ``SYNC_DEMO_SOURCE`` (by default, DEBUG)."""
    if not settings.SYNC_DEMO_SOURCE:
        raise Http404
    source = QrSource(DEMO_RECEIVERS)
    if request.headers.get("Authorization") != f"Bearer {source.token}":
        return JsonResponse({"error": "token invalido"}, status=401)
    try:
        limit = max(1, min(MAX_LIMIT, int(request.GET.get("limite", "100"))))
        since = request.GET.get("desde", "")
        int(since or 0)
    except ValueError:
        return JsonResponse({"error": "parametros"}, status=400)
    return JsonResponse(source.page(since, limit))


def _demo_wopen(request) -> WopenSource:
    if not settings.SYNC_DEMO_SOURCE:
        raise Http404
    return WopenSource(DEMO_DOCUMENTS)


@require_GET
def demo_wopen_documents(request):
    """The demo's CONTPAQi Wopen order and invoice request (docs/sync-contpaqi-wopen.md), served
    by the project's own server in development so "Sincronizar ahora" works from the viewer.
    Off unless ``SYNC_DEMO_SOURCE``."""
    source = _demo_wopen(request)
    if not source.authorized(request.headers.get("Authorization")):
        return JsonResponse({"error": "usuario o contraseña incorrectos"}, status=401)
    try:
        since, limit, kinds = parse_documents_query(request.META.get("QUERY_STRING", ""))
    except ValueError:
        return JsonResponse({"error": "parametros"}, status=400)
    return JsonResponse(source.page(since, limit, kinds))


@csrf_exempt  # a machine-to-machine call with its own Basic credentials, no session
@require_POST
def demo_wopen_report(request, document_id: str):
    """The demo Wopen's side of a stamp report: accepted for its invoice request."""
    source = _demo_wopen(request)
    if not source.authorized(request.headers.get("Authorization")):
        return JsonResponse({"error": "usuario o contraseña incorrectos"}, status=401)
    try:
        body = json.loads(request.body or b"{}")
    except ValueError:
        return JsonResponse({"error": "json"}, status=400)
    status, answer = source.report(document_id, body if isinstance(body, dict) else {})
    return JsonResponse(answer, status=status)


@login_required
@require_POST
def import_file(request, pk: int):
    """Upload a customer file: its preview ("Vista previa") is shown before anything is written."""
    connection = get_object_or_404(
        selectors.connections_for(request.user), pk=pk, kind=Connection.Kind.CUSTOMER_FILE
    )
    if not has_company_perm(request.user, connection.company_id, "sync.add_customerimport"):
        raise Http404("Su rol no puede importar archivos de clientes.")
    upload = request.FILES.get("file")
    if upload is None:
        messages.error(request, "Elija el archivo de clientes (XLSX o CSV).")
        return redirect("sync:events")
    try:
        preview = services.preview_customer_file(
            connection=connection, name=upload.name, data=upload.file, size=upload.size, source="upload"
        )
    except DomainError as error:
        messages.error(request, f"«{upload.name}»: {error.message}")
        return redirect("sync:events")
    return redirect("sync:import-preview", pk=preview.pk)


@login_required
def import_preview(request, pk: int):
    preview = get_object_or_404(selectors.imports_for(request.user), pk=pk)
    rows = Paginator(preview.rows.order_by("pk"), 200).get_page(request.GET.get("page"))
    for row in rows:  # "Días de crédito: 0 → 30", the field's label as the import's mapping names it
        row.changed = [
            (FIELDS.get(field, (field,))[0], *change) for field, change in (row.changes or {}).items()
        ]
    return render(
        request,
        "sync/import_preview.html",
        {
            "preview": preview,
            "page": rows,
            "can_apply": preview.status == CustomerImport.Status.PREVIEW
            and has_company_perm(request.user, preview.company_id, "sync.change_customerimport"),
        },
    )


@login_required
@require_POST
def import_apply(request, pk: int):
    preview = get_object_or_404(selectors.imports_for(request.user), pk=pk)
    if not has_company_perm(request.user, preview.company_id, "sync.change_customerimport"):
        raise Http404("Su rol no puede aplicar importaciones.")
    try:
        run = services.apply_customer_import(customer_import=preview, trigger=Run.Trigger.MANUAL)
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("sync:import-preview", pk=preview.pk)
    messages.info(request, f"Importación de «{preview.file_name}» en curso (ejecución #{run.pk}).")
    return redirect(f"{reverse('sync:events')}?run={run.pk}&connection={preview.connection_id}")
