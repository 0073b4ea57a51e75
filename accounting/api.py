from rest_framework import serializers

from erp.api_base import CompanyScopedSerializer, CompanyScopedViewSet

from .models import Account, AccountingVariable


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
