from django.urls import path

from . import views
from .returns import views as returns_views

app_name = "sales"
urlpatterns = [
    path("facturas/", views.invoice_list, name="invoice-list"),
    path("facturas/<int:entity_id>/", views.invoice_list, name="invoice-list-entity"),
    path("facturas/<int:entity_id>/nueva/", views.invoice_entry, name="invoice-entry"),
    # issue 16: "Devolver" / "Rebajar" from an invoice
    path(
        "facturas/factura/<int:invoice_id>/<str:action>/",
        returns_views.credit_note_entry,
        name="credit-note-entry",
    ),
]
