"""Every list takes the same number of queries whatever its rows (DESIGN rule 9; issue 20).

The lists are discovered, not written down: every GET operation of the OpenAPI schema that lists
(drf-spectacular names it ``…_list``), every changelist of the admin site and the cashier's
screens. Each is read at two sizes, after the rows of every listed model have grown through
``tests/list_rows.py``; the query counts must be equal. A list whose model has no row builder
fails here by name, so a new list cannot arrive unmeasured: add one line to ``ROW_BUILDERS``.
"""

import os
import re
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import resolve, reverse
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator

from demo.services import load_demo
from erp.models import Currency, ExchangeRate
from erp.pagination import MAX_PAGE_SIZE
from sales.document_models import SalesDocument
from sales.models import Customer, SalesEntity
from sales.views import LIST_PAGE_SIZE
from tests.list_rows import ROW_BUILDERS, World, bulk_invoices

SMALL, MORE = 2, 3  # rows added per model before each reading: 2, then 5 in all
pytestmark = pytest.mark.django_db  # so pytest-django sets the test database up for the module fixture


@dataclass(frozen=True)
class Listing:
    surface: str  # api, admin or screen
    url: str
    model: type

    def __str__(self) -> str:
        return f"{self.surface}:{self.url}"


def _model_of_view(view_class) -> type:
    queryset = getattr(view_class, "queryset", None)
    if queryset is not None:
        return queryset.model
    serializer = getattr(view_class, "serializer_class", None)
    meta = getattr(serializer, "Meta", None)
    if meta is not None and getattr(meta, "model", None) is not None:
        return meta.model
    raise AssertionError(f"{view_class.__name__}: no se sabe qué modelo lista (queryset o serializer_class)")


def api_listings() -> list[Listing]:
    """Every list operation the API publishes (so what the schema shows is what is measured)."""
    schema = SchemaGenerator().get_schema(request=None, public=True)
    found = []
    for path, operations in schema["paths"].items():
        get = operations.get("get")
        if get is None or "{" in path or not get["operationId"].endswith("_list"):
            continue
        found.append(Listing("api", path, _model_of_view(resolve(path).func.cls)))
    return found


# Changelists that open on a period (the sales documents: «Hoy»), read over every date instead,
# as the rows are dated in the past.
ADMIN_QUERY = {SalesDocument: "?period=todas"}


def admin_listings() -> list[Listing]:
    return [
        Listing(
            "admin",
            reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
            + ADMIN_QUERY.get(model, ""),
            model,
        )
        for model in admin.site._registry
    ]


def screen_listings() -> list[Listing]:
    # The cashier's list of the demo's entity (period "todas": the rows are dated in the past).
    url = reverse("sales:invoice-list-entity", args=[0]).replace("/0/", "/{entity}/")
    return [Listing("screen", url + "?period=todas", SalesDocument)]


LISTINGS = api_listings() + admin_listings() + screen_listings()


def _rows_shown(listing: Listing, response) -> int:
    """Rows on the page (not the total count: a full page at both sizes would hide a per-row query)."""
    if listing.surface == "api":
        body = response.json()
        return len(body["results"]) if isinstance(body, dict) else len(body)
    if listing.surface == "admin":
        return len(response.context["cl"].result_list)
    return len(response.context["invoices"])


def _read(browser: Client, listing: Listing, world: World) -> tuple[int, int]:
    """(queries, rows shown) of one reading, after a first one that warms per-process caches."""
    url = listing.url.format(entity=world.entity.pk)
    if listing.surface == "api":
        url += f"?page_size={MAX_PAGE_SIZE}"
    browser.get(url)
    with CaptureQueriesContext(connection) as captured:
        response = browser.get(url)
    assert response.status_code == 200, f"{listing}: {response.status_code}"
    # LIST_QUERIES_DEBUG=<part of a url> prints that list's queries (pytest -s) to find the one that grows.
    if os.environ.get("LIST_QUERIES_DEBUG") and os.environ["LIST_QUERIES_DEBUG"] in url:
        print("\n".join(q["sql"][:300] for q in captured.captured_queries))
    return len(captured), _rows_shown(listing, response)


def _grow(world: World, rows: int) -> None:
    done = set()
    listed = {listing.model for listing in LISTINGS}
    for model in [model for model in ROW_BUILDERS if model in listed]:  # in a fixed order
        builder = ROW_BUILDERS.get(model)
        if builder is not None and builder not in done:
            builder(world, rows)
            done.add(builder)


@pytest.fixture(scope="module")
def readings(django_db_setup, django_db_blocker):
    """Every listing read at two sizes in one rolled-back transaction: {listing: (small, large)}."""
    results = {}
    with django_db_blocker.unblock(), transaction.atomic():
        company = load_demo().company
        superuser = get_user_model().objects.get(username="admin")
        entity = SalesEntity.objects.select_related("company", "warehouse").get(
            company=company, code="PACHUCA"
        )
        world = World(
            company=company,
            entity=entity,
            customer=Customer.objects.get(entity=entity, number=1),
            cash=company.cashbankaccount_set.select_related("currency", "ledger_account").get(code="CAJA"),
            user=get_user_model().objects.get(username="contador"),
        )
        browser = Client()
        browser.force_login(superuser)
        cashier = Client()
        cashier.force_login(get_user_model().objects.get(username="cajero"))
        for model_admin in admin.site._registry.values():  # every row on one page, as in the API
            model_admin.list_per_page = 10_000
        measured = [listing for listing in LISTINGS if listing.model in ROW_BUILDERS]
        small = {}
        _grow(world, SMALL)
        for listing in measured:
            small[listing] = _read(cashier if listing.surface == "screen" else browser, listing, world)
        _grow(world, MORE)
        for listing in measured:
            results[listing] = (
                small[listing],
                _read(cashier if listing.surface == "screen" else browser, listing, world),
            )
        transaction.set_rollback(True)
    for model_admin in admin.site._registry.values():
        model_admin.list_per_page = type(model_admin).list_per_page
    return results


def test_the_discovery_finds_the_known_lists():
    urls = {str(listing) for listing in LISTINGS}
    assert {
        "api:/api/sales/invoices/",
        "api:/api/accounting/entries/",
        "api:/api/cfdi/documents/",
        "admin:/admin/sales/salesdocument/?period=todas",
        "admin:/admin/inventory/stockmovement/",
        "screen:/caja/facturas/{entity}/?period=todas",
    } <= urls


@pytest.mark.parametrize("listing", LISTINGS, ids=str)
def test_list_queries_do_not_grow_with_rows(readings, listing):
    assert listing.model in ROW_BUILDERS, (
        f"{listing}: la lista de {listing.model._meta.label} no tiene constructor de filas; "
        f"agregue una línea a ROW_BUILDERS en tests/list_rows.py"
    )
    (small_queries, small_rows), (large_queries, large_rows) = readings[listing]
    assert large_rows > small_rows, f"{listing}: las filas no crecieron ({small_rows} → {large_rows})"
    assert small_queries == large_queries, (
        f"{listing}: {small_queries} consultas con {small_rows} filas, {large_queries} con {large_rows}"
    )


def test_page_size_is_honoured_up_to_the_documented_maximum(api_as):
    demo = load_demo()
    usd = Currency.objects.get(code="USD")
    ExchangeRate.objects.bulk_create(
        ExchangeRate(company=demo.company, currency=usd, date=date(2026, 1, 1) - timedelta(days=n), rate=17)
        for n in range(MAX_PAGE_SIZE + 5)
    )
    client = api_as(get_user_model().objects.get(username="contador"))

    def rows(query: str) -> int:
        response = client.get(f"/api/exchange-rates/{query}")
        assert response.status_code == 200
        return len(response.json()["results"])

    assert rows("") == 50
    assert rows("?page_size=7") == 7
    assert rows(f"?page_size={MAX_PAGE_SIZE}") == MAX_PAGE_SIZE
    assert rows("?page_size=100000") == MAX_PAGE_SIZE


# -- 5,000 invoices (issue 19) ------------------------------------------------------------------
HANDFUL, THOUSANDS = 10, 5_000
ADMIN_TABS = ["todas", "generadas", "emitidas", "revertidas", "canceladas", "borradores"]


def _measure(browser: Client, url: str):
    """(queries, response) of one reading, after a first one that warms per-process caches."""
    browser.get(url)
    with CaptureQueriesContext(connection) as captured:
        response = browser.get(url)
    assert response.status_code == 200, url
    return len(captured), response


def _readings(accountant: Client, cashier: Client, entity) -> dict:
    """Each tab of the admin's list (today's, the default period) and the cashier's list:
    {list: (queries, rows on the page, rows in all)}."""
    found = {}
    for tab in ADMIN_TABS:
        queries, response = _measure(accountant, f"/admin/sales/salesdocument/?tab={tab}")
        changelist = response.context["cl"]
        # The count the page shows («N resultados»): the rows of the tab, not the page's.
        paginator = re.search(r'<p class="paginator">(.*?)</p>', response.content.decode(), re.S).group(1)
        assert f"{changelist.result_count} documentos de venta" in paginator, tab
        found[f"admin:{tab}"] = (queries, len(changelist.result_list), changelist.result_count)
    queries, response = _measure(cashier, f"/caja/facturas/{entity.pk}/?tab=todas&period=hoy")
    html = response.content.decode()
    rows = len(re.findall(r'<tr class="st-\w+">', html))
    total = response.context["page"].paginator.count
    assert f"{total} facturas" in html  # the count the pager shows: every invoice of the tab
    found["screen:todas"] = (queries, rows, total)
    return found


def test_five_thousand_invoices_list_in_the_same_queries_as_a_handful():
    """The admin's list (each tab) and the cashier's take as many queries with 5,000 invoices of
    today as with a handful: no query per row (DESIGN rule 9)."""
    company = load_demo().company
    entity = SalesEntity.objects.select_related("company", "warehouse").get(company=company, code="PACHUCA")
    users = get_user_model().objects
    world = World(
        company=company,
        entity=entity,
        customer=Customer.objects.get(entity=entity, number=1),
        cash=company.cashbankaccount_set.select_related("currency", "ledger_account").get(code="CAJA"),
        user=users.get(username="contador"),
    )
    accountant, cashier = Client(), Client()
    accountant.force_login(world.user)
    cashier.force_login(users.get(username="cajero"))
    today = timezone.localdate()

    bulk_invoices(world, HANDFUL, day=today)
    small = _readings(accountant, cashier, entity)
    bulk_invoices(world, THOUSANDS - HANDFUL - 10, day=today)  # each call adds 5 made by the services
    assert SalesDocument.objects.filter(entity=entity, kind="invoice", date=today).count() == THOUSANDS
    large = _readings(accountant, cashier, entity)

    per_page = admin.site._registry[SalesDocument].list_per_page
    for name, (queries, rows, total) in large.items():
        small_queries, small_rows, small_total = small[name]
        assert queries == small_queries, (
            f"{name}: {small_queries} consultas con {small_rows} filas, {queries} con {rows}"
        )
        assert total > small_total and rows > small_rows, name
    # A fifth of the invoices in each tab; «Todas» is the four fifths that are not drafts.
    assert large["admin:todas"][1:] == (per_page, THOUSANDS * 4 // 5)
    assert large["admin:revertidas"][1:] == (per_page, THOUSANDS // 5)
    assert large["admin:borradores"][1:] == (per_page, THOUSANDS // 5)
    # The cashier's page shows its page size, and its pager reaches every invoice of the tab.
    assert large["screen:todas"][1:] == (LIST_PAGE_SIZE, THOUSANDS * 4 // 5)
