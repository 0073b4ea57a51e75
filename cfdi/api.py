"""REST API of the CFDI engine: CSD upload (multipart), stored documents, the SAT rule check."""

import base64

from cryptography.hazmat.primitives.serialization import Encoding
from django.http import HttpResponse
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from erp.api_base import CompanyRolePermission, model_perm
from erp.api_parsers import FiniteJSONParser
from erp.models import Company
from erp.roles import CANCEL_POSTED, companies_with_perm, has_company_perm

from . import selectors, services
from .certificates import certificate_number, read_certificate
from .description import Concept, FiscalDocument, Receiver, Related
from .models import CfdiDocument, Csd, PacAccount
from .pac.sandbox import sandbox_certificate
from .sat import compute_totals

MAX_FILE = services.MAX_UPLOAD_BYTES


class CsdSerializer(serializers.ModelSerializer):
    """What the API shows of a CSD: never the key nor the password."""

    class Meta:
        model = Csd
        fields = [
            "id",
            "company",
            "serial_number",
            "rfc",
            "holder_name",
            "valid_from",
            "valid_to",
            "active",
            "uploaded_at",
        ]
        read_only_fields = fields


class CsdUploadSerializer(serializers.Serializer):
    company = serializers.PrimaryKeyRelatedField(queryset=Company.objects.all())
    cer = serializers.FileField(help_text="Certificado .cer (DER) tal como lo entrega el SAT.")
    key = serializers.FileField(help_text="Llave privada .key (PKCS#8 DER cifrada).")
    password = serializers.CharField(write_only=True, trim_whitespace=False, style={"input_type": "password"})

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            self.fields["company"].queryset = companies_with_perm(request.user, "cfdi.view_csd")


def _read_upload(upload) -> bytes:
    if upload.size > MAX_FILE:
        raise serializers.ValidationError("Los archivos del CSD no pueden exceder 64 KB.")
    return upload.read()


class CsdViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """CSDs of the user's companies. POST (multipart: company, cer, key, password) installs one."""

    queryset = Csd.objects.all()
    serializer_class = CsdSerializer
    permission_classes = [permissions.IsAuthenticated, CompanyRolePermission]
    parser_classes = [MultiPartParser, FormParser]

    def get_queryset(self):
        return selectors.csds_for(companies_with_perm(self.request.user, "cfdi.view_csd"))

    def get_serializer_class(self):
        return CsdUploadSerializer if self.action == "create" else CsdSerializer

    @extend_schema(request=CsdUploadSerializer, responses={201: CsdSerializer})
    def create(self, request, *args, **kwargs):
        upload = CsdUploadSerializer(data=request.data, context={"request": request})
        upload.is_valid(raise_exception=True)
        company = upload.validated_data["company"]
        if not has_company_perm(request.user, company.pk, "cfdi.add_csd"):
            raise PermissionDenied("Su rol no permite cargar certificados en esta empresa.")
        csd = services.install_csd(
            company=company,
            cer=_read_upload(upload.validated_data["cer"]),
            key=_read_upload(upload.validated_data["key"]),
            password=upload.validated_data["password"],
        )
        return Response(CsdSerializer(csd).data, status=status.HTTP_201_CREATED)


class CfdiDocumentSerializer(serializers.ModelSerializer):
    cfdi_column = serializers.CharField(read_only=True)
    xml_url = serializers.SerializerMethodField()

    class Meta:
        model = CfdiDocument
        fields = [
            "id", "company", "kind", "status", "cfdi_column", "series", "folio", "issued_at", "issuer_rfc",
            "receiver_rfc", "receiver_name", "currency", "exchange_rate", "subtotal", "discount",
            "total_transferred", "total_withheld", "total", "uuid", "stamped_at", "pac", "certificate_number",
            "sat_certificate_number", "source_model", "source_id", "last_error_code", "last_error_message",
            "xml_url", "pdf_url", "emailed_at", "emailed_to", "delivery_error", "cancellation_status",
            "cancellation_motive", "substitute_uuid", "cancellation_requested_at", "cancellation_answered_at",
        ]  # fmt: skip
        read_only_fields = fields

    def get_xml_url(self, obj) -> str:
        return f"/api/cfdi/documents/{obj.pk}/xml/"

    pdf_url = serializers.SerializerMethodField()

    def get_pdf_url(self, obj) -> str | None:
        return f"/api/cfdi/documents/{obj.pk}/pdf/" if obj.status == CfdiDocument.Status.STAMPED else None


class SendSerializer(serializers.Serializer):
    to = serializers.ListField(
        child=serializers.EmailField(), required=False, help_text="Vacío: el correo del receptor."
    )


class CancelSerializer(serializers.Serializer):
    motive = serializers.ChoiceField(
        choices=CfdiDocument.Motive.choices, help_text="Motivo del SAT: 01, 02, 03, 04."
    )
    substitute_uuid = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        help_text="Folio fiscal del CFDI que sustituye (motivo 01).",
    )


def pdf_response(document: CfdiDocument) -> HttpResponse:
    """The stored PDF, rendered now if the pipeline has not stored it yet."""
    if document.pdf:
        with document.pdf.open("rb") as handle:
            content = handle.read()
    else:
        content = services.pdf_bytes(document)
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{document.pdf_filename}"'
    return response


def xml_response(document: CfdiDocument) -> HttpResponse:
    raw = CfdiDocument.objects.values_list("xml", flat=True).get(pk=document.pk)
    response = HttpResponse(bytes(raw), content_type="application/xml; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{document.filename}"'
    return response


class CfdiDocumentViewSet(viewsets.ReadOnlyModelViewSet):
    """Stored CFDIs of the user's companies; ``xml/`` downloads the XML exactly as stamped."""

    queryset = CfdiDocument.objects.all()
    serializer_class = CfdiDocumentSerializer
    permission_classes = [permissions.IsAuthenticated, CompanyRolePermission]
    # Sending is "change"; cancelling with SAT is the accountant's (or the cashier's where the
    # company allows it), as for the document the CFDI belongs to.
    action_permissions = {"send": "change", "cancel": CANCEL_POSTED, "cancellation_status": "change"}
    filterset_fields = ["status", "kind", "source_model", "source_id", "receiver_rfc"]
    search_fields = ["uuid", "receiver_rfc", "receiver_name", "folio"]
    ordering_fields = ["issued_at", "total"]

    def get_queryset(self):
        return selectors.documents_for(companies_with_perm(self.request.user, "cfdi.view_cfdidocument"))

    @extend_schema(responses={200: OpenApiResponse(description="El XML del CFDI tal como fue timbrado.")})
    @action(detail=True, methods=["get"])
    def xml(self, request, pk=None):
        return xml_response(self.get_object())

    @extend_schema(responses={200: OpenApiResponse(description="La representación impresa (PDF) del CFDI.")})
    @action(detail=True, methods=["get"])
    def pdf(self, request, pk=None):
        return pdf_response(self.get_object())

    @extend_schema(request=SendSerializer, responses={200: CfdiDocumentSerializer})
    @action(detail=True, methods=["post"])
    def send(self, request, pk=None):
        """Envía el XML y el PDF al correo del receptor (o a los indicados)."""
        document = self.get_object()
        payload = SendSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        document = services.send_cfdi(
            document=document, to=payload.validated_data.get("to") or None, force=True
        )
        return Response(CfdiDocumentSerializer(document).data)

    @extend_schema(request=CancelSerializer, responses={200: CfdiDocumentSerializer})
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        """Solicita al SAT, por medio del PAC, la cancelación del CFDI con el motivo indicado."""
        document = self.get_object()
        payload = CancelSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        document = services.cancel_cfdi(document=document, **payload.validated_data)
        return Response(CfdiDocumentSerializer(document).data)

    @extend_schema(request=None, responses={200: CfdiDocumentSerializer})
    @action(detail=True, methods=["post"], url_path="cancellation-status")
    def cancellation_status(self, request, pk=None):
        """Consulta al PAC si el receptor aceptó o rechazó la cancelación."""
        document = services.refresh_cancellation(document=self.get_object())
        return Response(CfdiDocumentSerializer(document).data)


class PacAccountSerializer(serializers.ModelSerializer):
    """A company's PAC: credentials are written, never read back."""

    password = serializers.CharField(
        write_only=True, required=False, allow_blank=True, style={"input_type": "password"}
    )
    token = serializers.CharField(write_only=True, required=False, allow_blank=True)
    has_password = serializers.SerializerMethodField()

    class Meta:
        model = PacAccount
        fields = [
            "id", "company", "provider", "environment", "username", "password", "token", "contract",
            "service_url", "timeout_seconds", "active", "has_password",
        ]  # fmt: skip

    def get_has_password(self, obj) -> bool:
        return bool(obj.password)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            self.fields["company"].queryset = companies_with_perm(request.user, "cfdi.add_pacaccount")


class PacAccountViewSet(viewsets.ModelViewSet):
    """The PAC each company stamps with (Finkok, SW Sapien, Diverza, Prodigia, Comercio Digital,
    Facturama or the sandbox), test or production."""

    queryset = PacAccount.objects.all()
    serializer_class = PacAccountSerializer
    permission_classes = [permissions.IsAuthenticated, CompanyRolePermission]
    action_permissions = {"destroy": "change"}

    def get_queryset(self):
        return PacAccount.objects.filter(
            company__in=companies_with_perm(self.request.user, "cfdi.view_pacaccount")
        )


# -- Rule check on a description ------------------------------------------------------------


class ReceiverSerializer(serializers.Serializer):
    rfc = serializers.CharField(max_length=13)
    name = serializers.CharField(max_length=300)
    postal_code = serializers.CharField(max_length=5)
    regimen_fiscal = serializers.CharField(max_length=3)
    uso_cfdi = serializers.CharField(max_length=4)


class ConceptSerializer(serializers.Serializer):
    product_key = serializers.CharField(max_length=8)
    unit_key = serializers.CharField(max_length=3)
    description = serializers.CharField(max_length=1000)
    quantity = serializers.DecimalField(max_digits=24, decimal_places=6, min_value=0)
    unit_price = serializers.DecimalField(max_digits=24, decimal_places=6, min_value=0)
    discount = serializers.DecimalField(max_digits=20, decimal_places=2, default=0)
    sku = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    unit = serializers.CharField(max_length=20, required=False, allow_blank=True, default="")
    iva_rate = serializers.DecimalField(max_digits=7, decimal_places=4, allow_null=True, default="16")
    iva_exempt = serializers.BooleanField(default=False)
    ieps_rate = serializers.DecimalField(max_digits=7, decimal_places=4, default=0)
    retained_iva_rate = serializers.DecimalField(max_digits=7, decimal_places=4, default=0)
    retained_isr_rate = serializers.DecimalField(max_digits=7, decimal_places=4, default=0)


class RelatedSerializer(serializers.Serializer):
    relation_type = serializers.CharField(max_length=2)
    uuids = serializers.ListField(child=serializers.CharField(max_length=36), min_length=1)


class DescriptionSerializer(serializers.Serializer):
    company = serializers.PrimaryKeyRelatedField(queryset=Company.objects.all())
    receiver = ReceiverSerializer(required=False, allow_null=True, help_text="Omitido: público en general.")
    concepts = ConceptSerializer(many=True, allow_empty=False)
    doc_type = serializers.ChoiceField(choices=["I", "E"], default="I")
    series = serializers.CharField(max_length=25, required=False, allow_blank=True, default="")
    folio = serializers.CharField(max_length=40, required=False, allow_blank=True, default="")
    credit = serializers.BooleanField(default=False)
    payment_form = serializers.CharField(max_length=2, default="01")
    currency = serializers.CharField(max_length=3, default="MXN")
    exchange_rate = serializers.DecimalField(max_digits=18, decimal_places=6, required=False, allow_null=True)
    related = RelatedSerializer(many=True, required=False, default=list)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            self.fields["company"].queryset = companies_with_perm(request.user, "cfdi.view_cfdidocument")

    def to_document(self) -> tuple[Company, FiscalDocument]:
        data = self.validated_data
        company = data["company"]
        receiver = data.get("receiver")
        return company, FiscalDocument(
            issuer=services.issuer_for(company),
            receiver=Receiver(**receiver) if receiver else Receiver.counter(company.postal_code),
            concepts=tuple(Concept(**c) for c in data["concepts"]),
            doc_type=data["doc_type"],
            series=data["series"],
            folio=data["folio"],
            credit=data["credit"],
            payment_form=data["payment_form"],
            currency=data["currency"],
            exchange_rate=data.get("exchange_rate"),
            related=tuple(Related(r["relation_type"], tuple(r["uuids"])) for r in data["related"]),
        )


class FindingSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()
    where = serializers.CharField()


class CheckTotalsSerializer(serializers.Serializer):
    subtotal = serializers.DecimalField(max_digits=18, decimal_places=2)
    discount = serializers.DecimalField(max_digits=18, decimal_places=2)
    iva = serializers.DecimalField(max_digits=18, decimal_places=2)
    ieps = serializers.DecimalField(max_digits=18, decimal_places=2)
    retained_iva = serializers.DecimalField(max_digits=18, decimal_places=2)
    retained_isr = serializers.DecimalField(max_digits=18, decimal_places=2)
    total = serializers.DecimalField(max_digits=18, decimal_places=2)


class CheckResultSerializer(serializers.Serializer):
    ok = serializers.BooleanField()
    findings = FindingSerializer(many=True)
    totals = CheckTotalsSerializer()


class SandboxCertificateSerializer(serializers.Serializer):
    certificate_number = serializers.CharField()
    certificate_base64 = serializers.CharField()
    certificate_pem = serializers.CharField()


class CheckView(APIView):
    """POST a document description: the totals erp.taxes computes and SAT's rule findings."""

    permission_classes = [permissions.IsAuthenticated]
    parser_classes = [FiniteJSONParser]
    serializer_class = DescriptionSerializer

    @extend_schema(request=DescriptionSerializer, responses=CheckResultSerializer)
    def post(self, request):
        serializer = DescriptionSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        company, document = serializer.to_document()
        if not has_company_perm(request.user, company.pk, model_perm(CfdiDocument, "view")):
            raise PermissionDenied("Su rol no tiene permiso para esta acción.")
        findings = services.check_document(company=company, document=document)
        totals = compute_totals(document)
        return Response(
            {
                "ok": not findings,
                "findings": [f.as_dict() for f in findings],
                "totals": {
                    "subtotal": str(totals.importe),
                    "discount": str(totals.discount),
                    "iva": str(totals.iva),
                    "ieps": str(totals.ieps),
                    "retained_iva": str(totals.retained_iva),
                    "retained_isr": str(totals.retained_isr),
                    "total": str(totals.total),
                },
            }
        )


class SandboxCertificateView(APIView):
    """The sandbox PAC's certificate: verifies the SelloSAT of every stamp it gives."""

    permission_classes = [permissions.AllowAny]

    @extend_schema(responses=OpenApiResponse(SandboxCertificateSerializer))
    def get(self, request):
        der = sandbox_certificate()
        cert = read_certificate(der)
        return Response(
            {
                "certificate_number": certificate_number(cert),
                "certificate_base64": base64.b64encode(der).decode("ascii"),
                "certificate_pem": cert.public_bytes(Encoding.PEM).decode("ascii"),
            }
        )
