"""REST endpoints of the global invoice of counter sales: create (draft with the period's
tickets), issue, cancel, XML, PDF, send, and a ticket's own invoice."""

from django.db.models import OuterRef, Subquery
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from cfdi.api import SendSerializer, pdf_response, xml_response
from cfdi.models import CfdiDocument
from cfdi.services import send_cfdi
from erp.api_actions import LedgerViewSet
from erp.models import Company
from erp.roles import CANCEL_POSTED

from ..customer_fields import customer_in_entity, customer_number_input
from ..document_models import SalesDocument
from ..models import SalesEntity
from .models import GlobalInvoice, GlobalInvoiceTicket, Periodicity
from .services import (
    SOURCE_MODEL,
    cancel_global_invoice,
    create_global_invoice,
    invoice_ticket,
    issue_global_invoice,
    stamped_global_cfdi,
)


class TicketSerializer(serializers.ModelSerializer):
    number = serializers.SerializerMethodField()

    class Meta:
        model = GlobalInvoiceTicket
        fields = ["id", "ticket", "number", "total", "active"]
        read_only_fields = fields

    def get_number(self, line) -> str:
        return f"{line.ticket.series}{line.ticket.number or ''}"


def _stamped_uuids(global_id):
    return CfdiDocument.objects.filter(
        source_model=SOURCE_MODEL, source_id=global_id, status=CfdiDocument.Status.STAMPED
    ).values_list("uuid", flat=True)


class GlobalInvoiceSerializer(serializers.ModelSerializer):
    tickets = TicketSerializer(many=True, read_only=True)
    cfdi_uuid = serializers.SerializerMethodField()

    class Meta:
        model = GlobalInvoice
        fields = [
            "id", "company", "entity", "periodicity", "date_from", "date_to", "months", "year", "currency",
            "total", "status", "cfdi_error", "cfdi_uuid", "created_at", "issued_at", "cancelled_at", "tickets",
        ]  # fmt: skip
        read_only_fields = fields

    def get_cfdi_uuid(self, global_invoice) -> str | None:
        if hasattr(global_invoice, "stamped_uuid"):
            return global_invoice.stamped_uuid
        return _stamped_uuids(global_invoice.pk).first()


class GlobalInvoiceInput(serializers.Serializer):
    company = serializers.PrimaryKeyRelatedField(queryset=Company.objects.all())
    entity = serializers.PrimaryKeyRelatedField(queryset=SalesEntity.objects.all())
    periodicity = serializers.ChoiceField(
        choices=Periodicity.choices, required=False, help_text="Vacía: la periodicidad de la entidad."
    )
    date_from = serializers.DateField()
    date_to = serializers.DateField(required=False, help_text="Vacía: la misma fecha inicial (un día).")


class GlobalInvoiceCancelInput(serializers.Serializer):
    motive = serializers.ChoiceField(choices=CfdiDocument.Motive.choices, required=False, default="02")
    substitute_uuid = serializers.CharField(max_length=36, required=False, allow_blank=True, default="")


class TicketInvoiceInput(serializers.Serializer):
    ticket = serializers.PrimaryKeyRelatedField(queryset=SalesDocument.objects.all())
    customer = customer_number_input(help_text="Número del cliente en la entidad del ticket.")

    def validate(self, attrs):
        attrs["customer"] = customer_in_entity(attrs["ticket"].entity, attrs["customer"])
        return attrs


class GlobalInvoiceViewSet(LedgerViewSet):
    """Facturas globales de las ventas de mostrador (CFDI a PUBLICO EN GENERAL con InformacionGlobal)."""

    queryset = (
        GlobalInvoice.objects.select_related("currency")
        .prefetch_related("tickets__ticket")
        .annotate(stamped_uuid=Subquery(_stamped_uuids(OuterRef("pk"))[:1]))
    )
    serializer_class = GlobalInvoiceSerializer
    input_serializer_class = GlobalInvoiceInput
    filterset_fields = ["company", "entity", "status", "periodicity"]
    change_actions = ("issue", "send")
    # Cancelling cancels the CFDI with SAT (the accountant's, as invoices); invoicing a ticket on
    # its own creates an invoice.
    action_permissions = {"cancel": CANCEL_POSTED, "invoice_ticket": "sales.add_salesdocument"}
    actions_with_body = ("send", "cancel")

    def perform_service(self, *, company, data, user):
        return create_global_invoice(company=company, user=user, **data)

    @extend_schema(request=None, responses={200: GlobalInvoiceSerializer})
    @action(detail=True, methods=["post"])
    def issue(self, request, pk=None):
        """Emitir: sellar y timbrar el CFDI de la factura global, luego imprimirlo y enviarlo."""
        global_invoice = self.get_object()
        issue_global_invoice(global_invoice=global_invoice, user=request.user)
        return Response(self.get_serializer(self._reload(global_invoice)).data)

    @extend_schema(request=GlobalInvoiceCancelInput, responses={200: GlobalInvoiceSerializer})
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        """Cancelar: primero el CFDI ante el SAT; sus tickets quedan libres."""
        payload = GlobalInvoiceCancelInput(data=request.data)
        payload.is_valid(raise_exception=True)
        return self.run_action(cancel_global_invoice, "global_invoice", **payload.validated_data)

    @extend_schema(responses={200: OpenApiTypes.BINARY})
    @action(detail=True, methods=["get"])
    def xml(self, request, pk=None):
        """Archivo XML de la factura global tal como fue timbrado."""
        return xml_response(stamped_global_cfdi(self.get_object()))

    @extend_schema(responses={200: OpenApiTypes.BINARY})
    @action(detail=True, methods=["get"])
    def pdf(self, request, pk=None):
        """Archivo PDF de la factura global."""
        return pdf_response(stamped_global_cfdi(self.get_object()))

    @extend_schema(request=SendSerializer, responses={200: GlobalInvoiceSerializer})
    @action(detail=True, methods=["post"])
    def send(self, request, pk=None):
        """Enviar el XML y el PDF a los correos indicados."""
        global_invoice = self.get_object()
        payload = SendSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        send_cfdi(
            document=stamped_global_cfdi(global_invoice),
            to=payload.validated_data.get("to") or None,
            force=True,
        )
        return Response(self.get_serializer(self._reload(global_invoice)).data)

    @extend_schema(request=TicketInvoiceInput, responses={200: OpenApiTypes.OBJECT})
    @action(detail=False, methods=["post"], url_path="invoice-ticket")
    def invoice_ticket(self, request):
        """Factura de un ticket a nombre del cliente que la pide: el ticket sale de la factura global
        aún no sellada; si ya está en una sellada o timbrada, se rechaza."""
        payload = TicketInvoiceInput(data=request.data)
        payload.is_valid(raise_exception=True)
        ticket = payload.validated_data["ticket"]
        self._company_from(ticket.company_id, "change")
        document = invoice_ticket(
            ticket=ticket, customer=payload.validated_data["customer"], user=request.user
        )
        return Response({"ticket": ticket.pk, "uuid": document.uuid, "status": document.status})
