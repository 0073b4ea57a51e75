"""REST endpoints of invoices built from an XML: build (on the external CFDI), the template with
its concordance, "Actualizar", preview, accept; the learned product associations; the external
PDF. Parse, call the service, render."""

import django_filters
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import JSONParser, MultiPartParser
from rest_framework.response import Response

from erp.api_base import CompanyRolePermission, CompanyScopedSerializer, CompanyScopedViewSet
from erp.roles import companies_with_perm, has_company_perm
from erp.taxes import IEPS, ISR, IVA

from ..customer_fields import (
    CUSTOMER_HELP,
    CUSTOMER_ID_HELP,
    customer_id_filter,
    customer_id_output,
    customer_number_filter,
    customer_number_output,
)
from ..document_api import CollectionInputSerializer, DocumentSerializer, PreviewSerializer
from ..document_models import SalesDocument
from ..posting import Collection
from .concordance import Concordance
from .models import ProductAssociation, XmlInvoice
from .responses import pdf_download
from .services import (
    accept_xml_invoice,
    attach_external_pdf,
    build_xml_invoice,
    concordance_of,
    header_for,
    preview_xml_invoice,
    update_xml_invoice,
    xml_data,
)

# -- The template ---------------------------------------------------------------------------


def _pair(taxes, tax: str) -> str:
    """The seed's "tasa:importe" of one tax on a line (0.0:0.00 when it has none)."""
    for t in taxes:
        if t.tax == tax and t.amount is not None:
            percent = (t.rate * 100).normalize()
            rate = f"{percent:.1f}" if percent == percent.to_integral_value() else f"{percent:f}"
            return f"{rate}:{t.amount:.2f}"
    return "0.0:0.00"


class TemplateLineSerializer(serializers.Serializer):
    position = serializers.IntegerField()
    quantity = serializers.DecimalField(max_digits=18, decimal_places=6)
    unit = serializers.CharField()
    code = serializers.CharField(help_text="Clave del producto; vacía: sin asociar.")
    description = serializers.CharField(help_text="La del producto, o la del concepto sin clave.")
    concept_description = serializers.CharField(help_text="Descripción del concepto (editable).")
    sku = serializers.CharField(help_text="NoIdentificacion del concepto.")
    unit_price = serializers.DecimalField(max_digits=18, decimal_places=6)
    importe = serializers.DecimalField(max_digits=18, decimal_places=2)
    discount = serializers.DecimalField(max_digits=18, decimal_places=2)
    iva = serializers.CharField(help_text="tasa:importe")
    ieps = serializers.CharField(help_text="tasa:importe")
    retained_iva = serializers.CharField(help_text="tasa:importe")
    retained_isr = serializers.CharField(help_text="tasa:importe")


class ConcordanceSerializer(serializers.Serializer):
    ok = serializers.BooleanField(help_text="Sin ERROR: la factura se puede agregar.")
    errors = serializers.IntegerField()
    messages = serializers.ListField(child=serializers.CharField())


class XmlInvoiceSerializer(serializers.Serializer):
    """The template as the seed's form shows it, with the concordance's messages."""

    id = serializers.IntegerField()
    company = serializers.IntegerField()
    entity = serializers.IntegerField()
    external_cfdi = serializers.IntegerField()
    uuid = serializers.CharField()
    invoice = serializers.IntegerField(allow_null=True)
    reference = serializers.CharField()
    date = serializers.DateField()
    delivery_date = serializers.DateField()
    payment = serializers.CharField()
    customer = serializers.IntegerField(help_text=CUSTOMER_HELP)
    customer_id = serializers.IntegerField(help_text=CUSTOMER_ID_HELP)
    customer_rfc = serializers.CharField()
    customer_name = serializers.CharField()
    currency = serializers.CharField()
    exchange_rate = serializers.DecimalField(max_digits=18, decimal_places=6)
    salesperson = serializers.CharField(allow_null=True)
    observations = serializers.CharField()
    lines = TemplateLineSerializer(many=True)
    importe = serializers.DecimalField(max_digits=18, decimal_places=2)
    iva = serializers.DecimalField(max_digits=18, decimal_places=2)
    ieps = serializers.DecimalField(max_digits=18, decimal_places=2)
    retained_iva = serializers.DecimalField(max_digits=18, decimal_places=2)
    retained_isr = serializers.DecimalField(max_digits=18, decimal_places=2)
    total = serializers.DecimalField(max_digits=18, decimal_places=2)
    xml_total = serializers.DecimalField(max_digits=18, decimal_places=2)
    concordance = ConcordanceSerializer()

    def to_representation(self, template: XmlInvoice) -> dict:
        data = xml_data(template.external)
        header = header_for(template, data)
        result: Concordance = concordance_of(template, data)
        totals = result.totals
        customer = template.customer
        lines = []
        for line, concept, taxes in zip(
            template.lines.select_related("product"), data.concepts, totals.lines, strict=True
        ):
            product = line.product
            lines.append(
                {
                    "position": line.position,
                    "quantity": str(concept.quantity),
                    "unit": product.unit if product else "",
                    "code": product.code if product else "",
                    "description": product.description if product else line.description,
                    "concept_description": line.description,
                    "sku": concept.sku,
                    "unit_price": str(concept.unit_price),
                    "importe": str(taxes.importe),
                    "discount": "0.00",
                    "iva": _pair(taxes.transferred, IVA),
                    "ieps": _pair(taxes.transferred, IEPS),
                    "retained_iva": _pair(taxes.withheld, IVA),
                    "retained_isr": _pair(taxes.withheld, ISR),
                }
            )
        return {
            "id": template.pk,
            "company": template.company_id,
            "entity": template.external.entity_id,
            "external_cfdi": template.external_id,
            "uuid": template.external.uuid,
            "invoice": template.invoice_id,
            "reference": template.reference,
            "date": header.date.isoformat(),
            "delivery_date": header.date.isoformat(),
            "payment": header.payment,
            "customer": customer.number,
            "customer_id": customer.pk,
            "customer_rfc": customer.rfc,
            "customer_name": customer.name,
            "currency": header.currency.code,
            "exchange_rate": str(header.exchange_rate),
            "salesperson": str(header.salesperson) if header.salesperson else None,
            "observations": template.observations,
            "lines": lines,
            "importe": f"{totals.importe:.2f}",
            "iva": f"{totals.iva:.2f}",
            "ieps": f"{totals.ieps:.2f}",
            "retained_iva": f"{totals.retained_iva:.2f}",
            "retained_isr": f"{totals.retained_isr:.2f}",
            "total": f"{totals.total:.2f}",
            "xml_total": str(data.total),
            "concordance": {"ok": result.ok, "errors": result.errors, "messages": result.as_text()},
        }


class LineChangeSerializer(serializers.Serializer):
    position = serializers.IntegerField(min_value=1)
    code = serializers.CharField(
        required=False, allow_blank=True, help_text="Clave del producto (o del proveedor); vacía la borra."
    )
    description = serializers.CharField(required=False, max_length=1000)


class UpdateSerializer(serializers.Serializer):
    lines = LineChangeSerializer(many=True, required=False)
    reference = serializers.CharField(required=False, allow_blank=True, max_length=60)
    observations = serializers.CharField(required=False, allow_blank=True)


class AcceptSerializer(serializers.Serializer):
    collections = CollectionInputSerializer(
        many=True, required=False, help_text="Cajas o bancos que cobran una factura de contado."
    )


class XmlInvoiceListSerializer(serializers.ModelSerializer):
    uuid = serializers.CharField(source="external.uuid", read_only=True)
    customer = customer_number_output("customer.number")
    customer_id = customer_id_output()
    customer_name = serializers.CharField(source="customer.name", read_only=True)

    class Meta:
        model = XmlInvoice
        fields = ["id", "company", "external", "uuid", "customer", "customer_id", "customer_name", "reference",
                  "invoice", "created_at"]  # fmt: skip


class XmlInvoiceFilter(django_filters.FilterSet):
    customer = customer_number_filter("customer__number")
    customer_id = customer_id_filter()

    class Meta:
        model = XmlInvoice
        fields = ["external", "invoice"]


class XmlInvoiceViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Facturas desde XML: la plantilla, su concordancia, «Actualizar» y «Aceptar»."""

    queryset = XmlInvoice.objects.select_related("external__entity", "customer", "company")
    serializer_class = XmlInvoiceSerializer
    permission_classes = [CompanyRolePermission]
    action_permissions = {"concordance": "change", "accept": "add"}
    parser_classes = [JSONParser]
    filterset_class = XmlInvoiceFilter

    def get_queryset(self):
        return (
            super()
            .get_queryset()
            .filter(company__in=companies_with_perm(self.request.user, "sales.view_xmlinvoice"))
        )

    def get_serializer_class(self):
        return XmlInvoiceListSerializer if self.action == "list" else XmlInvoiceSerializer

    def _render(self, template, code=status.HTTP_200_OK):
        return Response(XmlInvoiceSerializer(self.get_queryset().get(pk=template.pk)).data, status=code)

    @extend_schema(request=UpdateSerializer, responses={200: XmlInvoiceSerializer})
    @action(detail=True, methods=["post"])
    def concordance(self, request, pk=None):
        """«Actualizar»: establece o cambia claves de producto (y descripciones, referencia,
        observaciones) y corre de nuevo la concordancia."""
        template = self.get_object()
        payload = UpdateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        lines = data.get("lines", [])
        update_xml_invoice(
            template=template,
            codes={line["position"]: line["code"] for line in lines if "code" in line},
            descriptions={line["position"]: line["description"] for line in lines if "description" in line},
            reference=data.get("reference"),
            observations=data.get("observations"),
        )
        return self._render(template)

    @extend_schema(request=None, responses={200: PreviewSerializer})
    @action(detail=True, methods=["get"])
    def preview(self, request, pk=None):
        """La factura que agregaría «Aceptar» (cabecero, datos del cliente, partidas, impuestos y
        totales), sin guardarla; solo sin ERROR en la concordancia."""
        return Response(PreviewSerializer(preview_xml_invoice(template=self.get_object())).data)

    @extend_schema(request=AcceptSerializer, responses={201: DocumentSerializer})
    @action(detail=True, methods=["post"])
    def accept(self, request, pk=None):
        """Aceptar: solo sin ERROR en la concordancia. Agrega la factura igual que «Agregar Factura»
        (cobro o cuenta por cobrar, pólizas, salida del almacén), la enlaza al XML sin timbrar otro
        CFDI y guarda la asociación de claves del cliente."""
        template = self.get_object()
        payload = AcceptSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        collections = [Collection(**c) for c in payload.validated_data.get("collections", [])]
        document = accept_xml_invoice(template=template, collections=collections, user=request.user)
        invoice = SalesDocument.objects.prefetch_related("lines").get(pk=document.pk)
        return Response(DocumentSerializer(invoice).data, status=status.HTTP_201_CREATED)


class BuildInvoiceMixin:
    """Actions of ``ExternalCfdiViewSet``: build an invoice from it, and its PDF."""

    @extend_schema(request=None, responses={201: XmlInvoiceSerializer}, summary="Generar factura desde XML")
    @action(detail=True, methods=["post"], url_path="build-invoice")
    def build_invoice(self, request, pk=None):
        """Generar factura desde XML (reglas B.1–B.4): la plantilla con el cabecero tomado del XML y
        una partida por concepto, con las claves que este cliente ya asoció, y su concordancia."""
        external = self.get_object()
        if not has_company_perm(request.user, external.company_id, "sales.add_xmlinvoice"):
            self.permission_denied(request, message="Su rol no permite generar facturas desde XML.")
        template = build_xml_invoice(external=external, user=request.user)
        return Response(
            XmlInvoiceSerializer(XmlInvoice.objects.get(pk=template.pk)).data, status=status.HTTP_201_CREATED
        )

    @extend_schema(
        methods=["GET"], request=None, responses={(200, "application/pdf"): bytes}, summary="Descargar PDF"
    )
    @extend_schema(
        methods=["POST"],
        request={"multipart/form-data": {"type": "object", "properties": {"pdf": {"type": "string", "format": "binary"}}}},
        responses={200: None},
        summary="Subir el PDF",
    )  # fmt: skip
    @action(detail=True, methods=["get", "post"], parser_classes=[MultiPartParser])
    def pdf(self, request, pk=None):
        """El PDF del CFDI externo: GET lo descarga (o lo imprime del XML 4.0 si no se subió),
        POST lo sube o reemplaza (campo «pdf»)."""
        external = self.get_object()
        if request.method == "POST":
            upload = request.FILES.get("pdf")
            if upload is None:
                raise serializers.ValidationError({"pdf": "Adjunte el archivo PDF."})
            external = attach_external_pdf(external=external, pdf=upload)
            return Response(self.get_serializer(external).data)
        return pdf_download(external)


# -- Learned associations -------------------------------------------------------------------


class ProductAssociationSerializer(CompanyScopedSerializer):
    customer_number = serializers.IntegerField(source="customer.number", read_only=True)
    product_code = serializers.CharField(source="product.code", read_only=True)

    class Meta:
        model = ProductAssociation
        fields = ["id", "company", "customer", "customer_number", "kind", "key", "product", "product_code",
                  "updated_at"]  # fmt: skip
        read_only_fields = ["updated_at"]


class ProductAssociationViewSet(CompanyScopedViewSet):
    """Asociaciones de productos por cliente: la clave o descripción de un concepto de sus XML y el
    producto con que se vende; se aprenden al aceptar cada factura desde XML y se pueden corregir."""

    queryset = ProductAssociation.objects.select_related("customer", "product")
    serializer_class = ProductAssociationSerializer
    filterset_fields = ["customer", "kind", "product"]
    search_fields = ["key", "product__code"]
