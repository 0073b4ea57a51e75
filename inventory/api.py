import django_filters
from django.contrib.auth import get_user_model
from django.db.models import Prefetch
from rest_framework import serializers
from rest_framework.decorators import action

from erp.api_actions import LedgerViewSet
from erp.api_base import CompanyScopedSerializer, CompanyScopedViewSet
from erp.models import Company
from erp.ownership import validate_free_origin

from .models import (
    Product,
    ProductLine,
    StockLevel,
    StockMovement,
    StockMovementEvent,
    StockMovementLine,
    Warehouse,
)
from .services import (
    audit_stock_movement,
    cancel_stock_movement,
    create_stock_movement,
    revert_stock_movement,
)


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
            "sat_product_key", "sat_unit_key", "is_service", "applies_iva", "iva_treatment",
            "tax_operation", "ieps_rate", "ieps_quota", "list_price", "active", "external_key",
        ]  # fmt: skip
        # applies_iva follows iva_treatment (see Product.save); retentions follow tax_operation.
        read_only_fields = ["applies_iva"]


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


# -- Stock movements and levels -----------------------------------------------------------------


class StockMovementLineSerializer(serializers.ModelSerializer):
    product_code = serializers.CharField(source="product.code", read_only=True)

    class Meta:
        model = StockMovementLine
        fields = ["position", "product", "product_code", "quantity", "unit_cost", "total_cost"]


class StockMovementEventSerializer(serializers.ModelSerializer):
    username = serializers.CharField(source="user.username", read_only=True, default=None)

    class Meta:
        model = StockMovementEvent
        fields = ["action", "user", "username", "at"]


class StockMovementSerializer(serializers.ModelSerializer):
    lines = StockMovementLineSerializer(many=True, read_only=True)
    events = StockMovementEventSerializer(many=True, read_only=True)
    reference = serializers.CharField(read_only=True)

    class Meta:
        model = StockMovement
        fields = [
            "id", "company", "warehouse", "kind", "date", "concept", "origin", "reference", "status",
            "total_cost", "journal_entry", "created_at", "lines", "events",
        ]  # fmt: skip
        read_only_fields = fields


class StockMovementLineInput(serializers.Serializer):
    product = serializers.PrimaryKeyRelatedField(queryset=Product.objects.all())
    quantity = serializers.DecimalField(max_digits=18, decimal_places=4)
    unit_cost = serializers.DecimalField(max_digits=18, decimal_places=6, required=False, allow_null=True)


class StockMovementInput(serializers.Serializer):
    company = serializers.PrimaryKeyRelatedField(queryset=Company.objects.all())
    warehouse = serializers.PrimaryKeyRelatedField(queryset=Warehouse.objects.all())
    kind = serializers.ChoiceField(choices=StockMovement.Kind.choices)
    date = serializers.DateField()
    concept = serializers.CharField(max_length=300)
    origin = serializers.CharField(
        max_length=120, required=False, allow_blank=True, default="", validators=[validate_free_origin]
    )
    lines = StockMovementLineInput(many=True)


class StockMovementFilter(django_filters.FilterSet):
    date_from = django_filters.DateFilter(field_name="date", lookup_expr="gte")
    date_to = django_filters.DateFilter(field_name="date", lookup_expr="lte")

    class Meta:
        model = StockMovement
        fields = ["company", "warehouse", "kind", "status", "origin"]


class StockMovementViewSet(LedgerViewSet):
    """Entries and exits: list, detail, create; audit and revert (warehouse managers), cancel."""

    queryset = StockMovement.objects.select_related("warehouse").prefetch_related(
        Prefetch("lines", queryset=StockMovementLine.objects.select_related("product").order_by("position")),
        Prefetch("events", queryset=StockMovementEvent.objects.select_related("user").order_by("at", "pk")),
    )
    serializer_class = StockMovementSerializer
    input_serializer_class = StockMovementInput
    filterset_class = StockMovementFilter
    search_fields = ["concept", "origin"]
    ordering_fields = ["date", "id"]

    def perform_service(self, *, company, data, user):
        return create_stock_movement(company=company, user=user, **data)

    @action(detail=True, methods=["post"])
    def audit(self, request, pk=None):
        return self.run_action(audit_stock_movement, "movement")

    @action(detail=True, methods=["post"])
    def revert(self, request, pk=None):
        return self.run_action(revert_stock_movement, "movement")

    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        return self.run_action(cancel_stock_movement, "movement")


class StockLevelSerializer(serializers.ModelSerializer):
    product_code = serializers.CharField(source="product.code", read_only=True)
    warehouse_code = serializers.CharField(source="warehouse.code", read_only=True)

    class Meta:
        model = StockLevel
        fields = [
            "id",
            "company",
            "warehouse",
            "warehouse_code",
            "product",
            "product_code",
            "quantity",
            "average_cost",
        ]
        read_only_fields = fields


class StockLevelViewSet(LedgerViewSet):
    http_method_names = ["get", "head", "options"]
    queryset = StockLevel.objects.select_related("warehouse", "product")
    serializer_class = StockLevelSerializer
    filterset_fields = ["company", "warehouse", "product"]
