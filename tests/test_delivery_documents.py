"""PDF, e-mail, downloads and cancellation of a stamped CFDI (sandbox PAC, no worker)."""

import io
import shutil
import subprocess
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.core.files.base import ContentFile
from django.utils import timezone
from PIL import Image

from cfdi import services
from cfdi.amount_words import amount_in_words
from cfdi.description import Related
from cfdi.models import CfdiDocument, CfdiSettings, SandboxStamp
from cfdi.pac.sandbox import receiver_answers
from cfdi.pdf import LOGO_URL, QR_URL, ImageFetcher, context_for
from erp.models import Role
from tests.factories import user_with_role
from tests.factories_cfdi import CUSTOMER, concept, description, install_test_csd, seed_invoice

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture
def stamped(company):
    install_test_csd(company)
    document = seed_invoice(company, receiver=replace(CUSTOMER, email="compras@ure.example.mx"))
    return services.issue_cfdi(company=company, document=document)


def pdf_text(content: bytes) -> str:
    if not shutil.which("pdftotext"):
        pytest.skip("pdftotext (poppler-utils) no está instalado")
    result = subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=content, capture_output=True, check=True
    )
    return result.stdout.decode("utf-8")


def pdf_images(content: bytes) -> list[tuple[int, int, int]]:
    """(page, width, height) of each image the PDF draws."""
    if not shutil.which("pdfimages"):
        pytest.skip("pdfimages (poppler-utils) no está instalado")
    listing = subprocess.run(["pdfimages", "-list", "-"], input=content, capture_output=True, check=True)
    rows = [line.split() for line in listing.stdout.decode().splitlines()[2:]]
    return [(int(row[0]), int(row[3]), int(row[4])) for row in rows]


# -- amounts in words -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "currency", "words"),
    [
        ("1160", "MXN", "MIL CIENTO SESENTA PESOS 00/100 M.N."),
        ("1160", "USD", "MIL CIENTO SESENTA DÓLARES 00/100 USD"),
        ("3654.00", "MXN", "TRES MIL SEISCIENTOS CINCUENTA Y CUATRO PESOS 00/100 M.N."),
        ("1", "MXN", "UN PESO 00/100 M.N."),
        ("0.5", "MXN", "CERO PESOS 50/100 M.N."),
        ("21.07", "MXN", "VEINTIÚN PESOS 07/100 M.N."),
        ("100", "MXN", "CIEN PESOS 00/100 M.N."),
        ("101000", "MXN", "CIENTO UN MIL PESOS 00/100 M.N."),
        ("1000000", "MXN", "UN MILLÓN DE PESOS 00/100 M.N."),
        ("2500321.999", "USD", "DOS MILLONES QUINIENTOS MIL TRESCIENTOS VEINTIDÓS DÓLARES 00/100 USD"),
    ],
)
def test_amount_in_words(amount, currency, words):
    assert amount_in_words(Decimal(amount), currency) == words


# -- PDF --------------------------------------------------------------------------------------


def test_the_pdf_shows_the_fiscal_data_of_the_stamped_xml(stamped, company):
    logo = io.BytesIO()
    Image.new("RGB", (120, 60), (18, 58, 99)).save(logo, format="PNG")
    options = CfdiSettings.objects.create(company=company)
    options.logo.save("logo.png", ContentFile(logo.getvalue()))

    document = services.render_cfdi_pdf(document=stamped)
    assert document.cfdi_column == "PDF"
    with document.pdf.open("rb") as handle:
        content = handle.read()
    assert content.startswith(b"%PDF-")
    text = " ".join(pdf_text(content).split())
    for expected in (
        "ESCUELA KEMPER URGATE", "EKU9003173C9", "601 - General de Ley Personas Morales", "C.P. 42501",
        "UNIVERSIDAD ROBOTICA ESPAÑOLA", "URE180429TM6", "G03 - Gastos en general", "FACTURA", "A1",
        "Producto de prueba", "11.50", "1,150.00", "2,000.00", "Subtotal 3,150.00", "IVA trasladado 16% 504.00",
        "Total MXN 3,654.00", "TRES MIL SEISCIENTOS CINCUENTA Y CUATRO PESOS 00/100 M.N.",
        "01 - Efectivo", "PUE - Pago en una sola exhibición", stamped.uuid, stamped.certificate_number,
        stamped.sat_certificate_number, "Sello digital del CFDI".upper(), "SELLO DIGITAL DEL SAT",
        "CADENA ORIGINAL DEL COMPLEMENTO DE CERTIFICACIÓN DIGITAL DEL SAT", f"||1.1|{stamped.uuid}|",
    ):  # fmt: skip
        assert expected in text, expected

    context = context_for(
        bytes(CfdiDocument.objects.get(pk=stamped.pk).xml), logo=logo.getvalue(), logo_name="l.png"
    )
    url = context["verify_url"]
    assert url.startswith("https://verificacfdi.facturaelectronica.sat.gob.mx/default.aspx?")
    assert f"id={stamped.uuid}" in url and "re=EKU9003173C9" in url and "rr=URE180429TM6" in url
    assert "tt=3654.00" in url and "&fe=" in url
    assert context["images"][context["logo"]] == (logo.getvalue(), "image/png")
    assert context["images"][context["qr"]][0].startswith(b"\x89PNG")
    logo_and_qr = pdf_images(content)
    assert (1, 120, 60) in logo_and_qr and len(logo_and_qr) == 2
    render_again = services.render_cfdi_pdf(document=stamped)
    assert render_again.pdf.name == document.pdf.name  # idempotent: kept, not rendered twice


def test_a_dollar_invoice_prints_its_amount_in_dollars(company):
    install_test_csd(company)
    from erp.models import Currency, ExchangeRate

    ExchangeRate.objects.create(
        company=company,
        currency=Currency.objects.get(code="USD"),
        date=timezone.localdate(),
        rate=Decimal("17.5"),
    )
    document = services.issue_cfdi(
        company=company,
        document=description(company, concept(1, "1000.00"), currency="USD", exchange_rate=Decimal("17.5")),
    )
    text = " ".join(pdf_text(services.pdf_bytes(document)).split())
    assert "MIL CIENTO SESENTA DÓLARES 00/100 USD" in text and "Tipo de cambio 17.5" in text


# -- downloads --------------------------------------------------------------------------------


def test_xml_and_pdf_download_from_the_api_and_the_admin(stamped, company, api_as, client):
    cashier = user_with_role(company, Role.CASHIER)
    api = api_as(cashier)
    xml = api.get(f"/api/cfdi/documents/{stamped.pk}/xml/")
    assert xml.status_code == 200 and xml.content == bytes(CfdiDocument.objects.get(pk=stamped.pk).xml)
    pdf = api.get(f"/api/cfdi/documents/{stamped.pk}/pdf/")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-")
    assert pdf["Content-Disposition"] == f'attachment; filename="{stamped.pdf_filename}"'
    assert (
        api.get(f"/api/cfdi/documents/{stamped.pk}/").json()["pdf_url"]
        == f"/api/cfdi/documents/{stamped.pk}/pdf/"
    )

    accountant = user_with_role(company, Role.ACCOUNTANT)
    accountant.is_staff = True
    accountant.save()
    client.force_login(accountant)
    page = client.get(f"/admin/cfdi/cfdidocument/{stamped.pk}/pdf/")
    assert page.status_code == 200 and page.content.startswith(b"%PDF-")
    assert (
        f"/admin/cfdi/cfdidocument/{stamped.pk}/pdf/"
        in client.get("/admin/cfdi/cfdidocument/").content.decode()
    )


# -- e-mail -----------------------------------------------------------------------------------


def test_send_mails_xml_and_pdf_in_spanish(stamped, company, api_as):
    response = api_as(user_with_role(company, Role.CASHIER)).post(
        f"/api/cfdi/documents/{stamped.pk}/send/", {}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert response.json()["emailed_to"] == "compras@ure.example.mx"
    (message,) = mail.outbox
    assert message.to == ["compras@ure.example.mx"]
    assert message.subject == "CFDI factura A1 de ESCUELA KEMPER URGATE"
    assert "Estimado cliente" in message.body and stamped.uuid in message.body
    assert [name for name, _, _ in message.attachments] == [stamped.filename, stamped.pdf_filename]

    assert services.send_cfdi(document=stamped).emailed_at  # the pipeline does not send twice
    assert len(mail.outbox) == 1


def test_a_receiver_without_email_gets_a_clear_message(company, api_as):
    install_test_csd(company)
    document = services.issue_cfdi(company=company, document=seed_invoice(company))
    response = api_as(user_with_role(company, Role.CASHIER)).post(
        f"/api/cfdi/documents/{document.pk}/send/", {}, format="json"
    )
    assert response.status_code == 409
    assert response.json()["code"] == "cliente_sin_correo"
    assert response.json()["message"] == services.NO_EMAIL_MESSAGE
    assert mail.outbox == []
    document.refresh_from_db()
    assert document.delivery_error == services.NO_EMAIL_MESSAGE and document.emailed_at is None


def test_mail_through_a_real_smtp_server(stamped, settings):
    from tests.factories_delivery import SmtpSink

    with SmtpSink() as smtp:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", smtp.port
        services.send_cfdi(document=stamped, to=["contabilidad@ure.example.mx"])
        (message,) = smtp.wait_for(1, timeout=10)
    assert message["To"] == "contabilidad@ure.example.mx"
    names = [part.get_filename() for part in message.iter_attachments()]
    assert names == [stamped.filename, stamped.pdf_filename]


def test_an_unreachable_mail_server_is_a_retryable_error(stamped, settings):
    from tests.factories_delivery import free_port

    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()
    with pytest.raises(services.MailUnavailable):
        services.send_cfdi(document=stamped)
    stamped.refresh_from_db()
    assert stamped.emailed_at is None and "servidor no disponible" in stamped.delivery_error


# -- cancellation -----------------------------------------------------------------------------


@pytest.mark.parametrize("motive", ["01", "02", "03", "04"])
def test_cancel_with_each_motive_through_the_sandbox_pac(stamped, company, api_as, motive):
    substitute = ""
    if motive == "01":
        # SAT accepts motive 01 only with a substitute that relates 04 to the cancelled CFDI.
        replacing = seed_invoice(company, folio="2", related=(Related("04", (stamped.uuid,)),))
        substitute = services.issue_cfdi(company=company, document=replacing).uuid
    xml_before = bytes(CfdiDocument.objects.get(pk=stamped.pk).xml)
    response = api_as(user_with_role(company, Role.ACCOUNTANT)).post(
        f"/api/cfdi/documents/{stamped.pk}/cancel/",
        {"motive": motive, "substitute_uuid": substitute},
        format="json",
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["cancellation_status"], body["cancellation_motive"], body["substitute_uuid"]) == (
        "accepted",
        motive,
        substitute,
    )
    document = CfdiDocument.objects.get(pk=stamped.pk)
    assert bytes(document.xml) == xml_before and document.status == "stamped"  # the legal record stays
    assert b"<EstatusUUID>201</EstatusUUID>" in bytes(document.cancellation_acuse)
    assert SandboxStamp.objects.get(uuid=stamped.uuid).cancellation_status == "accepted"
    again = services.cancel_cfdi(document=document, motive=motive, substitute_uuid=substitute)
    assert again.cancellation_status == "accepted"  # idempotent


def test_motive_01_without_substitute_is_refused_clearly(stamped, company, api_as):
    response = api_as(user_with_role(company, Role.ACCOUNTANT)).post(
        f"/api/cfdi/documents/{stamped.pk}/cancel/", {"motive": "01"}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["code"] == "cancelacion_sin_sustituto"
    assert "requiere el folio fiscal (UUID) del CFDI que sustituye" in response.json()["message"]
    stamped.refresh_from_db()
    assert stamped.cancellation_status == "" and stamped.cancellation_motive == ""
    assert SandboxStamp.objects.get(uuid=stamped.uuid).cancellation_status == ""


def test_a_cancellation_that_needs_the_receiver_is_tracked_until_answered(stamped):
    SandboxStamp.objects.filter(uuid=stamped.uuid).update(stamped_at=timezone.now() - timedelta(days=3))
    requested = services.cancel_cfdi(document=stamped, motive="02")
    assert requested.cancellation_status == "requested" and requested.cancellation_answered_at is None
    assert services.refresh_cancellation(document=requested).cancellation_status == "requested"

    receiver_answers(stamped.uuid, accept=False)
    rejected = services.refresh_cancellation(document=requested)
    assert rejected.cancellation_status == "rejected" and rejected.cancellation_answered_at

    again = services.cancel_cfdi(document=rejected, motive="03")  # asked again after a rejection
    assert again.cancellation_status == "requested"
    receiver_answers(stamped.uuid, accept=True)
    assert services.refresh_cancellation(document=again).cancellation_status == "accepted"


def test_a_sealed_cfdi_cannot_be_cancelled(company):
    install_test_csd(company)
    sealed = services.seal_cfdi(company=company, document=seed_invoice(company))
    with pytest.raises(services.DomainError) as refused:
        services.cancel_cfdi(document=sealed, motive="02")
    assert refused.value.code == "cfdi_sin_timbre"


def test_a_cancelled_cfdi_is_reprinted_as_cancelado(stamped):
    printed = services.render_cfdi_pdf(document=stamped)
    with printed.pdf.open("rb") as handle:
        assert "CANCELADO" not in pdf_text(handle.read())
    cancelled = services.cancel_cfdi(document=printed, motive="03")
    with cancelled.pdf.open("rb") as handle:
        assert "CANCELADO" in pdf_text(handle.read())


def test_a_lost_logo_file_does_not_stop_the_pdf(stamped, company):
    options = CfdiSettings.objects.create(company=company)
    CfdiSettings.objects.filter(pk=options.pk).update(logo="cfdi/logos/lost.png")
    assert services.pdf_bytes(stamped).startswith(b"%PDF-")


def test_the_pdf_fetches_only_its_own_images():
    fetcher = ImageFetcher({QR_URL: (b"png", "image/png")})
    assert fetcher.fetch(QR_URL).read() == b"png"
    for address in ("file:///etc/passwd", "https://example.com/logo.png", LOGO_URL):
        with pytest.raises(ValueError):
            fetcher.fetch(address)


def test_the_periodic_task_follows_pending_cancellations(stamped):
    from cfdi.tasks import refresh_pending_cancellations_task

    SandboxStamp.objects.filter(uuid=stamped.uuid).update(stamped_at=timezone.now() - timedelta(days=3))
    services.cancel_cfdi(document=stamped, motive="02")
    receiver_answers(stamped.uuid, accept=True)
    assert refresh_pending_cancellations_task.apply().get() == 1  # eager, as in the embedded default
    stamped.refresh_from_db()
    assert stamped.cancellation_status == "accepted"
