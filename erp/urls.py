from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularRedocView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

from accounting.api import AccountingVariableViewSet, AccountViewSet, JournalEntryViewSet
from cashbank.api import CashBankAccountViewSet, CashMovementViewSet
from erp.api import CompanyViewSet, CurrencyViewSet, ExchangeRateViewSet, SchemaView
from erp.login import ThrottledObtainAuthToken
from erp.views import home
from inventory.api import (
    ProductLineViewSet,
    ProductViewSet,
    StockLevelViewSet,
    StockMovementViewSet,
    WarehouseViewSet,
)
from sales.api import CustomerViewSet, SalesEntityViewSet, SalespersonViewSet
from sales.cfdi_import.api import ProductAssociationViewSet, XmlInvoiceViewSet
from sales.document_api import InvoiceViewSet, OrderViewSet, QuoteViewSet, RemissionViewSet
from sales.external_api import ExternalCfdiViewSet
from sales.global_invoice.api import GlobalInvoiceViewSet
from sales.payments.api import AdvanceViewSet, PaymentViewSet
from sales.receivables.api import ReceivableRecordViewSet, ReceivableViewSet
from sales.returns.api import CreditNoteViewSet  # issue 16
from sync.api import ConnectionViewSet, CustomerImportViewSet, EventViewSet, RunViewSet

# --- cfdi (issue 5) ---
from cfdi.api import CfdiDocumentViewSet, CheckView, CsdViewSet, PacAccountViewSet, SandboxCertificateView  # isort: skip
# --- end cfdi ---

router = DefaultRouter()
router.register("companies", CompanyViewSet, basename="company")
router.register("currencies", CurrencyViewSet)
router.register("exchange-rates", ExchangeRateViewSet)
router.register("accounting/accounts", AccountViewSet)
router.register("accounting/variables", AccountingVariableViewSet)
router.register("cashbank/accounts", CashBankAccountViewSet)
router.register("inventory/product-lines", ProductLineViewSet)
router.register("inventory/products", ProductViewSet)
router.register("inventory/warehouses", WarehouseViewSet)
router.register("sales/salespeople", SalespersonViewSet)
router.register("sales/entities", SalesEntityViewSet)
router.register("sales/customers", CustomerViewSet)

# Sales documents
router.register("sales/quotes", QuoteViewSet, basename="quote")
router.register("sales/orders", OrderViewSet, basename="order")
router.register("sales/remissions", RemissionViewSet, basename="remission")
router.register("sales/invoices", InvoiceViewSet, basename="invoice")
router.register("sales/external-cfdis", ExternalCfdiViewSet)
# -- invoices built from an XML (issue 18) --
router.register("sales/xml-invoices", XmlInvoiceViewSet)
router.register("sales/product-associations", ProductAssociationViewSet)

# -- Ledgers (issue 3) --
router.register("accounting/entries", JournalEntryViewSet)
router.register("cashbank/movements", CashMovementViewSet)
router.register("inventory/stock-movements", StockMovementViewSet)
router.register("inventory/stock-levels", StockLevelViewSet)
router.register("sales/receivables", ReceivableViewSet)
router.register("sales/payments", PaymentViewSet)
router.register("sales/global-invoices", GlobalInvoiceViewSet)
router.register("sales/advances", AdvanceViewSet)
router.register("sales/receivable-records", ReceivableRecordViewSet)
# -- end ledgers --
router.register("sales/credit-notes", CreditNoteViewSet, basename="creditnote")  # issue 16

# --- cfdi (issue 5) ---
router.register("cfdi/csds", CsdViewSet, basename="csd")
router.register("cfdi/documents", CfdiDocumentViewSet, basename="cfdidocument")
router.register("cfdi/pac-accounts", PacAccountViewSet, basename="pacaccount")  # issue 6
cfdi_urlpatterns = [
    path("api/cfdi/check/", CheckView.as_view(), name="cfdi-check"),
    path(
        "api/cfdi/sandbox-pac/certificate/", SandboxCertificateView.as_view(), name="cfdi-sandbox-certificate"
    ),
]
# --- end cfdi ---

# --- sync (issue 12) ---
router.register("sync/connections", ConnectionViewSet, basename="connection")
router.register("sync/runs", RunViewSet, basename="run")
router.register("sync/events", EventViewSet, basename="event")
router.register("sync/imports", CustomerImportViewSet, basename="customerimport")  # issue 13
# --- end sync ---

urlpatterns = [
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
    path("admin/", admin.site.urls),
    path("accounts/", include("django.contrib.auth.urls")),
    path("caja/", include("sales.urls")),
    path("sync/", include("sync.urls")),  # issue 12
    path("reportes/", include("reports.urls")),  # issue 19: the accountant's reports
    path("inicio/", home, name="home"),  # issue 12: where login lands, by role
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/auth/token/", ThrottledObtainAuthToken.as_view(), name="api-token"),
    path("api/schema/", SchemaView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="api-schema"), name="api-redoc"),
    *cfdi_urlpatterns,
    path("api/", include(router.urls)),
]
