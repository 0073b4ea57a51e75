"""REST endpoints of returns and rebates (/api/sales/credit-notes/): parse, call the service, render."""

from decimal import Decimal

import django_filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from cfdi.api import SendSerializer, pdf_response, xml_response
from erp.api_base import CompanyRolePermission
from erp.roles import CANCEL_POSTED, companies_with_perm

from ..cfdi_import.responses import pdf_download, xml_download
from ..customer_fields import (
    customer_id_filter,
    customer_id_output,
    customer_number_filter,
    customer_number_output,
)
from ..document_api import (
    PERIOD_RANGE_PARAMETERS,
    CancelInputSerializer,
    LinkCfdiSerializer,
    PostInputSerializer,
)
from ..document_models import DocumentKind, SalesDocument
from ..document_selectors import PERIODS
from ..external_models import ExternalCfdi
from ..posting import Collection
from .cfdi import (
    cfdi_column,
    link_external_egreso,
    linked_external,
    seal_and_deliver,
    send_credit_note_cfdi,
    stamped_cfdi,
)
from .models import CreditNote, CreditNoteLine
from .selectors import STATUS_TABS, credit_notes_for_list
from .services import (
    CreditLineRequest,
    cancel_credit_note_and_cfdi,
    create_credit_note,
    post_credit_note,
    prepare_credit_note,
    track_credit_note,
)

VIEW_PERM = "sales.view_creditnote"


def _rate_amount(rate, amount) -> str:
    """The seed's "tasa:importe" (16:160.00)."""
    return f"{Decimal(rate or 0).normalize():f}:{amount}"


class CreditLineSerializer(serializers.ModelSerializer):
    invoice_position = serializers.IntegerField(source="invoice_line.position", read_only=True)
    iva_display = serializers.SerializerMethodField(help_text="IVA quitado como tasa:importe.")
    ieps_display = serializers.SerializerMethodField()
    retained_iva_display = serializers.SerializerMethodField()
    retained_isr_display = serializers.SerializerMethodField()

    class Meta:
        model = CreditNoteLine
        fields = [
            "position", "invoice_position", "code", "unit", "description", "quantity", "unit_price",
            "importe", "discount_rate", "discount", "iva_rate", "iva_exempt", "iva", "ieps_rate", "ieps_quota", "ieps",
            "retained_iva_rate", "retained_iva", "retained_isr_rate", "retained_isr", "iva_display",
            "ieps_display", "retained_iva_display", "retained_isr_display", "observations",
        ]  # fmt: skip

    def get_iva_display(self, line) -> str:
        return "Exento" if line.iva_exempt else _rate_amount(line.iva_rate, line.iva)

    def get_ieps_display(self, line) -> str:
        """IEPS por cuota: pesos por unidad ("cuota 1.5:15.00")."""
        if line.ieps_quota:
            return f"cuota {_rate_amount(line.ieps_quota, line.ieps)}"
        return _rate_amount(line.ieps_rate, line.ieps)

    def get_retained_iva_display(self, line) -> str:
        return _rate_amount(line.retained_iva_rate, line.retained_iva)

    def get_retained_isr_display(self, line) -> str:
        return _rate_amount(line.retained_isr_rate, line.retained_isr)


class CreditNoteSerializer(serializers.ModelSerializer):
    lines = CreditLineSerializer(many=True, read_only=True)
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    kind_display = serializers.CharField(source="get_kind_display", read_only=True)
    currency = serializers.SlugRelatedField(slug_field="code", read_only=True)
    invoice_number = serializers.SerializerMethodField()
    cfdi = serializers.SerializerMethodField()
    customer = customer_number_output()
    customer_id = customer_id_output()

    class Meta:
        model = CreditNote
        fields = [
            "id", "kind", "kind_display", "company", "entity", "invoice", "invoice_number", "series",
            "number", "status", "status_display", "reference", "date", "delivery_date", "payment",
            "customer", "customer_id", "customer_rfc", "customer_name", "customer_address",
            "customer_colonia", "customer_poblacion", "customer_postal_code", "customer_phones",
            "currency", "exchange_rate", "warehouse", "observations", "importe", "discount",
            "subtotal", "iva", "ieps", "retained_iva", "retained_isr", "total", "stock_movement",
            "cfdi", "cfdi_error", "lines",
        ]  # fmt: skip

    def get_invoice_number(self, note) -> str:
        invoice = note.invoice
        return f"{invoice.series}{invoice.number}"

    def get_cfdi(self, note) -> str:
        """---: not stamped; TFD: stamped, no PDF yet; PDF: complete."""
        if note.pk is None:
            return "---"
        columns = self.context.get("cfdi_columns")
        if columns is None or note.pk not in columns:
            columns = cfdi_column([note.pk])
        return columns.get(note.pk, "---")


class PreviewCreditNoteSerializer(CreditNoteSerializer):
    lines = serializers.SerializerMethodField()

    def get_lines(self, note) -> list[dict]:
        return CreditLineSerializer(note.preview_lines, many=True).data


class CreditLineInputSerializer(serializers.Serializer):
    invoice_position = serializers.IntegerField(min_value=1, help_text="Partida de la factura.")
    quantity = serializers.DecimalField(
        max_digits=18,
        decimal_places=6,
        required=False,
        allow_null=True,
        help_text="Devolución: cantidad devuelta.",
    )
    unit_price = serializers.DecimalField(
        max_digits=18,
        decimal_places=6,
        required=False,
        allow_null=True,
        help_text="Rebaja: descuento unitario.",
    )
    observations = serializers.CharField(required=False, allow_blank=True, max_length=254, default="")


class CreditNoteInputSerializer(serializers.Serializer):
    invoice = serializers.PrimaryKeyRelatedField(
        queryset=SalesDocument.objects.filter(kind=DocumentKind.INVOICE)
    )
    kind = serializers.ChoiceField(choices=CreditNote.Kind.choices)
    date = serializers.DateField()
    delivery_date = serializers.DateField(required=False, allow_null=True)
    reference = serializers.CharField(required=False, allow_blank=True, max_length=60, default="")
    exchange_rate = serializers.DecimalField(max_digits=18, decimal_places=6, required=False, allow_null=True)
    observations = serializers.CharField(required=False, allow_blank=True, default="")
    lines = CreditLineInputSerializer(
        many=True, required=False, help_text="Sin partidas: la plantilla, todas las partidas de la factura."
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:  # invoices of another company look like invoices that do not exist
            self.fields["invoice"].queryset = SalesDocument.objects.filter(
                kind=DocumentKind.INVOICE,
                company__in=companies_with_perm(request.user, "sales.add_creditnote"),
            ).select_related("entity", "currency", "company")

    def to_service(self) -> dict:
        data = dict(self.validated_data)
        if "lines" in data:
            data["lines"] = [CreditLineRequest(**line) for line in data["lines"]]
        else:
            data["lines"] = None
        return data


class CreditNoteFilter(django_filters.FilterSet):
    customer = customer_number_filter()
    customer_id = customer_id_filter()

    class Meta:
        model = CreditNote
        fields = {
            "entity": ["exact"],
            "invoice": ["exact"],
            "kind": ["exact"],
            "status": ["exact"],
            "date": ["exact", "gte", "lte"],
        }


class CreditNoteViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Devoluciones sobre ventas: returns and rebates of the user's companies' invoices."""

    serializer_class = CreditNoteSerializer
    permission_classes = [CompanyRolePermission]
    action_permissions = {
        "preview": "add",
        "post": "add",
        "cancel": CANCEL_POSTED,
        "seal": "change",
        "send": "change",
        "link_cfdi": "change",
    }
    queryset = CreditNote.objects.all()
    filterset_class = CreditNoteFilter
    search_fields = ["customer_name", "customer_rfc", "reference"]
    ordering_fields = ["date", "number", "total"]

    def get_queryset(self):
        queryset = CreditNote.objects.filter(company__in=companies_with_perm(self.request.user, VIEW_PERM))
        if self.action == "list":
            params = self.request.query_params
            queryset = credit_notes_for_list(
                queryset,
                tab=params.get("tab", "todas"),
                period=params.get("period", "todas"),
                month=params.get("month", ""),
                date_from=params.get("from", ""),
                date_to=params.get("to", ""),
            )
        return queryset.select_related("invoice", "currency").prefetch_related("lines__invoice_line")

    def _render(self, note, code=status.HTTP_200_OK):
        return Response(CreditNoteSerializer(self.get_queryset().get(pk=note.pk)).data, status=code)

    @extend_schema(
        parameters=[
            OpenApiParameter("tab", OpenApiTypes.STR, enum=list(STATUS_TABS), description="Pestaña."),
            OpenApiParameter(
                "period", OpenApiTypes.STR, enum=list(PERIODS), description="Periodo por fecha."
            ),
            OpenApiParameter("month", OpenApiTypes.STR, description="AAAA-MM con period=mes."),
            *PERIOD_RANGE_PARAMETERS,
        ]
    )
    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        context = {
            **self.get_serializer_context(),
            "cfdi_columns": cfdi_column([n.pk for n in page]),
        }
        return self.get_paginated_response(CreditNoteSerializer(page, many=True, context=context).data)

    def _input(self, request) -> dict:
        payload = CreditNoteInputSerializer(data=request.data, context={"request": request})
        payload.is_valid(raise_exception=True)
        return payload.to_service()

    @extend_schema(request=CreditNoteInputSerializer, responses={201: CreditNoteSerializer})
    def create(self, request):
        """Devolver o Rebajar: una devolución o rebaja (borrador) a partir de una factura agregada."""
        note = create_credit_note(user=request.user, **self._input(request))
        return self._render(note, status.HTTP_201_CREATED)

    @extend_schema(request=CreditNoteInputSerializer, responses={200: PreviewCreditNoteSerializer})
    @action(detail=False, methods=["post"])
    def preview(self, request):
        """Calcula la devolución o rebaja (partidas con tasa:importe, totales) sin guardarla."""
        note, lines = prepare_credit_note(**self._input(request))
        note.preview_lines = lines
        return Response(PreviewCreditNoteSerializer(note).data)

    @extend_schema(request=PostInputSerializer, responses={200: CreditNoteSerializer})
    @action(detail=True, methods=["post"])
    def post(self, request, pk=None):
        """Agrega la devolución o rebaja: número, retiro de caja o banco (contado) o saldo de la
        cuenta por cobrar (crédito), pólizas y entrada al almacén (devoluciones), todo o nada."""
        note = self.get_object()
        payload = PostInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        collections = [Collection(**c) for c in payload.validated_data.get("collections", [])]
        return self._render(post_credit_note(credit_note=note, collections=collections, user=request.user))

    @extend_schema(request=CancelInputSerializer, responses={200: CreditNoteSerializer})
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        """Cancela la devolución o rebaja: primero su CFDI ante el SAT (con el motivo), luego todo lo
        que generó (saldo, retiros, entrada al almacén, pólizas)."""
        note = self.get_object()
        payload = CancelInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        note = cancel_credit_note_and_cfdi(
            credit_note=note,
            motive=payload.validated_data.get("motive", ""),
            substitute_uuid=payload.validated_data.get("substitute_uuid", ""),
            user=request.user,
        )
        return self._render(note)

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    @action(detail=True, methods=["get"])
    def track(self, request, pk=None):
        """Rastrear: la devolución o rebaja, su factura y todo lo que generó."""
        return Response(track_credit_note(self.get_object()))

    @extend_schema(request=None, responses={200: CreditNoteSerializer})
    @action(detail=True, methods=["post"])
    def seal(self, request, pk=None):
        """Sellar: genera y timbra el CFDI de egreso de una devolución o rebaja agregada."""
        note = self.get_object()
        seal_and_deliver(credit_note=note)
        return self._render(note)

    @extend_schema(request=LinkCfdiSerializer, responses={200: CreditNoteSerializer})
    @action(detail=True, methods=["post"], url_path="link-cfdi")
    def link_cfdi(self, request, pk=None):
        """Enlazar a la devolución o rebaja un CFDI de egreso timbrado por otro PAC y cargado a esta
        entidad (en lugar de sellar uno)."""
        note = self.get_object()
        payload = LinkCfdiSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        external = ExternalCfdi.objects.filter(
            pk=payload.validated_data["external_cfdi"], company=note.company
        ).first()
        if external is None:
            raise serializers.ValidationError({"external_cfdi": "No existe ese CFDI cargado en la empresa."})
        link_external_egreso(credit_note=note, external=external)
        return self._render(note)

    @extend_schema(responses={200: OpenApiTypes.BINARY})
    @action(detail=True, methods=["get"])
    def xml(self, request, pk=None):
        """Archivo XML: el CFDI de egreso tal como fue timbrado, o el XML externo enlazado."""
        note = self.get_object()
        external = linked_external(note)
        if external is not None:
            return xml_download(external)
        return xml_response(stamped_cfdi(note))

    @extend_schema(responses={200: OpenApiTypes.BINARY})
    @action(detail=True, methods=["get"])
    def pdf(self, request, pk=None):
        """Archivo PDF: la representación impresa del CFDI de egreso, o el PDF externo enlazado."""
        note = self.get_object()
        external = linked_external(note)
        if external is not None:
            return pdf_download(external)
        return pdf_response(stamped_cfdi(note))

    @extend_schema(request=SendSerializer, responses={200: CreditNoteSerializer})
    @action(detail=True, methods=["post"])
    def send(self, request, pk=None):
        """Enviar XML y PDF al correo del cliente (o a los correos indicados)."""
        note = self.get_object()
        payload = SendSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        send_credit_note_cfdi(credit_note=note, to=payload.validated_data.get("to"))
        return self._render(note)
