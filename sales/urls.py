from django.urls import path

from . import views
from .cfdi_import import views as xml_views
from .payments import views as payment_views
from .returns import views as returns_views

app_name = "sales"
urlpatterns = [
    path("facturas/", views.invoice_list, name="invoice-list"),
    path("facturas/<int:entity_id>/", views.invoice_list, name="invoice-list-entity"),
    path("facturas/<int:entity_id>/nueva/", views.invoice_entry, name="invoice-entry"),
    path("facturas/<int:entity_id>/global/", views.global_invoice_issue, name="global-invoice"),
    path("cobros/<int:entity_id>/", payment_views.payment_entry, name="payment-entry"),
    path("facturas/<int:entity_id>/borrador/<int:document_id>/", views.invoice_draft, name="invoice-draft"),
    # -- invoices built from an XML (issue 18) --
    path("facturas/<int:entity_id>/xml/", xml_views.external_list, name="xml-list"),
    path(
        "facturas/<int:entity_id>/xml/<int:external_id>/generar/", xml_views.external_build, name="xml-build"
    ),
    path("facturas/xml/plantilla/<int:template_id>/", xml_views.template_view, name="xml-template"),
    # issue 16: "Devolver" / "Rebajar" from an invoice
    path(
        "facturas/factura/<int:invoice_id>/<str:action>/",
        returns_views.credit_note_entry,
        name="credit-note-entry",
    ),
]
