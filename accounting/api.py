from datetime import date

import django_filters
from django.db.models import Prefetch
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from erp.api_actions import LedgerViewSet
from erp.api_base import CompanyScopedSerializer, CompanyScopedViewSet
from erp.models import Company, Currency
from erp.ownership import validate_free_origin

from .models import Account, AccountingVariable, JournalEntry, JournalLine, PaymentRecord
from .sat_export import chart_of_accounts_xml, journal_entries_xml, trial_balance_xml
from .selectors import trial_balance
from .services import cancel_journal_entry, post_journal_entry


class AccountSerializer(CompanyScopedSerializer):
    level = serializers.IntegerField(read_only=True)

    class Meta:
        model = Account
        fields = [
            "id", "company", "code", "name", "nature", "sat_grouping_code", "parent",
            "postable", "active", "level",
        ]  # fmt: skip


class AccountViewSet(CompanyScopedViewSet):
    queryset = Account.objects.select_related("parent")
    serializer_class = AccountSerializer
    filterset_fields = ["company", "nature", "postable", "active", "parent", "sat_grouping_code"]
    search_fields = ["code", "name"]
    ordering_fields = ["code", "name"]


class AccountingVariableSerializer(CompanyScopedSerializer):
    description = serializers.CharField(read_only=True)

    class Meta:
        model = AccountingVariable
        fields = ["id", "company", "name", "description", "account"]


class AccountingVariableViewSet(CompanyScopedViewSet):
    queryset = AccountingVariable.objects.select_related("account")
    serializer_class = AccountingVariableSerializer
    filterset_fields = ["company", "name"]


# -- Journal entries, trial balance and SAT e-accounting exports --------------------------------


class PaymentRecordSerializer(serializers.ModelSerializer):
    class Meta:
        model = PaymentRecord
        fields = [
            "id", "kind", "date", "beneficiary", "rfc", "amount", "check_number", "origin_bank",
            "origin_bank_foreign", "origin_account", "dest_bank", "dest_bank_foreign", "dest_account",
            "method", "currency", "exchange_rate",
        ]  # fmt: skip


class JournalLineSerializer(serializers.ModelSerializer):
    account_code = serializers.CharField(source="account.code", read_only=True)
    payments = PaymentRecordSerializer(many=True, read_only=True)

    class Meta:
        model = JournalLine
        fields = [
            "position", "account", "account_code", "debit", "credit", "description", "currency",
            "exchange_rate", "foreign_amount", "payments",
        ]  # fmt: skip


class JournalEntrySerializer(serializers.ModelSerializer):
    lines = JournalLineSerializer(many=True, read_only=True)
    sat_id = serializers.CharField(read_only=True)

    class Meta:
        model = JournalEntry
        fields = [
            "id", "company", "kind", "date", "year", "month", "number", "sat_id", "concept", "origin",
            "status", "total", "created_at", "created_by", "cancelled_at", "cancelled_by", "lines",
        ]  # fmt: skip
        read_only_fields = fields


class PaymentRecordInput(serializers.ModelSerializer):
    class Meta:
        model = PaymentRecord
        exclude = ["id", "line"]


class JournalLineInput(serializers.Serializer):
    account = serializers.PrimaryKeyRelatedField(queryset=Account.objects.all())
    debit = serializers.DecimalField(max_digits=18, decimal_places=2, required=False, default=0)
    credit = serializers.DecimalField(max_digits=18, decimal_places=2, required=False, default=0)
    description = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    currency = serializers.PrimaryKeyRelatedField(
        queryset=Currency.objects.all(), required=False, allow_null=True
    )
    exchange_rate = serializers.DecimalField(max_digits=18, decimal_places=6, required=False, allow_null=True)
    foreign_amount = serializers.DecimalField(
        max_digits=18, decimal_places=2, required=False, allow_null=True
    )
    payments = PaymentRecordInput(many=True, required=False, default=list)


class JournalEntryInput(serializers.Serializer):
    company = serializers.PrimaryKeyRelatedField(queryset=Company.objects.all())
    kind = serializers.ChoiceField(choices=JournalEntry.Kind.choices)
    date = serializers.DateField()
    concept = serializers.CharField(max_length=300)
    origin = serializers.CharField(
        max_length=120, required=False, allow_blank=True, default="", validators=[validate_free_origin]
    )
    lines = JournalLineInput(many=True)


class JournalEntryFilter(django_filters.FilterSet):
    date_from = django_filters.DateFilter(field_name="date", lookup_expr="gte")
    date_to = django_filters.DateFilter(field_name="date", lookup_expr="lte")

    class Meta:
        model = JournalEntry
        fields = ["company", "kind", "status", "year", "month", "origin"]


def _int_param(request, name: str) -> int:
    value = request.query_params.get(name, "")
    if not value.isdigit():
        raise serializers.ValidationError({name: f"Indique {name} como número."})
    return int(value)


def _xml(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type="application/xml")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


class JournalEntryViewSet(LedgerViewSet):
    """Pólizas: list, detail, post (create), cancel; balanza and SAT XML exports per month."""

    queryset = JournalEntry.objects.select_related("created_by", "cancelled_by").prefetch_related(
        Prefetch(
            "lines",
            queryset=JournalLine.objects.select_related("account")
            .prefetch_related("payments")
            .order_by("position"),
        )
    )
    serializer_class = JournalEntrySerializer
    input_serializer_class = JournalEntryInput
    filterset_class = JournalEntryFilter
    search_fields = ["concept", "origin"]
    ordering_fields = ["date", "number", "total"]
    change_actions = ("cancel",)

    def perform_service(self, *, company, data, user):
        return post_journal_entry(company=company, user=user, **data)

    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        return self.run_action(cancel_journal_entry, "entry")

    @extend_schema(
        parameters=[
            OpenApiParameter("company", OpenApiTypes.INT, required=True, description="Empresa (id)."),
            OpenApiParameter(
                "date_from", OpenApiTypes.DATE, required=True, description="Primer día (AAAA-MM-DD)."
            ),
            OpenApiParameter(
                "date_to", OpenApiTypes.DATE, required=True, description="Último día (AAAA-MM-DD)."
            ),
        ]
    )
    @action(detail=False, methods=["get"], url_path="trial-balance")
    def trial_balance(self, request):
        """Balanza de comprobación: saldo inicial, cargos, abonos y saldo final por cuenta en el periodo."""
        company = self.company_param()
        try:
            date_from = date.fromisoformat(request.query_params.get("date_from", ""))
            date_to = date.fromisoformat(request.query_params.get("date_to", ""))
        except ValueError as exc:
            raise serializers.ValidationError(
                {"date_from": "Indique date_from y date_to (AAAA-MM-DD)."}
            ) from exc
        balance = trial_balance(company=company, date_from=date_from, date_to=date_to)
        money = str
        return Response(
            {
                "date_from": date_from,
                "date_to": date_to,
                "balances": balance.balances,
                "totals": {
                    "debit": money(balance.total_debit),
                    "credit": money(balance.total_credit),
                    "opening_debit_balances": money(balance.opening_debit_balances),
                    "opening_credit_balances": money(balance.opening_credit_balances),
                    "closing_debit_balances": money(balance.closing_debit_balances),
                    "closing_credit_balances": money(balance.closing_credit_balances),
                },
                "rows": [
                    {
                        "account": r.account.pk,
                        "code": r.code,
                        "name": r.account.name,
                        "level": r.level,
                        "nature": r.account.nature,
                        "opening": money(r.opening),
                        "debit": money(r.debit),
                        "credit": money(r.credit),
                        "closing": money(r.closing),
                    }
                    for r in balance.rows
                ],
            }
        )

    @action(detail=False, methods=["get"], url_path="sat-catalog")
    def sat_catalog(self, request):
        company, year, month = self.company_param(), _int_param(request, "year"), _int_param(request, "month")
        xml = chart_of_accounts_xml(company=company, year=year, month=month)
        return _xml(xml, f"{company.rfc}{year}{month:02d}CT.xml")

    @action(detail=False, methods=["get"], url_path="sat-trial-balance")
    def sat_trial_balance(self, request):
        company, year, month = self.company_param(), _int_param(request, "year"), _int_param(request, "month")
        xml = trial_balance_xml(company=company, year=year, month=month)
        return _xml(xml, f"{company.rfc}{year}{month:02d}BN.xml")

    @action(detail=False, methods=["get"], url_path="sat-entries")
    def sat_entries(self, request):
        company, year, month = self.company_param(), _int_param(request, "year"), _int_param(request, "month")
        params = request.query_params
        xml = journal_entries_xml(
            company=company,
            year=year,
            month=month,
            request_type=params.get("request_type", "AF"),
            order_number=params.get("order_number", ""),
            procedure_number=params.get("procedure_number", ""),
        )
        return _xml(xml, f"{company.rfc}{year}{month:02d}PL.xml")
