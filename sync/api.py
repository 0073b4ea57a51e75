"""REST API of the sync engine: connections (CRUD, run now, enable/disable), runs and events.

Credentials are write-only: the API says whether a connection has them, never what they are.
"""

from __future__ import annotations

from datetime import date

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, permissions, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from erp.api_actions import ActionRolePermission
from erp.api_base import CompanyScopedSerializer, CompanyScopedViewSet

from . import selectors, services
from .models import Connection, CustomerImport, CustomerImportRow, Event, Run


class RunSerializer(serializers.ModelSerializer):
    duration_seconds = serializers.FloatField(read_only=True, allow_null=True)

    class Meta:
        model = Run
        fields = [
            "id", "company", "connection", "trigger", "status", "result", "queued_at", "started_at",
            "finished_at", "duration_seconds", "created", "updated", "deactivated", "unchanged", "failed",
            "message",
        ]  # fmt: skip
        read_only_fields = fields


class EventSerializer(serializers.ModelSerializer):
    record_url = serializers.CharField(read_only=True)

    class Meta:
        model = Event
        fields = [
            "id", "company", "at", "level", "connection", "run", "record_key", "message", "record_model",
            "record_id", "record_url",
        ]  # fmt: skip
        read_only_fields = fields


class ConnectionSerializer(CompanyScopedSerializer):
    credentials = serializers.CharField(
        write_only=True, required=False, allow_blank=True, style={"input_type": "password"},
        help_text="Solo escritura: se guarda cifrada y nunca se devuelve.",
    )  # fmt: skip
    has_credentials = serializers.SerializerMethodField()

    class Meta:
        model = Connection
        fields = [
            "id", "company", "kind", "name", "enabled", "period_minutes", "options", "credentials",
            "has_credentials", "cursor", "created_at",
        ]  # fmt: skip
        read_only_fields = ["cursor", "created_at"]

    def get_has_credentials(self, obj) -> bool:
        return bool(obj.credentials)

    def create(self, validated_data):
        credentials = validated_data.pop("credentials", None)
        return services.save_connection(connection=self._build(validated_data), credentials=credentials)

    def update(self, instance, validated_data):
        credentials = validated_data.pop("credentials", None)
        return services.save_connection(connection=self._build(validated_data), credentials=credentials)


class CustomerImportRowSerializer(serializers.ModelSerializer):
    class Meta:
        model = CustomerImportRow
        fields = ["row", "action", "key", "customer_id", "values", "changes", "column", "message"]
        read_only_fields = fields


class CustomerImportSerializer(serializers.ModelSerializer):
    class Meta:
        model = CustomerImport
        fields = [
            "id", "company", "connection", "source", "status", "file_name", "sha256", "size", "created_at",
            "run", "rows_read", "to_create", "to_update", "unchanged", "errors", "message",
        ]  # fmt: skip
        read_only_fields = fields


class CustomerImportDetailSerializer(CustomerImportSerializer):
    rows = serializers.SerializerMethodField()

    class Meta(CustomerImportSerializer.Meta):
        fields = [*CustomerImportSerializer.Meta.fields, "rows"]
        read_only_fields = fields

    def get_rows(self, obj) -> list[dict]:
        """The first ``PREVIEW_ROWS`` rows that change something or fail, in file order."""
        rows = obj.rows.order_by("pk")[:PREVIEW_ROWS]
        return CustomerImportRowSerializer(rows, many=True).data


class ImportFileSerializer(serializers.Serializer):
    file = serializers.FileField(
        allow_empty_file=True,  # an empty file gets the import's own message, as on the screen
        help_text="XLSX o CSV (UTF-8 o Windows-1252, coma o punto y coma), hasta 50 MB.",
    )


class ImportResultSerializer(serializers.Serializer):
    preview = CustomerImportDetailSerializer()
    run = RunSerializer(allow_null=True)


PREVIEW_ROWS = 1000


def _preview_from_upload(request, connection, source: str) -> CustomerImport:
    body = ImportFileSerializer(data=request.data)
    body.is_valid(raise_exception=True)
    upload = body.validated_data["file"]
    return services.preview_customer_file(
        connection=connection, name=upload.name, data=upload.file, size=upload.size, source=source
    )


class ConnectionImportMixin:
    @extend_schema(
        request={"multipart/form-data": ImportFileSerializer},
        parameters=[
            OpenApiParameter("dry_run", bool, description="1: solo la vista previa, no escribe clientes")
        ],
        responses={200: ImportResultSerializer, 202: ImportResultSerializer},
    )
    @action(detail=True, methods=["post"], url_path="import", parser_classes=[MultiPartParser])
    def import_file(self, request, pk=None):
        """Importar un archivo de clientes (conexión «Archivo de clientes»). ``?dry_run=1``: la vista
        previa (200), nada se escribe. Sin ``dry_run``: la vista previa de ese archivo (la ya mostrada,
        si es el mismo archivo) se aplica en una ejecución de la conexión (202)."""
        connection = self.get_object()
        dry_run = request.query_params.get("dry_run", "") in ("1", "true", "si", "sí")
        preview = _preview_from_upload(request, connection, CustomerImport.Source.API)
        run = None
        if not dry_run:
            run = services.apply_customer_import(customer_import=preview, trigger=Run.Trigger.API)
            preview.refresh_from_db()
            run.refresh_from_db()
        data = {
            "preview": CustomerImportDetailSerializer(preview).data,
            "run": run and RunSerializer(run).data,
        }
        return Response(data, status=200 if dry_run else 202)


class EnabledSerializer(serializers.Serializer):
    enabled = serializers.BooleanField()


class ConnectionViewSet(ConnectionImportMixin, mixins.DestroyModelMixin, CompanyScopedViewSet):
    queryset = Connection.objects.select_related("company")
    serializer_class = ConnectionSerializer
    permission_classes = [permissions.IsAuthenticated, ActionRolePermission]
    action_permissions = {
        "destroy": "sync.change_connection",
        "run": "sync.run_connection",
        "set_enabled": "sync.run_connection",
        "import_file": "sync.add_customerimport",
    }
    filterset_fields = {"company": ["exact"], "kind": ["exact"], "enabled": ["exact"]}
    search_fields = ["name"]

    def perform_destroy(self, instance):
        services.delete_connection(connection=instance)

    @extend_schema(request=None, responses={202: RunSerializer})
    @action(detail=True, methods=["post"])
    def run(self, request, pk=None):
        """Sincronizar ahora: queues a run (202) and returns it."""
        run = services.request_run(connection=self.get_object(), trigger=Run.Trigger.API)
        run.refresh_from_db()
        return Response(RunSerializer(run).data, status=202)

    @extend_schema(request=EnabledSerializer, responses={200: ConnectionSerializer})
    @action(detail=True, methods=["post"], url_path="enabled")
    def set_enabled(self, request, pk=None):
        """Activar/Desactivar: an enabled connection has its schedule, a disabled one none."""
        body = EnabledSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        connection = services.set_connection_enabled(
            connection=self.get_object(), enabled=body.validated_data["enabled"]
        )
        return Response(self.get_serializer(connection).data)


class _ReadOnly(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    permission_classes = [permissions.IsAuthenticated, ActionRolePermission]


class RunViewSet(_ReadOnly):
    queryset = Run.objects.all()
    serializer_class = RunSerializer
    filterset_fields = {
        "company": ["exact"], "connection": ["exact"], "result": ["exact"], "trigger": ["exact"],
        "status": ["exact"], "queued_at": ["gte", "lte"],
    }  # fmt: skip

    def get_queryset(self):
        return selectors.runs_for(self.request.user)


_DATE = OpenApiParameter("since", date, description="Desde el día (incluido)")


@extend_schema(
    parameters=[
        OpenApiParameter("connection", int),
        OpenApiParameter("level", str, enum=[c for c, _ in Event.Level.choices]),
        OpenApiParameter("run", int),
        _DATE,
        OpenApiParameter("until", date, description="Hasta el día (incluido)"),
        OpenApiParameter("q", str, description="Texto en el mensaje o la clave del registro"),
    ]
)
class EventViewSet(_ReadOnly):
    queryset = Event.objects.all()
    serializer_class = EventSerializer
    filter_backends = []  # the viewer's filters, from the selector

    def get_queryset(self):
        params = self.request.query_params
        try:
            since = date.fromisoformat(params["since"]) if params.get("since") else None
            until = date.fromisoformat(params["until"]) if params.get("until") else None
            connection = int(params["connection"]) if params.get("connection") else None
            run = int(params["run"]) if params.get("run") else None
        except ValueError as error:
            raise serializers.ValidationError(
                {"filtros": "Fechas en formato AAAA-MM-DD y conexión/ejecución numéricas."}
            ) from error
        return selectors.filter_events(
            selectors.events_for(self.request.user),
            connection=connection,
            level=params.get("level") or None,
            run=run,
            since=since,
            until=until,
            text=params.get("q", "").strip(),
        )


class CustomerImportViewSet(_ReadOnly):
    queryset = CustomerImport.objects.all()
    serializer_class = CustomerImportSerializer
    action_permissions = {"apply": "sync.change_customerimport"}
    filterset_fields = {
        "company": ["exact"],
        "connection": ["exact"],
        "status": ["exact"],
        "source": ["exact"],
    }

    def get_queryset(self):
        return selectors.imports_for(self.request.user)

    def get_serializer_class(self):
        return (
            CustomerImportDetailSerializer
            if self.action in ("retrieve", "apply")
            else CustomerImportSerializer
        )

    @extend_schema(request=None, responses={202: ImportResultSerializer})
    @action(detail=True, methods=["post"])
    def apply(self, request, pk=None):
        """Aplicar una vista previa tal como se mostró (202, con la ejecución)."""
        preview = self.get_object()
        run = services.apply_customer_import(customer_import=preview, trigger=Run.Trigger.API)
        preview.refresh_from_db()
        run.refresh_from_db()
        return Response(
            {"preview": CustomerImportDetailSerializer(preview).data, "run": RunSerializer(run).data},
            status=202,
        )
