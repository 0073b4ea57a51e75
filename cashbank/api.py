from datetime import date

import django_filters
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from accounting.models import Account
from erp.api_actions import LedgerViewSet
from erp.api_base import CompanyScopedSerializer, CompanyScopedViewSet
from erp.models import Company, Currency
from erp.ownership import validate_free_origin

from .models import CashBankAccount, CashMovement, PaymentMethod
from .selectors import balance_of, balances_at
from .services import cancel_cash_movement, create_cash_movement


class CashBankAccountSerializer(CompanyScopedSerializer):
    class Meta:
        model = CashBankAccount
        fields = [
            "id", "company", "code", "name", "kind", "currency", "linked_to_accounting",
            "ledger_account", "bank_name", "account_number", "sat_bank_code", "active",
        ]  # fmt: skip


class CashBankAccountViewSet(CompanyScopedViewSet):
    queryset = CashBankAccount.objects.select_related("currency", "ledger_account")
    serializer_class = CashBankAccountSerializer
    filterset_fields = ["company", "kind", "currency", "linked_to_accounting", "active"]
    search_fields = ["code", "name", "bank_name", "account_number"]


# -- Movements and balances ----------------------------------------------------------------------


class CashMovementSerializer(serializers.ModelSerializer):
    account_code = serializers.CharField(source="account.code", read_only=True)
    reference_string = serializers.CharField(read_only=True)

    class Meta:
        model = CashMovement
        fields = [
            "id", "company", "account", "account_code", "kind", "date", "amount", "document_currency",
            "document_amount", "exchange_rate", "method", "check_number", "counterparty_bank",
            "counterparty_bank_foreign", "counterparty_account", "beneficiary", "beneficiary_rfc",
            "concept", "reference", "origin", "reference_string", "status", "journal_entry",
            "created_at", "created_by", "cancelled_at", "cancelled_by",
        ]  # fmt: skip
        read_only_fields = fields


class CashMovementInput(serializers.Serializer):
    company = serializers.PrimaryKeyRelatedField(queryset=Company.objects.all())
    account = serializers.PrimaryKeyRelatedField(queryset=CashBankAccount.objects.select_related("currency"))
    kind = serializers.ChoiceField(choices=CashMovement.Kind.choices)
    date = serializers.DateField()
    amount = serializers.DecimalField(
        max_digits=18, decimal_places=2, help_text="En la moneda del documento."
    )
    method = serializers.ChoiceField(choices=PaymentMethod.choices)
    concept = serializers.CharField(max_length=300)
    document_currency = serializers.PrimaryKeyRelatedField(
        queryset=Currency.objects.all(), required=False, allow_null=True
    )
    exchange_rate = serializers.DecimalField(max_digits=18, decimal_places=6, required=False, allow_null=True)
    check_number = serializers.CharField(max_length=20, required=False, allow_blank=True, default="")
    counterparty_bank = serializers.CharField(max_length=3, required=False, allow_blank=True, default="")
    counterparty_bank_foreign = serializers.CharField(
        max_length=150, required=False, allow_blank=True, default=""
    )
    counterparty_account = serializers.CharField(max_length=50, required=False, allow_blank=True, default="")
    beneficiary = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
    beneficiary_rfc = serializers.CharField(max_length=13, required=False, allow_blank=True, default="")
    reference = serializers.CharField(max_length=60, required=False, allow_blank=True, default="")
    origin = serializers.CharField(
        max_length=120, required=False, allow_blank=True, default="", validators=[validate_free_origin]
    )
    counterpart_account = serializers.PrimaryKeyRelatedField(
        queryset=Account.objects.all(), required=False, allow_null=True
    )


class CashMovementFilter(django_filters.FilterSet):
    date_from = django_filters.DateFilter(field_name="date", lookup_expr="gte")
    date_to = django_filters.DateFilter(field_name="date", lookup_expr="lte")

    class Meta:
        model = CashMovement
        fields = ["company", "account", "kind", "method", "status", "origin"]


class CashMovementViewSet(LedgerViewSet):
    """Deposits and withdrawals: list, detail, create, cancel; balances of every account at a date."""

    queryset = CashMovement.objects.select_related("account", "document_currency")
    serializer_class = CashMovementSerializer
    input_serializer_class = CashMovementInput
    filterset_class = CashMovementFilter
    search_fields = ["concept", "reference", "origin", "beneficiary"]
    ordering_fields = ["date", "amount", "id"]
    change_actions = ("cancel",)

    def perform_service(self, *, company, data, user):
        return create_cash_movement(company=company, user=user, **data)

    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        return self.run_action(cancel_cash_movement, "movement")

    @action(detail=False, methods=["get"])
    def balances(self, request):
        company = self.company_param()
        try:
            at = date.fromisoformat(request.query_params.get("date", ""))
        except ValueError as exc:
            raise serializers.ValidationError({"date": "Indique la fecha (AAAA-MM-DD)."}) from exc
        rows = balances_at(company=company, date=at)
        return Response(
            {
                "date": at,
                "accounts": [
                    {
                        "account": a.pk,
                        "code": a.code,
                        "currency": a.currency.code,
                        "balance": str(balance_of(a)),
                    }
                    for a in rows
                ],
            }
        )
