from rest_framework import mixins, permissions, serializers, viewsets

from .api_base import CompanyRolePermission, CompanyScopedSerializer, CompanyScopedViewSet
from .models import Company, Currency, ExchangeRate
from .roles import companies_with_perm
from .services import save_catalog_row


class CompanySerializer(serializers.ModelSerializer):
    person_type = serializers.CharField(read_only=True)

    class Meta:
        model = Company
        fields = [
            "id", "rfc", "legal_name", "regimen_fiscal", "postal_code", "cfdi_version",
            "frontier_stimulus", "active", "person_type",
        ]  # fmt: skip
        read_only_fields = ["rfc"]

    def update(self, instance, validated_data):
        for key, value in validated_data.items():
            setattr(instance, key, value)
        return save_catalog_row(instance=instance)


class CompanyPermission(CompanyRolePermission):
    def has_object_permission(self, request, view, obj):
        perm = f"erp.{'view' if request.method in permissions.SAFE_METHODS else 'change'}_company"
        return companies_with_perm(request.user, perm).filter(pk=obj.pk).exists()


class CompanyViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """The companies the user works in. New companies are registered by an administrator."""

    queryset = Company.objects.all()
    serializer_class = CompanySerializer
    permission_classes = [permissions.IsAuthenticated, CompanyPermission]
    search_fields = ["rfc", "legal_name"]

    def get_queryset(self):
        return companies_with_perm(self.request.user, "erp.view_company").order_by("legal_name")


class CurrencySerializer(serializers.ModelSerializer):
    class Meta:
        model = Currency
        fields = ["id", "code", "name", "decimals", "is_national"]


class CurrencyViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = Currency.objects.all()
    serializer_class = CurrencySerializer
    pagination_class = None


class ExchangeRateSerializer(CompanyScopedSerializer):
    class Meta:
        model = ExchangeRate
        fields = ["id", "company", "date", "currency", "rate"]


class ExchangeRateViewSet(CompanyScopedViewSet):
    queryset = ExchangeRate.objects.select_related("currency")
    serializer_class = ExchangeRateSerializer
    filterset_fields = {"company": ["exact"], "currency": ["exact"], "date": ["exact", "gte", "lte"]}
    ordering_fields = ["date"]
