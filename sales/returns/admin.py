"""The accountants' "Devoluciones sobre ventas": list with status and period filters, consult,
track, post (crédito or sin pago) and cancel; made through the API and the cashier screens."""

from django.contrib import admin, messages

from cfdi.selectors import cfdi_columns
from erp.admin import CompanyScopedAdmin, tracking_tree
from erp.errors import DomainError

from .cfdi import SOURCE_MODEL
from .models import CreditNote, CreditNoteLine
from .services import cancel_credit_note_and_cfdi, post_credit_note, track_credit_note


class CreditNoteLineInline(admin.TabularInline):
    model = CreditNoteLine
    extra = 0
    can_delete = False
    fields = [
        "position", "quantity", "unit", "code", "description", "unit_price", "importe", "discount",
        "iva", "ieps", "retained_iva", "retained_isr", "observations",
    ]  # fmt: skip
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(CreditNote)
class CreditNoteAdmin(CompanyScopedAdmin):
    list_display = [
        "folio", "kind", "entity", "invoice", "date", "reference", "status", "total", "currency",
        "customer_name", "cfdi",
    ]  # fmt: skip
    list_filter = ["status", "kind", "entity", "payment"]
    search_fields = ["customer_name", "customer_rfc", "reference"]
    date_hierarchy = "date"
    list_select_related = ["entity", "currency", "invoice"]
    inlines = [CreditNoteLineInline]
    actions = ["post_selected", "cancel_selected"]

    def get_changelist_instance(self, request):
        changelist = super().get_changelist_instance(request)
        changelist.result_list = list(changelist.result_list)
        columns = cfdi_columns(SOURCE_MODEL, [note.pk for note in changelist.result_list])
        for note in changelist.result_list:
            note.cfdi_column = columns.get(note.pk, "---")
        return changelist

    @admin.display(description="CFDI")
    def cfdi(self, obj):
        return getattr(obj, "cfdi_column", "---")

    @admin.display(description="No. nota de crédito", ordering="number")
    def folio(self, obj):
        return f"{obj.series}{obj.number}" if obj.number else "—"

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in CreditNote._meta.fields] + ["tracking"]

    @admin.display(description="Rastreo")
    def tracking(self, obj):
        return tracking_tree(track_credit_note(obj) if obj and obj.pk else None)

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(
        description="Agregar las devoluciones o rebajas seleccionadas (facturas a crédito o sin pago)",
        permissions=["change"],
    )
    def post_selected(self, request, queryset):
        posted = 0
        # Contado ones need the withdrawal accounts: they are posted from the cashier screen or the API.
        for note in queryset.filter(status="draft").exclude(payment="cash").order_by("date", "pk"):
            try:
                post_credit_note(credit_note=note, user=request.user)
                posted += 1
            except DomainError as exc:
                self.message_user(request, f"{note}: {exc.message}", messages.ERROR)
        if posted:
            self.message_user(request, f"{posted} devolución(es) o rebaja(s) agregada(s).", messages.SUCCESS)

    @admin.action(
        description="Cancelar las devoluciones o rebajas (CFDI con motivo 02: emitido con errores sin relación)",
        permissions=["change"],
    )
    def cancel_selected(self, request, queryset):
        cancelled = 0
        for note in queryset.exclude(status="cancelled").order_by("pk"):
            try:
                cancel_credit_note_and_cfdi(credit_note=note, motive="02", user=request.user)
                cancelled += 1
            except DomainError as exc:
                self.message_user(request, f"{note}: {exc.message}", messages.ERROR)
        if cancelled:
            self.message_user(
                request, f"{cancelled} devolución(es) o rebaja(s) cancelada(s).", messages.SUCCESS
            )
