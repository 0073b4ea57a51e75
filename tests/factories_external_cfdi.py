"""CFDIs "stamped elsewhere" for the loading and build-from-XML tests: genuinely sealed with the
company's test CSD and stamped by the sandbox PAC, but never recorded as the project's own
(no CfdiDocument), as a CFDI issued through another provider with the same CSD would be."""

from decimal import Decimal as D

from cfdi import sat
from cfdi.certificates import signer_for
from cfdi.description import Concept
from cfdi.models import Csd
from cfdi.pac import get_pac
from tests.factories_cfdi import description


def product_a(quantity="10", price="13.50", description_="Producto A", **taxes) -> Concept:
    """The seed's concept: 10 PZA of "Producto A" at 13.50 with IVA 16% (21.60)."""
    return Concept("31161500", "H87", description_, D(quantity), D(price), unit="PZA", **taxes)


def stamped_elsewhere(company, *concepts, **fields) -> bytes:
    csd = Csd.objects.filter(company=company).order_by("-pk").first()
    comprobante, _ = sat.build_comprobante(
        description(company, *(concepts or (product_a(),)), series=fields.pop("series", "EXT"), **fields)
    )
    root = comprobante.to_xml()
    sat.seal_root(root, signer_for(csd))
    return get_pac("sandbox").stamp(sat.to_bytes(root)).xml
