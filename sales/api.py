from rest_framework import serializers

from erp.api_base import CompanyScopedSerializer, CompanyScopedViewSet

from .models import Customer, SalesEntity, Salesperson
from .services import next_customer_number, save_sales_entity


class SalespersonSerializer(CompanyScopedSerializer):
    class Meta:
        model = Salesperson
        fields = ["id", "company", "number", "name", "active"]


class SalespersonViewSet(CompanyScopedViewSet):
    queryset = Salesperson.objects.all()
    serializer_class = SalespersonSerializer
    filterset_fields = ["company", "active"]
    search_fields = ["name"]


class SalesEntitySerializer(CompanyScopedSerializer):
    class Meta:
        model = SalesEntity
        fields = [
            "id", "company", "code", "name", "series", "next_number", "allow_number_change",
            "iva_rate", "postal_code", "mode", "warehouse", "salesperson", "no_stock_movements",
            "cash_accounts", "active",
        ]  # fmt: skip

    def create(self, validated_data):
        plain, m2m = self._split_m2m(validated_data)
        return save_sales_entity(entity=self._build(plain), m2m=m2m)

    def update(self, instance, validated_data):
        plain, m2m = self._split_m2m(validated_data)
        return save_sales_entity(entity=self._build(plain), m2m=m2m)


class SalesEntityViewSet(CompanyScopedViewSet):
    queryset = SalesEntity.objects.select_related("warehouse", "salesperson").prefetch_related(
        "cash_accounts"
    )
    serializer_class = SalesEntitySerializer
    filterset_fields = ["company", "mode", "active"]
    search_fields = ["code", "name", "series"]


class CustomerSerializer(CompanyScopedSerializer):
    number = serializers.IntegerField(
        required=False, min_value=0, help_text="Si se omite, el siguiente número de la entidad."
    )
    person_type = serializers.CharField(read_only=True)

    class Meta:
        model = Customer
        fields = [
            "id", "company", "entity", "number", "rfc", "name", "address", "colonia",
            "poblacion", "postal_code", "phones", "email", "regimen_fiscal", "uso_cfdi",
            "forma_pago", "credit_days", "general_discount", "salesperson", "external_key",
            "active", "person_type",
        ]  # fmt: skip

    def validate(self, attrs):
        if self.instance is None and attrs.get("number") is None and attrs.get("entity"):
            attrs["number"] = next_customer_number(entity=attrs["entity"])
        return super().validate(attrs)


class CustomerViewSet(CompanyScopedViewSet):
    queryset = Customer.objects.select_related("entity", "salesperson")
    serializer_class = CustomerSerializer
    filterset_fields = {
        "company": ["exact"],
        "entity": ["exact"],
        "number": ["exact"],
        "rfc": ["exact"],
        "active": ["exact"],
        "salesperson": ["exact", "isnull"],
        "external_key": ["exact"],
    }
    search_fields = ["name", "rfc", "email", "external_key"]
    ordering_fields = ["number", "name"]
