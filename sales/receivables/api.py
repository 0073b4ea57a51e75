"""REST endpoints of receivables: list/filter/detail, open, records, cancel, debt and statement."""

import django_filters
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from cashbank.models import CashMovement
from erp.api_actions import LedgerViewSet
from erp.models import Company, Currency
from erp.ownership import validate_free_origin

from ..customer_fields import (
    CUSTOMER_HELP,
    CUSTOMER_ID_HELP,
    customer_id_filter,
    customer_id_output,
    customer_in_entity,
    customer_number_filter,
    customer_number_input,
    customer_number_output,
)
from ..models import Customer, SalesEntity
from .models import Receivable, ReceivableRecord
from .selectors import customer_debt, customer_statement
from .services import apply_receivable_record, cancel_receivable, cancel_receivable_record, open_receivable


class ReceivableRecordSerializer(serializers.ModelSerializer):
    class Meta:
        model = ReceivableRecord
        fields = [
            "id", "company", "receivable", "kind", "date", "amount", "reference", "origin", "cash_movement",
            "status", "created_at", "created_by", "cancelled_at", "cancelled_by",
        ]  # fmt: skip
        read_only_fields = fields


class ReceivableSerializer(serializers.ModelSerializer):
    records = ReceivableRecordSerializer(many=True, read_only=True)
    currency_code = serializers.CharField(source="currency.code", read_only=True)
    entity = serializers.IntegerField(
        source="customer.entity_id", read_only=True, help_text="Entidad del cliente."
    )
    customer = customer_number_output("customer.number")
    customer_id = customer_id_output()
    customer_name = serializers.CharField(source="customer.name", read_only=True)

    class Meta:
        model = Receivable
        fields = [
            "id", "company", "entity", "customer", "customer_id", "customer_name", "document_type", "document_number", "origin", "date", "due_date",
            "currency", "currency_code", "exchange_rate", "amount", "balance", "status", "created_at",
            "created_by", "cancelled_at", "cancelled_by", "records",
        ]  # fmt: skip
        read_only_fields = fields


class ReceivableInput(serializers.Serializer):
    company = serializers.PrimaryKeyRelatedField(queryset=Company.objects.all())
    entity = serializers.PrimaryKeyRelatedField(
        queryset=SalesEntity.objects.all(), help_text="Entidad de venta del cliente."
    )
    customer = customer_number_input()
    date = serializers.DateField()
    amount = serializers.DecimalField(max_digits=18, decimal_places=2)
    currency = serializers.PrimaryKeyRelatedField(queryset=Currency.objects.all())
    exchange_rate = serializers.DecimalField(max_digits=18, decimal_places=6, required=False, default=1)
    document_type = serializers.CharField(max_length=30, required=False, default="factura")
    document_number = serializers.CharField(max_length=40)
    origin = serializers.CharField(
        max_length=120, required=False, allow_blank=True, default="", validators=[validate_free_origin]
    )
    due_date = serializers.DateField(required=False, allow_null=True)

    def validate(self, attrs):
        attrs["customer"] = customer_in_entity(attrs.pop("entity"), attrs["customer"])
        return attrs


class RecordInput(serializers.Serializer):
    kind = serializers.ChoiceField(choices=ReceivableRecord.Kind.choices)
    date = serializers.DateField()
    amount = serializers.DecimalField(max_digits=18, decimal_places=2)
    reference = serializers.CharField(max_length=60, required=False, allow_blank=True, default="")
    origin = serializers.CharField(
        max_length=120, required=False, allow_blank=True, default="", validators=[validate_free_origin]
    )
    cash_movement = serializers.PrimaryKeyRelatedField(
        queryset=CashMovement.objects.all(), required=False, allow_null=True
    )


class ReceivableFilter(django_filters.FilterSet):
    entity = django_filters.NumberFilter(field_name="customer__entity", help_text="Entidad del cliente.")
    customer = customer_number_filter("customer__number")
    customer_id = customer_id_filter()
    date_from = django_filters.DateFilter(field_name="date", lookup_expr="gte")
    date_to = django_filters.DateFilter(field_name="date", lookup_expr="lte")
    due_before = django_filters.DateFilter(field_name="due_date", lookup_expr="lte")
    open = django_filters.BooleanFilter(method="filter_open")

    class Meta:
        model = Receivable
        fields = ["company", "currency", "status", "document_type", "document_number", "origin"]

    def filter_open(self, queryset, name, value):
        return queryset.filter(balance__gt=0) if value else queryset.filter(balance=0)


CUSTOMER_PARAMETERS = [
    OpenApiParameter("company", OpenApiTypes.INT, required=True, description="Empresa."),
    OpenApiParameter("entity", OpenApiTypes.INT, description="Entidad de venta del cliente (con customer)."),
    OpenApiParameter("customer", OpenApiTypes.INT, description=CUSTOMER_HELP),
    OpenApiParameter(
        "customer_id", OpenApiTypes.INT, description=CUSTOMER_ID_HELP + " En lugar de entity y customer."
    ),
]


class ReceivableViewSet(LedgerViewSet):
    """Cuentas por cobrar: list, detail, open; apply a record; cancel (rule 3); debt; statement."""

    queryset = Receivable.objects.select_related("currency", "customer").prefetch_related("records")
    serializer_class = ReceivableSerializer
    input_serializer_class = ReceivableInput
    filterset_class = ReceivableFilter
    search_fields = ["document_number", "origin", "customer__name"]
    ordering_fields = ["date", "due_date", "balance"]
    change_actions = ("cancel",)
    action_permissions = {"records": "sales.add_receivablerecord"}

    def perform_service(self, *, company, data, user):
        return open_receivable(company=company, user=user, **data)

    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        return self.run_action(cancel_receivable, "receivable")

    @extend_schema(request=RecordInput, responses={201: ReceivableRecordSerializer})
    @action(detail=True, methods=["post"])
    def records(self, request, pk=None):
        receivable = self.get_object()
        serializer = RecordInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        record = apply_receivable_record(
            receivable=receivable, user=request.user, **serializer.validated_data
        )
        return Response(ReceivableRecordSerializer(record).data, status=201)

    def _customer(self):
        """``?company=&entity=&customer=NUMBER`` (as everywhere in sales) or ``?company=&customer_id=ID``."""
        company = self.company_param()
        params = self.request.query_params
        customer_id = params.get("customer_id", "")
        if customer_id:
            if not customer_id.isdigit():
                raise serializers.ValidationError({"customer_id": "Indique customer_id como número."})
            return get_object_or_404(Customer, company=company, pk=customer_id)
        entity, number = params.get("entity", ""), params.get("customer", "")
        if not (entity.isdigit() and number.isdigit()):
            raise serializers.ValidationError(
                {"customer": "Indique entity y customer (número del cliente en la entidad), o customer_id."}
            )
        return get_object_or_404(Customer, company=company, entity_id=entity, number=number)

    @staticmethod
    def _who(customer) -> dict:
        return {"customer": customer.number, "customer_id": customer.pk, "customer_name": customer.name}

    @extend_schema(parameters=CUSTOMER_PARAMETERS)
    @action(detail=False, methods=["get"])
    def debt(self, request):
        customer = self._customer()
        return Response(
            {
                **self._who(customer),
                "debt": {k: str(v) for k, v in customer_debt(customer=customer).items()},
            }
        )

    @extend_schema(parameters=CUSTOMER_PARAMETERS)
    @action(detail=False, methods=["get"])
    def statement(self, request):
        customer = self._customer()
        lines = customer_statement(customer=customer)
        return Response(
            {
                **self._who(customer),
                "lines": [
                    {
                        "date": line.date,
                        "description": line.description,
                        "charge": str(line.charge),
                        "credit": str(line.credit),
                        "balance": str(line.balance),
                        "currency": line.currency,
                    }
                    for line in lines
                ],
            }
        )


class ReceivableRecordViewSet(LedgerViewSet):
    http_method_names = ["get", "post", "head", "options"]
    queryset = ReceivableRecord.objects.select_related("receivable")
    serializer_class = ReceivableRecordSerializer
    filterset_fields = ["company", "receivable", "kind", "status"]
    change_actions = ("cancel",)

    def create(self, request, *args, **kwargs):
        return Response(
            {"code": "metodo", "message": "Use /api/sales/receivables/{id}/records/.", "details": {}}, 405
        )

    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        return self.run_action(cancel_receivable_record, "record")
