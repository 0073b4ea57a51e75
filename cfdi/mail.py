"""The Spanish message that carries a CFDI's XML and PDF to the receiver."""

from django.conf import settings
from django.core.mail import EmailMessage
from django.template.loader import render_to_string


def split_addresses(value: str) -> list[str]:
    return [part.strip() for part in value.replace(";", ",").split(",") if part.strip()]


def cfdi_message(
    *, document, issuer_name: str, xml: bytes, pdf: bytes, to: list[str], note: str = ""
) -> EmailMessage:
    number = f"{document.series}{document.folio}" or str(document.pk)
    kind = "nota de crédito" if document.kind == "E" else "factura"
    body = render_to_string(
        "cfdi/email.txt",
        {
            "document": document,
            "number": number,
            "kind": kind,
            "issuer_name": issuer_name,
            "note": note,
            "total": f"{document.total:,.2f}",
        },
    )
    # A header is one line: a name stored with a line break must not refuse the mail.
    subject = " ".join(f"CFDI {kind} {number} de {issuer_name}".split())
    message = EmailMessage(
        subject=subject,
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=to,
    )
    message.attach(document.filename, xml, "application/xml")
    message.attach(document.pdf_filename, pdf, "application/pdf")
    return message
