from django.urls import path

from . import views

app_name = "reports"
urlpatterns = [
    path("", views.index, name="index"),
    path("balanza/", views.trial_balance, name="trial-balance"),
    path("balanza/cuenta/<int:account_id>/", views.trial_balance_account, name="trial-balance-account"),
    path("estado-de-cuenta/", views.customer_statement, name="customer-statement"),
    path("antiguedad/", views.aging, name="aging"),
    path("existencias/", views.stock, name="stock"),
    path("caja-y-bancos/", views.cash, name="cash"),
    path("ventas-por-dia/", views.sales_by_day, name="sales-by-day"),
]
