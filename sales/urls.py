from django.urls import path

from . import views

app_name = "sales"
urlpatterns = [
    path("facturas/", views.invoice_list, name="invoice-list"),
    path("facturas/<int:entity_id>/", views.invoice_list, name="invoice-list-entity"),
    path("facturas/<int:entity_id>/nueva/", views.invoice_entry, name="invoice-entry"),
]
