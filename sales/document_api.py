"""REST endpoints of quotes, orders, remissions and invoices: parse, call the service, render."""

import hashlib
import json

import django_filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from cashbank.models import CashBankAccount, PaymentMethod
from cfdi.api import SendSerializer, pdf_response, xml_response
from cfdi.models import CfdiDocument
from erp.api_base import CompanyRolePermission
from erp.errors import DomainError
from erp.models import Currency
from erp.roles import CANCEL_POSTED, companies_with_perm

from .cancellation import cancel_document, cancel_invoice_and_cfdi, track_document
from .cfdi_import.responses import pdf_download, xml_download
from .cfdi_import.services import linked_external, send_invoice_files
from .customer_fields import (
    customer_id_filter,
    customer_id_output,
    customer_in_entity,
    customer_number_filter,
    customer_number_input,
    customer_number_output,
)
from .document_models import DocumentKind, DocumentStatus, Payment, SalesDocument, SalesDocumentLine
from .document_selectors import PERIODS, STATUS_TABS, documents_for_list
from .documents import UNSET, LineRequest, create_document, generate_invoice_from, prepare_document
from .drafts import discard_draft, update_draft
from .external_cfdi import link_external_cfdi
from .external_models import ExternalCfdi
from .invoice_cfdi import cfdi_column, seal_and_deliver, stamped_cfdi
from .models import SalesEntity, Salesperson
from .posting import Collection, post_invoice

VIEW_PERM = "sales.view_salesdocument"
# The «especial» period's ends (period=especial), for every list filtered by period.
PERIOD_RANGE_PARAMETERS = [
    OpenApiParameter("from", OpenApiTypes.DATE, description="AAAA-MM-DD, primer día con period=especial."),
    OpenApiParameter("to", OpenApiTypes.DATE, description="AAAA-MM-DD, último día con period=especial."),
]


class LineSerializer(serializers.ModelSerializer):
    class Meta:
        model = SalesDocumentLine
        fields = [
            "position", "code", "unit", "description", "quantity", "unit_price", "importe",
            "discount_rate", "discount", "iva_rate", "iva_exempt", "iva", "ieps_rate", "ieps_quota", "ieps",
            "retained_iva_rate", "retained_iva", "retained_isr_rate", "retained_isr", "observations",
        ]  # fmt: skip


class DocumentSerializer(serializers.ModelSerializer):
    lines = LineSerializer(many=True, read_only=True)
    status = serializers.ChoiceField(
        source="effective_status",
        choices=DocumentStatus.choices,
        read_only=True,
        help_text="Estatus efectivo: una factura Generada cuya salida auditó la bodega es Emitida.",
    )
    status_display = serializers.SerializerMethodField()
    cfdi = serializers.SerializerMethodField()
    currency = serializers.SlugRelatedField(slug_field="code", read_only=True)
    entity_code = serializers.CharField(source="entity.code", read_only=True)
    customer = customer_number_output()
    customer_id = customer_id_output()

    class Meta:
        model = SalesDocument
        fields = [
            "id", "kind", "company", "entity", "entity_code", "series", "number", "status",
            "status_display", "reference", "date", "delivery_date", "payment", "customer",
            "customer_id", "customer_rfc", "customer_name", "customer_address",
            "customer_colonia", "customer_poblacion", "customer_postal_code", "customer_phones",
            "currency", "exchange_rate", "warehouse", "salesperson", "observations", "importe",
            "discount", "subtotal", "iva", "ieps", "retained_iva", "retained_isr", "total",
            "source", "origin_ref", "substitutes", "stock_movement", "cfdi", "cfdi_error", "lines",
        ]  # fmt: skip

    def get_status_display(self, document) -> str:
        return str(DocumentStatus(document.effective_status).label)

    def get_cfdi(self, document) -> str:
        """---: not stamped; TFD: stamped, no PDF yet; PDF: complete."""
        columns = self.context.get("cfdi_columns")
        if columns is None or document.pk not in columns:
            columns = cfdi_column([document])
        return columns.get(document.pk, "---")


class PreviewSerializer(DocumentSerializer):
    """An unsaved document as the entry screen shows it while the cashier types."""

    lines = serializers.SerializerMethodField()

    def get_lines(self, document) -> list[dict]:
        return LineSerializer(document.preview_lines, many=True).data

    def get_cfdi(self, document) -> str:
        return "---"


class CollectionInputSerializer(serializers.Serializer):
    account = serializers.PrimaryKeyRelatedField(
        queryset=CashBankAccount.objects.select_related("currency", "ledger_account")
    )
    amount = serializers.DecimalField(
        max_digits=18, decimal_places=2, help_text="En la moneda de la factura."
    )
    method = serializers.ChoiceField(choices=PaymentMethod.choices, default=PaymentMethod.CASH)
    # The lengths of the cash movement's columns the collection is written to.
    check_number = serializers.CharField(required=False, allow_blank=True, default="", max_length=20)
    counterparty_bank = serializers.CharField(
        required=False, allow_blank=True, default="", help_text="c_Banco", max_length=3
    )
    counterparty_account = serializers.CharField(required=False, allow_blank=True, default="", max_length=50)
    reference = serializers.CharField(required=False, allow_blank=True, default="", max_length=60)


class PostInputSerializer(serializers.Serializer):
    collections = CollectionInputSerializer(
        many=True, required=False, help_text="Cajas o bancos que cobran una factura de contado."
    )


class CancelInputSerializer(serializers.Serializer):
    motive = serializers.ChoiceField(
        choices=CfdiDocument.Motive.choices,
        required=False,
        allow_blank=True,
        help_text="Motivo SAT de cancelación del CFDI timbrado: 01 con sustituto, 02, 03 o 04.",
    )
    substitute_uuid = serializers.CharField(required=False, allow_blank=True, max_length=36)


class LinkCfdiSerializer(serializers.Serializer):
    external_cfdi = serializers.IntegerField(help_text="Id del CFDI externo cargado.")


class LineInputSerializer(serializers.Serializer):
    product = serializers.CharField(help_text="Clave del producto o clave del proveedor.")
    quantity = serializers.DecimalField(max_digits=18, decimal_places=6)
    unit_price = serializers.DecimalField(max_digits=18, decimal_places=6, required=False, allow_null=True)
    discount_rate = serializers.DecimalField(max_digits=7, decimal_places=4, required=False, allow_null=True)
    iva_rate = serializers.DecimalField(max_digits=7, decimal_places=4, required=False, allow_null=True)
    description = serializers.CharField(required=False, allow_blank=True, max_length=1000)
    observations = serializers.CharField(required=False, allow_blank=True, max_length=254)


class DocumentInputSerializer(serializers.Serializer):
    entity = serializers.PrimaryKeyRelatedField(queryset=SalesEntity.objects.all())
    customer = customer_number_input()
    date = serializers.DateField()
    delivery_date = serializers.DateField(required=False, allow_null=True)
    payment = serializers.ChoiceField(choices=Payment.choices, default=Payment.CASH)
    currency = serializers.SlugRelatedField(
        slug_field="code", queryset=Currency.objects.all(), required=False
    )
    exchange_rate = serializers.DecimalField(max_digits=18, decimal_places=6, required=False, allow_null=True)
    number = serializers.IntegerField(min_value=1, required=False, allow_null=True)
    reference = serializers.CharField(required=False, allow_blank=True, max_length=60, default="")
    salesperson = serializers.IntegerField(
        min_value=0,
        required=False,
        allow_null=True,
        help_text="Número de vendedor; 0 o null: ningún vendedor.",
    )
    observations = serializers.CharField(required=False, allow_blank=True, default="")
    substitutes = serializers.PrimaryKeyRelatedField(
        queryset=SalesDocument.objects.filter(kind=DocumentKind.INVOICE),
        required=False,
        allow_null=True,
        help_text="Factura timbrada que esta sustituye (su CFDI llevará TipoRelacion 04; cancélela con motivo 01).",
    )
    lines = LineInputSerializer(many=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:  # entities of another company look like entities that do not exist
            companies = companies_with_perm(request.user, "sales.add_salesdocument")
            self.fields["entity"].queryset = SalesEntity.objects.filter(company__in=companies).select_related(
                "company", "warehouse"
            )
            self.fields["substitutes"].queryset = SalesDocument.objects.filter(
                company__in=companies, kind=DocumentKind.INVOICE
            )

    def validate(self, attrs):
        entity = attrs["entity"]
        attrs["customer"] = customer_in_entity(entity, attrs["customer"])
        if "salesperson" in attrs:
            number = attrs["salesperson"]
            if number in (None, 0):
                attrs["salesperson"] = None
            else:
                found = Salesperson.objects.filter(company=entity.company, number=number).first()
                if found is None:
                    raise serializers.ValidationError({"salesperson": f"No existe el vendedor {number}."})
                attrs["salesperson"] = found
        return attrs


class DocumentFilter(django_filters.FilterSet):
    customer = customer_number_filter()
    customer_id = customer_id_filter()

    class Meta:
        model = SalesDocument
        fields = {
            "entity": ["exact"],
            "status": ["exact"],
            "payment": ["exact"],
            "date": ["exact", "gte", "lte"],
        }


def _fingerprint(data) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()


class SalesDocumentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Documents of one kind (set by the subclass) in the user's companies."""

    kind: str = ""
    serializer_class = DocumentSerializer
    permission_classes = [CompanyRolePermission]
    # Who may use each action (erp.api_base.declared_permission; reads need "view").
    action_permissions = {"preview": "add", "cancel": "change", "generate_invoice": "add"}
    filterset_class = DocumentFilter
    search_fields = ["customer_name", "customer_rfc", "reference", "origin_ref"]
    ordering_fields = ["date", "number", "total"]

    def get_queryset(self):
        queryset = SalesDocument.objects.filter(
            kind=self.kind, company__in=companies_with_perm(self.request.user, VIEW_PERM)
        )
        if self.action == "list":
            params = self.request.query_params
            queryset = documents_for_list(
                queryset,
                tab=params.get("tab"),  # no tab: every status, drafts included
                period=params.get("period", "todas"),
                month=params.get("month", ""),
                date_from=params.get("from", ""),
                date_to=params.get("to", ""),
            )
        return queryset.prefetch_related("lines")

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "tab",
                OpenApiTypes.STR,
                enum=list(STATUS_TABS),
                description="Pestaña de estatus («todas» deja fuera los borradores; sin pestaña, todos).",
            ),
            OpenApiParameter(
                "period", OpenApiTypes.STR, enum=list(PERIODS), description="Periodo por fecha."
            ),
            OpenApiParameter("month", OpenApiTypes.STR, description="AAAA-MM con period=mes."),
            *PERIOD_RANGE_PARAMETERS,
        ]
    )
    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        context = {**self.get_serializer_context(), "cfdi_columns": cfdi_column(page)}
        return self.get_paginated_response(DocumentSerializer(page, many=True, context=context).data)

    def _parse(self, request) -> dict:
        payload = DocumentInputSerializer(data=request.data, context={"request": request})
        payload.is_valid(raise_exception=True)
        data = dict(payload.validated_data)
        data["lines"] = [
            LineRequest(
                product_code=line["product"],
                quantity=line["quantity"],
                unit_price=line.get("unit_price"),
                discount_rate=line.get("discount_rate"),
                iva_rate=line.get("iva_rate"),
                description=line.get("description", ""),
                observations=line.get("observations", ""),
            )
            for line in data["lines"]
        ]
        data["salesperson"] = data.get("salesperson", UNSET)
        return data

    @extend_schema(
        request=DocumentInputSerializer,
        responses={201: DocumentSerializer},
        parameters=[
            OpenApiParameter(
                "Idempotency-Key",
                OpenApiTypes.STR,
                OpenApiParameter.HEADER,
                description="La misma clave dos veces crea un solo documento y responde lo mismo.",
            )
        ],
    )
    def create(self, request):
        data = self._parse(request)
        document, _ = create_document(
            kind=self.kind,
            user=request.user,
            idempotency_key=request.headers.get("Idempotency-Key") or None,
            idempotency_fingerprint=_fingerprint(request.data),
            **data,
        )
        document = self.get_queryset().get(pk=document.pk)
        return Response(DocumentSerializer(document).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=DocumentInputSerializer, responses={200: PreviewSerializer})
    @action(detail=False, methods=["post"])
    def preview(self, request):
        """Calcula el documento (partidas, impuestos, totales, datos del cliente) sin guardarlo."""
        document, lines = prepare_document(kind=self.kind, **self._parse(request))
        document.preview_lines = lines
        return Response(PreviewSerializer(document).data)

    @extend_schema(request=CancelInputSerializer, responses={200: DocumentSerializer})
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        """Cancela el documento. Una factura, por las siete reglas: primero su CFDI ante el SAT (con
        el motivo; 01 con el UUID que lo sustituye), luego libera su origen, cancela cobros, cuenta por
        cobrar (si no tiene registros aplicados), salida del almacén, pólizas y CFDIs externos
        enlazados. Una remisión devuelve su mercancía; un documento facturado no se cancela."""
        document = self.get_object()
        payload = CancelInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        if document.kind == DocumentKind.INVOICE:
            document = cancel_invoice_and_cfdi(
                document=document,
                motive=payload.validated_data.get("motive", ""),
                substitute_uuid=payload.validated_data.get("substitute_uuid", ""),
                user=request.user,
            )
        else:
            document = cancel_document(document=document, user=request.user)
        return Response(DocumentSerializer(self.get_queryset().get(pk=document.pk)).data)

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    @action(detail=True, methods=["get"])
    def track(self, request, pk=None):
        """Rastrear: el documento y todo lo que generó o lo liga (árbol de nodos con tipo, etiqueta,
        estatus e hijos)."""
        return Response(track_document(self.get_object()))


class GenerateInvoiceMixin:
    @extend_schema(request=None, responses={201: DocumentSerializer}, summary="Generar factura")
    @action(detail=True, methods=["post"], url_path="generate-invoice")
    def generate_invoice(self, request, pk=None):
        """Genera una factura (borrador) con los datos y partidas de este documento, ligada a él."""
        document = generate_invoice_from(
            source=self.get_object(),
            user=request.user,
            idempotency_key=request.headers.get("Idempotency-Key") or None,
        )
        invoice = SalesDocument.objects.prefetch_related("lines").get(pk=document.pk)
        return Response(DocumentSerializer(invoice).data, status=status.HTTP_201_CREATED)


class QuoteViewSet(GenerateInvoiceMixin, SalesDocumentViewSet):
    kind = DocumentKind.QUOTE
    queryset = SalesDocument.objects.filter(kind=DocumentKind.QUOTE)


class OrderViewSet(GenerateInvoiceMixin, SalesDocumentViewSet):
    kind = DocumentKind.ORDER
    queryset = SalesDocument.objects.filter(kind=DocumentKind.ORDER)


class RemissionViewSet(GenerateInvoiceMixin, SalesDocumentViewSet):
    kind = DocumentKind.REMISSION
    queryset = SalesDocument.objects.filter(kind=DocumentKind.REMISSION)


class InvoiceViewSet(SalesDocumentViewSet):
    kind = DocumentKind.INVOICE
    queryset = SalesDocument.objects.filter(kind=DocumentKind.INVOICE)
    # Cancelling an invoice cancels its CFDI with SAT: the accountant's, or the cashier's where
    # the company allows it (Company.cashiers_cancel_invoices).
    action_permissions = {
        "preview": "add",
        "post": "add",
        "cancel": CANCEL_POSTED,
        "link_cfdi": "change",
        "seal": "change",
        "send": "change",
        "discard": "change",
    }

    @extend_schema(request=PostInputSerializer, responses={200: DocumentSerializer})
    @action(detail=True, methods=["post"])
    def post(self, request, pk=None):
        """Agrega la factura: toma su número y genera cobro o cuenta por cobrar, pólizas y salida
        del almacén, todo o nada."""
        document = self.get_object()
        payload = PostInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        collections = [Collection(**c) for c in payload.validated_data.get("collections", [])]
        document = post_invoice(document=document, collections=collections, user=request.user)
        return Response(DocumentSerializer(self.get_queryset().get(pk=document.pk)).data)

    @extend_schema(request=DocumentInputSerializer, responses={200: DocumentSerializer})
    def update(self, request, pk=None):
        """Corrige un borrador (una factura que no se pudo agregar): encabezado y partidas completos,
        como al crearla; la entidad de venta no cambia."""
        document = self.get_object()
        data = self._parse(request)
        if data.pop("entity") != document.entity:
            raise DomainError("entidad_distinta", "El borrador no puede cambiar de entidad de venta.")
        document = update_draft(document=document, user=request.user, **data)
        return Response(DocumentSerializer(self.get_queryset().get(pk=document.pk)).data)

    @extend_schema(request=None, responses={204: None})
    @action(detail=True, methods=["post"])
    def discard(self, request, pk=None):
        """Descarta (borra) un borrador que no se va a agregar: no tiene número, pólizas ni CFDI."""
        discard_draft(document=self.get_object(), user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=LinkCfdiSerializer, responses={200: DocumentSerializer})
    @action(detail=True, methods=["post"], url_path="link-cfdi")
    def link_cfdi(self, request, pk=None):
        """Enlazar a factura un CFDI timbrado por otro PAC y cargado a esta entidad."""
        document = self.get_object()
        payload = LinkCfdiSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        external = ExternalCfdi.objects.filter(
            pk=payload.validated_data["external_cfdi"], company=document.company
        ).first()
        if external is None:
            raise serializers.ValidationError({"external_cfdi": "No existe ese CFDI cargado en la empresa."})
        link_external_cfdi(invoice=document, external=external)
        return Response(DocumentSerializer(self.get_queryset().get(pk=document.pk)).data)

    @extend_schema(request=None, responses={200: DocumentSerializer})
    @action(detail=True, methods=["post"])
    def seal(self, request, pk=None):
        """Sellar: genera y timbra el CFDI de una factura agregada cuyo sellado falló."""
        document = self.get_object()
        seal_and_deliver(invoice=document)
        return Response(DocumentSerializer(self.get_queryset().get(pk=document.pk)).data)

    # -- issue 6: the seed's "Archivo XML", "Archivo PDF" and "Enviar XML y PDF" --------------
    @extend_schema(responses={200: OpenApiTypes.BINARY})
    @action(detail=True, methods=["get"])
    def xml(self, request, pk=None):
        """Archivo XML: el CFDI de la factura tal como fue timbrado, o el XML externo enlazado."""
        document = self.get_object()
        external = linked_external(document)
        if external is not None:
            return xml_download(external)
        return xml_response(stamped_cfdi(document))

    @extend_schema(responses={200: OpenApiTypes.BINARY})
    @action(detail=True, methods=["get"])
    def pdf(self, request, pk=None):
        """Archivo PDF: la representación impresa del CFDI de la factura, o el PDF externo enlazado."""
        document = self.get_object()
        external = linked_external(document)
        if external is not None:
            return pdf_download(external)
        return pdf_response(stamped_cfdi(document))

    @extend_schema(request=SendSerializer, responses={200: DocumentSerializer})
    @action(detail=True, methods=["post"])
    def send(self, request, pk=None):
        """Enviar XML y PDF al correo del cliente (o a los correos indicados)."""
        document = self.get_object()
        payload = SendSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        send_invoice_files(invoice=document, to=payload.validated_data.get("to"))
        return Response(DocumentSerializer(self.get_queryset().get(pk=document.pk)).data)
