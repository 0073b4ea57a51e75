from erp.api_base import CompanyScopedSerializer, CompanyScopedViewSet

from .models import CashBankAccount


class CashBankAccountSerializer(CompanyScopedSerializer):
    class Meta:
        model = CashBankAccount
        fields = [
            "id", "company", "code", "name", "kind", "currency", "linked_to_accounting",
            "ledger_account", "bank_name", "account_number", "active",
        ]  # fmt: skip


class CashBankAccountViewSet(CompanyScopedViewSet):
    queryset = CashBankAccount.objects.select_related("currency", "ledger_account")
    serializer_class = CashBankAccountSerializer
    filterset_fields = ["company", "kind", "currency", "linked_to_accounting", "active"]
    search_fields = ["code", "name", "bank_name", "account_number"]
