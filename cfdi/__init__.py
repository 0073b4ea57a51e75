"""The fiscal document engine: CSD, CFDI 4.0 build, SAT rule check, seal, PAC stamp.

``cfdi`` knows nothing of sales. A caller describes a document with the dataclasses of
``cfdi.description`` and asks a service for a stored, stamped record::

    from cfdi import services
    from cfdi.description import Concept, FiscalDocument, Receiver

    document = FiscalDocument(
        issuer=services.issuer_for(company),
        receiver=Receiver.counter(company.postal_code),   # or Receiver(rfc, name, cp, regimen, uso)
        concepts=(Concept("01010101", "H87", "Producto A", Decimal("100"), Decimal("11.50")),),
        series="A", folio="1", credit=False, payment_form="01",
    )
    stamped = services.issue_cfdi(company=company, document=document,
                                  source_model="sales.invoice", source_id=invoice.pk)
    stamped.uuid, stamped.cfdi_column      # "…", "TFD"

Amounts are never part of the description: ``erp.taxes`` computes them from quantities, prices
and rates (in percent), the same module invoices use, so totals cannot disagree. Refusals are
``DomainError`` with a Spanish message; SAT rule findings come in ``details["findings"]``.

Modules: ``description`` (input), ``sat`` (satcfdi build, seal, XSD/XSLT cached per process),
``checker`` (SAT rules with codes), ``certificates`` (CSD checks, in-memory keys),
``pac`` (the PAC interface; ``pac.sandbox`` the default PAC), ``services``, ``selectors``,
``testing_csd`` (test CSDs in SAT's formats for demos and tests).
"""
