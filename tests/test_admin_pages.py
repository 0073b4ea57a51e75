"""Every admin page, walked as the accountant (issue 19): each registered model's list, its add
page and the change page of a sample row answer 200, show no English label, and a change page
with nothing to edit offers no "Guardar" button (and refuses a POST).

The pages are discovered from the admin site, and the rows come from ``tests/list_rows.py``
(one of each listed model), so a model registered tomorrow is walked without touching this file.
"""

import html
import re

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client
from django.urls import reverse

from demo.services import load_demo
from sales.external_models import ExternalCfdi
from sales.models import Customer, SalesEntity
from tests.list_rows import ROW_BUILDERS, World, _external_cfdi_xml

pytestmark = pytest.mark.django_db

# English words a Django default label would show (a field without verbose_name, a column without
# description: "Idempotency key", "Created by", "Posted at", "Uploaded by", "Cfdi column"…).
ENGLISH = re.compile(
    r"\b(idempotency|key|created|updated|posted|uploaded|by|at|of|the|date|name|status|amount|number|"
    r"code|kind|type|user|file|message|source|model|rate|active|description|reference|company|customer|"
    r"entity|product|warehouse|account|line|lines|entry|document|sent|requested|answered|last|first|"
    r"run|event|level|trigger|result|started|finished|deactivated|unchanged|failed|enabled|schedule|"
    r"task|quantity|price|unit|discount|tax|link|column|issued|stamped|cancellation|motive|receiver|"
    r"issuer|email|emailed|delivery|error|balance|due|opening|closing|cost|stock|movement|audited|"
    r"reverted|cancelled|notes?|position|parent|nature|postable|grouping|month|year|closed|invoice|"
    r"payment|collections?|series|folio|cash|bank|currency|exchange|salesperson|credit|debit|total_\w+)\b",
    re.IGNORECASE,
)
# Spanish words the pattern above would take for English.
SPANISH_HOMOGRAPHS = {"total", "error", "folio", "series", "email"}
LABEL_TAGS = re.compile(
    r"<label[^>]*>(.*?)</label>|<th[^>]*>(.*?)</th>|<h2[^>]*>(.*?)</h2>|<h3[^>]*>(.*?)</h3>"
    r"|<option value=\"[a-z_]+\"[^>]*>(.*?)</option>",
    re.DOTALL,
)
SAVE_BUTTONS = re.compile(r'name="_(save|continue|addanother|saveasnew)"')


def english_labels(page: str) -> list[str]:
    found = []
    for groups in LABEL_TAGS.findall(page):
        text = html.unescape(re.sub(r"<[^>]+>", " ", "".join(groups))).strip()
        text = re.sub(r"\(\.[a-z]+\)", "", text)  # a file type: "Llave privada (.key)"
        if not text or len(text) > 80:  # a value, not a label
            continue
        words = {w.lower() for w in ENGLISH.findall(text)} - SPANISH_HOMOGRAPHS
        if words or re.search(r"\b[a-z]+_[a-z_]+\b", text):
            found.append(text)
    return found


@pytest.fixture(scope="module")
def pages(django_db_setup, django_db_blocker):
    """Every admin page the accountant may open, fetched in one rolled-back transaction:
    {url: (status, html, read_only_change_page)}."""
    results = {}
    with django_db_blocker.unblock(), transaction.atomic():
        company = load_demo().company
        entity = SalesEntity.objects.select_related("company", "warehouse").get(
            company=company, code="PACHUCA"
        )
        accountant = get_user_model().objects.get(username="contador")
        world = World(
            company=company,
            entity=entity,
            customer=Customer.objects.get(entity=entity, number=1),
            cash=company.cashbankaccount_set.select_related("currency", "ledger_account").get(code="CAJA"),
            user=accountant,
        )
        done = set()
        for builder in ROW_BUILDERS.values():
            if builder not in done:
                builder(world, 1)
                done.add(builder)
        browser = Client()
        browser.force_login(accountant)
        request = type("Request", (), {"user": accountant})()
        # The index (with its Reportes links) and the reports the index links to.
        for url in ["/admin/", "/reportes/", "/reportes/balanza/", "/reportes/estado-de-cuenta/",
                    "/reportes/antiguedad/", "/reportes/existencias/", "/reportes/caja-y-bancos/",
                    "/reportes/ventas-por-dia/"]:  # fmt: skip
            response = browser.get(url)
            results[url] = (response.status_code, response.content.decode(), False)
        for model, model_admin in admin.site._registry.items():
            if not (
                model_admin.has_module_permission(request)
                and model_admin.has_view_or_change_permission(request)
            ):
                continue
            name = f"admin:{model._meta.app_label}_{model._meta.model_name}"
            urls = [reverse(f"{name}_changelist")]
            if model_admin.has_add_permission(request):
                urls.append(reverse(f"{name}_add"))
            sample = model_admin.get_queryset(request).order_by("-pk").first()
            read_only = False
            if sample is not None:
                urls.append(reverse(f"{name}_change", args=[sample.pk]))
                read_only = not model_admin.has_change_permission(request, sample) or getattr(
                    model_admin, "change_page_is_read_only", lambda *a: False
                )(request, sample)
            for url in urls:
                response = browser.get(url)
                results[url] = (
                    response.status_code,
                    response.content.decode(),
                    read_only and url == urls[-1],
                )
            if sample is not None and read_only:
                results[urls[-1] + "#post"] = (browser.post(urls[-1], {}).status_code, "", True)
        transaction.set_rollback(True)
    return results


def test_the_walk_reaches_the_daily_pages(pages):
    assert {
        "/admin/sales/salesdocument/",
        "/admin/accounting/journalentry/",
        "/admin/accounting/journalentry/add/",
        "/admin/cfdi/cfdidocument/",
        "/admin/inventory/stocklevel/",
    } <= set(pages)
    assert sum(1 for url in pages if url.endswith("/change/")) >= 20


def test_every_admin_page_answers(pages):
    broken = {
        url: status for url, (status, _, _) in pages.items() if not url.endswith("#post") and status != 200
    }
    assert not broken


def test_no_english_label_on_any_admin_page(pages):
    english = {url: english_labels(body) for url, (_, body, _) in pages.items() if body}
    found = {url: labels for url, labels in english.items() if labels}
    assert not found, "\n".join(f"{url}: {labels}" for url, labels in found.items())


def test_read_only_pages_offer_no_save_and_refuse_a_post(pages):
    read_only = [url for url, (_, _, ro) in pages.items() if ro and not url.endswith("#post")]
    assert "/admin/sales/salesdocument/" in {url.rsplit("/", 3)[0] + "/" for url in read_only}
    assert not [url for url in read_only if SAVE_BUTTONS.search(pages[url][1])]
    assert not [url for url in read_only if pages[url + "#post"][0] not in (403, 302)]
    editable = [url for url, (_, body, ro) in pages.items() if url.endswith("/change/") and not ro]
    assert editable and all(SAVE_BUTTONS.search(pages[url][1]) for url in editable)


def test_english_labels_are_detected():
    assert english_labels('<label for="id_x">Idempotency key:</label>') == ["Idempotency key:"]
    assert english_labels('<th scope="col"><a>Cfdi column</a></th>') == ["Cfdi column"]
    assert english_labels('<label for="id_x">Creado por:</label><th>Total</th>') == []


def _world() -> World:
    company = load_demo().company
    entity = SalesEntity.objects.select_related("company", "warehouse").get(company=company, code="PACHUCA")
    return World(
        company=company,
        entity=entity,
        customer=Customer.objects.get(entity=entity, number=1),
        cash=company.cashbankaccount_set.select_related("currency", "ledger_account").get(code="CAJA"),
        user=get_user_model().objects.get(username="contador"),
    )


def test_accountant_uploads_an_external_cfdi_from_the_admin():
    world = _world()
    browser = Client()
    browser.force_login(world.user)
    page = browser.get("/admin/sales/externalcfdi/add/")
    assert page.status_code == 200 and 'enctype="multipart/form-data"' in page.content.decode()

    bad = SimpleUploadedFile("x.xml", b"<no-es-cfdi/>", content_type="application/xml")
    refused = browser.post("/admin/sales/externalcfdi/add/", {"entity": world.entity.pk, "xml": bad})
    assert refused.status_code == 200 and "no es" in refused.content.decode()
    assert not ExternalCfdi.objects.exists()

    xml = SimpleUploadedFile("f.xml", _external_cfdi_xml(7), content_type="application/xml")
    response = browser.post("/admin/sales/externalcfdi/add/", {"entity": world.entity.pk, "xml": xml})
    external = ExternalCfdi.objects.get()
    assert response.status_code == 302 and response["Location"].endswith(f"/{external.pk}/change/")
    assert (external.uploaded_by, external.entity, external.uuid) == (
        world.user,
        world.entity,
        "00000000-0000-4000-8000-000000000007",
    )


def test_posting_a_contado_draft_from_the_admin_says_where_it_is_posted():
    world = _world()
    cash_draft = world.invoice(payment="cash", post=False)
    credit_draft = world.invoice(payment="credit", post=False)
    browser = Client()
    browser.force_login(world.user)
    response = browser.post(
        "/admin/sales/salesdocument/?tab=borradores&period=todas",
        {"action": "post_selected", "_selected_action": [cash_draft.pk, credit_draft.pk]},
        follow=True,
    )
    text = [str(m) for m in response.context["messages"]]
    assert any("es de contado" in m and f"/caja/facturas/{world.entity.pk}/" in m for m in text), text
    assert any("1 factura(s) contabilizada(s)" in m for m in text), text
    cash_draft.refresh_from_db()
    credit_draft.refresh_from_db()
    assert (cash_draft.status, credit_draft.status) == ("draft", "generated")


def test_the_documents_list_shows_status_and_total_before_the_long_texts():
    world = _world()
    world.invoice(payment="credit")
    browser = Client()
    browser.force_login(world.user)
    page = browser.get("/admin/sales/salesdocument/?period=todas").content.decode()
    headers = re.findall(r'<th scope="col" class="[^"]*column-(\w+)', page)
    customer = headers.index("customer_shown")
    assert headers.index("st") < customer and headers.index("total_shown") < customer
    assert headers.index("st") <= 4
    assert re.search(r'class="st st-generated"[^>]*>Generada<', page)
