from django.contrib.auth import get_user_model
from rest_framework import serializers

from erp.api_base import CompanyScopedSerializer, CompanyScopedViewSet

from .models import Product, ProductLine, Warehouse


class ProductLineSerializer(CompanyScopedSerializer):
    class Meta:
        model = ProductLine
        fields = ["id", "company", "code", "name"]


class ProductLineViewSet(CompanyScopedViewSet):
    queryset = ProductLine.objects.all()
    serializer_class = ProductLineSerializer
    filterset_fields = ["company"]
    search_fields = ["code", "name"]


class ProductSerializer(CompanyScopedSerializer):
    class Meta:
        model = Product
        fields = [
            "id", "company", "code", "supplier_code", "description", "line", "unit",
            "sat_product_key", "sat_unit_key", "is_service", "applies_iva", "ieps_rate",
            "retained_iva_rate", "retained_isr_rate", "list_price", "active", "external_key",
        ]  # fmt: skip


class ProductViewSet(CompanyScopedViewSet):
    queryset = Product.objects.select_related("line")
    serializer_class = ProductSerializer
    filterset_fields = ["company", "line", "is_service", "applies_iva", "active", "external_key"]
    search_fields = ["code", "supplier_code", "description"]
    ordering_fields = ["code", "description", "list_price"]


class WarehouseSerializer(CompanyScopedSerializer):
    managers = serializers.PrimaryKeyRelatedField(
        many=True, required=False, queryset=get_user_model().objects.all()
    )

    class Meta:
        model = Warehouse
        fields = [
            "id", "company", "code", "short_name", "linked_to_accounting", "inventory_account",
            "allow_negative_stock", "managers", "active",
        ]  # fmt: skip

    def validate(self, attrs):
        attrs = super().validate(attrs)
        company = attrs.get("company") or self.instance.company
        outsiders = [
            u.username
            for u in attrs.get("managers", [])
            if not u.memberships.filter(company=company).exists()
        ]
        if outsiders:
            raise serializers.ValidationError(
                {"managers": f"No pertenecen a la empresa: {', '.join(outsiders)}."}
            )
        return attrs


class WarehouseViewSet(CompanyScopedViewSet):
    queryset = Warehouse.objects.select_related("inventory_account").prefetch_related("managers")
    serializer_class = WarehouseSerializer
    filterset_fields = ["company", "linked_to_accounting", "active"]
    search_fields = ["code", "short_name"]
