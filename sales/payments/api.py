"""REST endpoints of customer payments: create, preview, post, cancel, XML, PDF, send, and the
list of payments whose complement is still missing."""

import django_filters
from django.db.models import OuterRef, Subquery
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from cashbank.models import CashBankAccount
from cfdi.api import SendSerializer, pdf_response, xml_response
from cfdi.models import CfdiDocument
from cfdi.services import send_cfdi
from erp.api_actions import LedgerViewSet
from erp.models import Company
from erp.roles import CANCEL_POSTED

from ..customer_fields import (
    customer_id_filter,
    customer_id_output,
    customer_in_entity,
    customer_number_filter,
    customer_number_input,
    customer_number_output,
)
from ..document_models import SalesDocument
from ..models import SalesEntity
from .complement import issue_and_deliver, stamped_complement, substitute_complement
from .models import AdvanceApplication, CustomerAdvance, CustomerPayment, PaymentApplication
from .selectors import missing_complements
from .services import apply_advance, cancel_payment, create_payment, post_payment, preview_payment


class ApplicationSerializer(serializers.ModelSerializer):
    class Meta:
        model = PaymentApplication
        fields = ["id", "invoice", "amount", "installment", "previous_balance", "receivable_record"]
        read_only_fields = fields


class PaymentSerializer(serializers.ModelSerializer):
    applications = ApplicationSerializer(many=True, read_only=True)
    currency_code = serializers.CharField(source="currency.code", read_only=True)
    cfdi_uuid = serializers.SerializerMethodField()
    customer = customer_number_output("customer.number")
    customer_id = customer_id_output()
    customer_name = serializers.CharField(source="customer.name", read_only=True)

    class Meta:
        model = CustomerPayment
        fields = [
            "id", "company", "entity", "customer", "customer_id", "customer_name", "date", "account", "currency", "currency_code",
            "exchange_rate", "amount", "advance", "payment_form", "operation_number", "payer_bank_code", "payer_bank_rfc",
            "payer_bank_name", "payer_account", "beneficiary_account", "status", "cash_movement",
            "cfdi_error", "cfdi_uuid", "created_at", "posted_at", "cancelled_at", "applications",
        ]  # fmt: skip
        read_only_fields = fields

    def get_cfdi_uuid(self, payment) -> str | None:
        if hasattr(payment, "stamped_uuid"):  # annotated by the viewset's queryset: lists stay flat
            return payment.stamped_uuid
        return _stamped_uuids(payment.pk).first()


def _stamped_uuids(payment_id):
    return CfdiDocument.objects.filter(
        source_model="sales.customerpayment", source_id=payment_id, status=CfdiDocument.Status.STAMPED
    ).values_list("uuid", flat=True)


class ApplicationInput(serializers.Serializer):
    invoice = serializers.PrimaryKeyRelatedField(queryset=SalesDocument.objects.all())
    amount = serializers.DecimalField(max_digits=18, decimal_places=2)


class PaymentInput(serializers.Serializer):
    company = serializers.PrimaryKeyRelatedField(queryset=Company.objects.all())
    entity = serializers.PrimaryKeyRelatedField(queryset=SalesEntity.objects.all())
    customer = customer_number_input()
    date = serializers.DateField()
    account = serializers.PrimaryKeyRelatedField(queryset=CashBankAccount.objects.all())
    amount = serializers.DecimalField(max_digits=18, decimal_places=2)
    payment_form = serializers.CharField(max_length=2)
    exchange_rate = serializers.DecimalField(max_digits=18, decimal_places=6, required=False, default=1)
    operation_number = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    payer_bank_code = serializers.CharField(max_length=3, required=False, allow_blank=True, default="")
    payer_bank_rfc = serializers.CharField(max_length=13, required=False, allow_blank=True, default="")
    payer_bank_name = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
    payer_account = serializers.CharField(max_length=50, required=False, allow_blank=True, default="")
    beneficiary_account = serializers.CharField(max_length=50, required=False, allow_blank=True, default="")
    applications = ApplicationInput(many=True, required=False, default=list)
    leave_advance = serializers.BooleanField(
        required=False, default=False, help_text="Lo no aplicado a facturas queda como anticipo del cliente."
    )

    def validate(self, attrs):
        attrs["customer"] = customer_in_entity(attrs["entity"], attrs["customer"])
        return attrs


class PaymentCancelInput(serializers.Serializer):
    motive = serializers.ChoiceField(choices=CfdiDocument.Motive.choices, required=False, default="02")
    substitute_uuid = serializers.CharField(max_length=36, required=False, allow_blank=True, default="")


class PaymentFilter(django_filters.FilterSet):
    customer = customer_number_filter("customer__number")
    customer_id = customer_id_filter()

    class Meta:
        model = CustomerPayment
        fields = ["company", "entity", "status"]


class PaymentViewSet(LedgerViewSet):
    """Pagos de clientes (cobranza) con su complemento de pago (CFDI tipo P, Pagos 2.0)."""

    queryset = (
        CustomerPayment.objects.select_related("currency", "customer")
        .prefetch_related("applications")
        .annotate(stamped_uuid=Subquery(_stamped_uuids(OuterRef("pk"))[:1]))
    )
    serializer_class = PaymentSerializer
    actions_with_body = ("send",)
    input_serializer_class = PaymentInput
    filterset_class = PaymentFilter
    change_actions = ("post", "send", "complement", "substitute")
    action_permissions = {"preview": "add", "cancel": CANCEL_POSTED}

    def perform_service(self, *, company, data, user):
        return create_payment(company=company, user=user, **data)

    @extend_schema(request=None, responses={200: OpenApiTypes.OBJECT})
    @action(detail=True, methods=["post"])
    def preview(self, request, pk=None):
        """Vista previa: parcialidades, saldos, impuestos proporcionales y Totales del complemento."""
        return Response(preview_payment(payment=self.get_object()))

    @extend_schema(request=None, responses={200: PaymentSerializer})
    @action(detail=True, methods=["post"])
    def post(self, request, pk=None):
        """Aplicar el pago: depósito, registros de cuentas por cobrar, póliza y complemento."""
        return self.run_action(post_payment, "payment")

    @extend_schema(request=PaymentCancelInput, responses={200: PaymentSerializer})
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        """Cancelar el pago: primero su complemento ante el SAT, luego los registros."""
        payload = PaymentCancelInput(data=request.data)
        payload.is_valid(raise_exception=True)
        return self.run_action(cancel_payment, "payment", **payload.validated_data)

    @extend_schema(request=None, responses={200: PaymentSerializer})
    @action(detail=True, methods=["post"])
    def complement(self, request, pk=None):
        """Emitir (o reintentar) el complemento de pago de un pago aplicado."""
        payment = self.get_object()
        issue_and_deliver(payment=payment)
        return Response(self.get_serializer(self._reload(payment)).data)

    @extend_schema(request=None, responses={200: PaymentSerializer})
    @action(detail=True, methods=["post"])
    def substitute(self, request, pk=None):
        """Sustituir el complemento: uno nuevo con relación 04 y el anterior cancelado con motivo 01."""
        payment = self.get_object()
        substitute_complement(payment=payment)
        return Response(self.get_serializer(self._reload(payment)).data)

    @extend_schema(responses={200: OpenApiTypes.BINARY})
    @action(detail=True, methods=["get"])
    def xml(self, request, pk=None):
        """Archivo XML del complemento de pago tal como fue timbrado."""
        return xml_response(stamped_complement(self.get_object()))

    @extend_schema(responses={200: OpenApiTypes.BINARY})
    @action(detail=True, methods=["get"])
    def pdf(self, request, pk=None):
        """Archivo PDF del complemento de pago."""
        return pdf_response(stamped_complement(self.get_object()))

    @extend_schema(request=SendSerializer, responses={200: PaymentSerializer})
    @action(detail=True, methods=["post"])
    def send(self, request, pk=None):
        """Enviar el XML y el PDF del complemento al correo del cliente (o a los indicados)."""
        payment = self.get_object()
        payload = SendSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        send_cfdi(
            document=stamped_complement(payment), to=payload.validated_data.get("to") or None, force=True
        )
        return Response(self.get_serializer(self._reload(payment)).data)

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    @action(detail=False, methods=["get"])
    def missing(self, request):
        """Pagos aplicados a facturas PPD cuyo complemento falta, con la fecha límite del SAT."""
        company = self.company_param()
        return Response(
            [
                {
                    "payment": row.payment.pk,
                    "customer": row.payment.customer.number,
                    "customer_id": row.payment.customer_id,
                    "customer_name": row.payment.customer.name,
                    "date": row.payment.date,
                    "amount": str(row.payment.amount),
                    "deadline": row.deadline,
                    "overdue": row.overdue,
                    "error": row.payment.cfdi_error,
                }
                for row in missing_complements(company=company)
            ]
        )


class AdvanceApplicationSerializer(serializers.ModelSerializer):
    class Meta:
        model = AdvanceApplication
        fields = ["id", "invoice", "date", "amount", "receivable_record", "created_at"]
        read_only_fields = fields


class AdvanceSerializer(serializers.ModelSerializer):
    applications = AdvanceApplicationSerializer(many=True, read_only=True)
    currency_code = serializers.CharField(source="currency.code", read_only=True)
    entity = serializers.IntegerField(
        source="customer.entity_id", read_only=True, help_text="Entidad del cliente."
    )
    customer = customer_number_output("customer.number")
    customer_id = customer_id_output()
    customer_name = serializers.CharField(source="customer.name", read_only=True)

    class Meta:
        model = CustomerAdvance
        fields = [
            "id", "company", "entity", "customer", "customer_id", "customer_name", "payment", "date", "currency", "currency_code", "exchange_rate", "amount",
            "balance", "status", "applications",
        ]  # fmt: skip
        read_only_fields = fields


class ApplyAdvanceInput(serializers.Serializer):
    invoice = serializers.PrimaryKeyRelatedField(queryset=SalesDocument.objects.all())
    amount = serializers.DecimalField(max_digits=18, decimal_places=2)
    date = serializers.DateField()


class AdvanceFilter(django_filters.FilterSet):
    entity = django_filters.NumberFilter(field_name="customer__entity", help_text="Entidad del cliente.")
    customer = customer_number_filter("customer__number")
    customer_id = customer_id_filter()

    class Meta:
        model = CustomerAdvance
        fields = ["company", "status"]


class AdvanceViewSet(LedgerViewSet):
    """Anticipos de clientes: lo que un pago no aplicó a facturas, aplicable después a sus facturas."""

    queryset = CustomerAdvance.objects.select_related("currency", "customer").prefetch_related("applications")
    serializer_class = AdvanceSerializer
    filterset_class = AdvanceFilter
    change_actions = ("apply",)
    actions_with_body = ("apply",)

    @extend_schema(request=ApplyAdvanceInput, responses={200: AdvanceSerializer})
    @action(detail=True, methods=["post"])
    def apply(self, request, pk=None):
        """Aplicar el anticipo (o parte) a una factura abierta del mismo cliente."""
        payload = ApplyAdvanceInput(data=request.data)
        payload.is_valid(raise_exception=True)
        return self.run_action(apply_advance, "advance", **payload.validated_data)
