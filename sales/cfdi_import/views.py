"""Cashier screens of CFDIs stamped elsewhere: load XML and PDF, generate an invoice from one,
and its template (codes, "Actualizar", concordance, "Aceptar"). Thin: parse, call the service,
render; the messages are the services'."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from cashbank.models import PaymentMethod
from erp.errors import DomainError
from erp.money import to_decimal
from erp.roles import companies_with_perm

from ..external_cfdi import load_external_cfdi
from ..external_models import ExternalCfdi
from ..models import SalesEntity
from ..posting import Collection
from .api import XmlInvoiceSerializer
from .models import XmlInvoice
from .services import accept_xml_invoice, build_xml_invoice, update_xml_invoice

PERM = "sales.add_xmlinvoice"


def _entity(request, entity_id: int) -> SalesEntity:
    return get_object_or_404(
        SalesEntity.objects.filter(company__in=companies_with_perm(request.user, PERM)), pk=entity_id
    )


@login_required
def external_list(request, entity_id: int):
    """Cargar XML y/o PDF, and the entity's loaded CFDIs with "Generar factura"."""
    entity = _entity(request, entity_id)
    if request.method == "POST":
        xml = request.FILES.get("xml")
        if xml is None:
            messages.error(request, "Seleccione el archivo XML.")
        else:
            try:
                external = load_external_cfdi(
                    entity=entity, xml=xml.read(), pdf=request.FILES.get("pdf"), user=request.user
                )
            except DomainError as exc:
                messages.error(request, exc.message)
            else:
                messages.success(request, f"Se cargó el CFDI {external.uuid}.")
        return redirect("sales:xml-list", entity_id=entity.pk)
    externals = ExternalCfdi.objects.filter(entity=entity).select_related("invoice").defer("xml")[:200]
    return render(request, "sales/xml_list.html", {"entity": entity, "externals": externals})


@login_required
@require_POST
def external_build(request, entity_id: int, external_id: int):
    entity = _entity(request, entity_id)
    external = get_object_or_404(ExternalCfdi, pk=external_id, entity=entity)
    try:
        template = build_xml_invoice(external=external, user=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("sales:xml-list", entity_id=entity.pk)
    return redirect("sales:xml-template", template_id=template.pk)


@login_required
def template_view(request, template_id: int):
    """The seed's template: codes are typed per line; "Actualizar" runs the concordance again;
    "Aceptar" adds the invoice (a contado one is collected in the chosen cash or bank account)."""
    companies = companies_with_perm(request.user, PERM)
    template = get_object_or_404(XmlInvoice.objects.filter(company__in=companies), pk=template_id)
    entity = template.external.entity
    if request.method == "POST":
        positions = [int(p) for p in request.POST.getlist("position")]
        try:
            update_xml_invoice(
                template=template,
                codes={p: request.POST.get(f"code-{p}", "").strip() for p in positions},
                reference=request.POST.get("reference", template.reference),
            )
            if request.POST.get("action") == "aceptar":
                invoice = accept_xml_invoice(
                    template=template, collections=_collections(request, entity), user=request.user
                )
                messages.success(
                    request, f"Se agregó la {invoice}, enlazada al CFDI {template.external.uuid}."
                )
                return redirect("sales:invoice-list-entity", entity_id=entity.pk)
        except DomainError as exc:
            messages.error(request, exc.message)
        return redirect("sales:xml-template", template_id=template.pk)
    if template.invoice_id:
        raise Http404("La plantilla ya se agregó como factura.")
    return render(
        request,
        "sales/xml_template.html",
        {
            "template": template,
            "entity": entity,
            "view": XmlInvoiceSerializer(template).data,
            "cash_accounts": entity.cash_accounts.filter(active=True).select_related("currency"),
            "methods": PaymentMethod.choices,
        },
    )


def _collections(request, entity) -> list[Collection]:
    account_id = request.POST.get("account")
    if not account_id:
        return []
    account = get_object_or_404(entity.cash_accounts.filter(active=True), pk=account_id)
    return [
        Collection(
            account=account,
            amount=to_decimal(request.POST.get("amount") or "0"),
            method=request.POST.get("method") or PaymentMethod.CASH,
        )
    ]
