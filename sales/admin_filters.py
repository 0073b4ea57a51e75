"""The accountant's sales documents list as the seed's screen: entity, status tabs and periods.

The filters only translate the query string: what a tab or a period means is
``sales.document_selectors`` (``filter_by_tab``, ``filter_by_period``), the same code as the API
and the cashier's list. They render as tab bars above the list (``tabs_filter.html``), not in
the sidebar, so the columns keep the page's width at 1366 px."""

from django.contrib import admin, messages
from django.utils import timezone

from erp.errors import DomainError
from erp.roles import companies_with_perm

from .document_selectors import TAB_LABELS, filter_by_period, filter_by_tab
from .models import SalesEntity

TABS_TEMPLATE = "admin/sales/salesdocument/tabs_filter.html"


def _refuse(request, queryset, error: DomainError):
    """A tab or a period the user typed wrong: the message, and no rows (nothing to act on)."""
    messages.error(request, error.message)
    return queryset.none()


class EntityTabFilter(admin.SimpleListFilter):
    """The seed's left panel: the sales entities the user may see (all of them by default)."""

    title = "entidad de venta"
    parameter_name = "entity"
    template = TABS_TEMPLATE
    label = "Entidad"

    def lookups(self, request, model_admin):
        companies = companies_with_perm(request.user, "sales.view_salesdocument")
        entities = SalesEntity.objects.filter(company__in=companies).order_by("company__legal_name", "code")
        return [(str(entity.pk), entity.name) for entity in entities]

    def queryset(self, request, queryset):
        value = self.value()
        if value is None:
            return queryset
        if not value.isdigit():
            return _refuse(request, queryset, DomainError("entidad_invalida", f"Entidad inválida: {value}."))
        return queryset.filter(entity_id=int(value))

    def choices(self, changelist):
        yield {
            "selected": self.value() is None,
            "query_string": changelist.get_query_string(remove=[self.parameter_name]),
            "display": "Todas las entidades",
        }
        for lookup, title in self.lookup_choices:
            yield {
                "selected": self.value() == lookup,
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }


class StatusTabFilter(admin.SimpleListFilter):
    """Todas (every status but drafts), Generadas, Emitidas, Revertidas, Canceladas; Borradores
    apart. By the effective status: the stock exit's audit or reversal counts."""

    title = "estatus"
    parameter_name = "tab"
    template = TABS_TEMPLATE
    label = "Estatus"
    default = "todas"

    def lookups(self, request, model_admin):
        return list(TAB_LABELS.items())

    def value(self):
        return super().value() or self.default

    def queryset(self, request, queryset):
        try:
            return filter_by_tab(queryset, self.value())
        except DomainError as error:
            return _refuse(request, queryset, error)

    def choices(self, changelist):
        for lookup, title in self.lookup_choices:
            yield {
                "selected": self.value() == lookup,
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
                "apart": lookup == "borradores",
                "key": lookup,
            }


class PeriodFilter(admin.ListFilter):
    """Hoy (the default), Semana (the last seven days), Mes (this month or the one picked),
    Especial (a range of dates) and Todo."""

    title = "periodo"
    template = TABS_TEMPLATE
    label = "Periodo"
    parameters = ("period", "month", "from", "to")
    default = "hoy"
    PERIOD_LABELS = (("hoy", "Hoy"), ("semana", "Semana"), ("mes", "Mes"), ("todas", "Todo"))

    def __init__(self, request, params, model, model_admin):
        super().__init__(request, params, model, model_admin)
        for name in self.parameters:
            if name in params:
                self.used_parameters[name] = params.pop(name)[-1]

    def has_output(self):
        return True

    def expected_parameters(self):
        return list(self.parameters)

    def value(self):
        return self.used_parameters.get("period") or self.default

    def queryset(self, request, queryset):
        try:
            return filter_by_period(
                queryset,
                self.value(),
                month=self.used_parameters.get("month", ""),
                date_from=self.used_parameters.get("from", ""),
                date_to=self.used_parameters.get("to", ""),
            )
        except DomainError as error:
            return _refuse(request, queryset, error)

    def choices(self, changelist):
        # The month and range forms carry the rest of the list's query string along.
        self.keep = [(k, v) for k, v in changelist.params.items() if k not in self.parameters]
        self.month = self.used_parameters.get("month", "") or timezone.localdate().strftime("%Y-%m")
        self.date_from = self.used_parameters.get("from", "")
        self.date_to = self.used_parameters.get("to", "")
        self.is_especial = self.value() == "especial"
        self.is_month = self.value() == "mes"
        for key, title in self.PERIOD_LABELS:
            yield {
                "selected": self.value() == key,
                "query_string": changelist.get_query_string({"period": key}, remove=["month", "from", "to"]),
                "display": title,
                "key": key,
            }
