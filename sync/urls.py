from django.urls import path

from . import views

app_name = "sync"
urlpatterns = [
    path("eventos/", views.event_viewer, name="events"),
    path("conexiones/<int:pk>/sincronizar/", views.run_now, name="run-now"),
    path("conexiones/<int:pk>/activar/", views.toggle, name="toggle"),
    path("conexiones/<int:pk>/importar/", views.import_file, name="import"),
    path("importaciones/<int:pk>/", views.import_preview, name="import-preview"),
    path("importaciones/<int:pk>/aplicar/", views.import_apply, name="import-apply"),
    path("demo-qr/api/v1/receptores", views.demo_qr_source, name="demo-qr-source"),
    path("demo-wopen/api/v1/documentos", views.demo_wopen_documents, name="demo-wopen-documents"),
    path(
        "demo-wopen/api/v1/facturas/<str:document_id>/timbre",
        views.demo_wopen_report,
        name="demo-wopen-report",
    ),
]
