"""REST endpoints of CFDIs stamped elsewhere: load (multipart), list, download the XML."""

from django.http import HttpResponse
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from erp.api_base import CompanyRolePermission
from erp.roles import companies_with_perm

from .cfdi_import.api import BuildInvoiceMixin
from .external_cfdi import load_external_cfdi
from .external_models import ExternalCfdi
from .models import SalesEntity


class ExternalCfdiSerializer(serializers.ModelSerializer):
    class Meta:
        model = ExternalCfdi
        fields = [
            "id", "company", "entity", "uuid", "version", "doc_type", "issuer_rfc", "receiver_rfc",
            "receiver_name", "series", "folio", "issued_at", "currency", "total", "pdf", "invoice", "credit_note",
            "uploaded_at",
        ]  # fmt: skip


class ExternalCfdiUploadSerializer(serializers.Serializer):
    entity = serializers.PrimaryKeyRelatedField(queryset=SalesEntity.objects.all())
    xml = serializers.FileField(help_text="El XML timbrado, tal como lo entregó el PAC.")
    pdf = serializers.FileField(required=False, help_text="Su representación impresa (opcional).")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            self.fields["entity"].queryset = SalesEntity.objects.filter(
                company__in=companies_with_perm(request.user, "sales.add_externalcfdi")
            )


class ExternalCfdiViewSet(
    BuildInvoiceMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    queryset = ExternalCfdi.objects.select_related("entity")
    serializer_class = ExternalCfdiSerializer
    permission_classes = [CompanyRolePermission]
    action_permissions = {"build_invoice": "sales.add_xmlinvoice", "pdf:post": "add"}
    parser_classes = [MultiPartParser, FormParser]
    filterset_fields = ["entity", "doc_type", "receiver_rfc", "invoice"]
    search_fields = ["uuid", "receiver_rfc", "receiver_name", "folio"]

    def get_queryset(self):
        return (
            super()
            .get_queryset()
            .filter(company__in=companies_with_perm(self.request.user, "sales.view_externalcfdi"))
        )

    @extend_schema(request=ExternalCfdiUploadSerializer, responses={201: ExternalCfdiSerializer})
    def create(self, request):
        """Cargar XML y/o PDF de un CFDI timbrado por otro PAC a una entidad de venta contable."""
        payload = ExternalCfdiUploadSerializer(data=request.data, context={"request": request})
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        external = load_external_cfdi(
            entity=data["entity"], xml=data["xml"].read(), pdf=data.get("pdf"), user=request.user
        )
        return Response(ExternalCfdiSerializer(external).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses={(200, "application/xml"): bytes})
    @action(detail=True, methods=["get"])
    def xml(self, request, pk=None):
        external = self.get_object()
        response = HttpResponse(bytes(external.xml), content_type="application/xml")
        response["Content-Disposition"] = f'attachment; filename="{external.uuid}.xml"'
        return response
