"""CSD upload: good ones are stored encrypted and shown without secrets; each bad kind is
refused with a clear Spanish message and nothing is stored, through the service and the API."""

import pytest
from django.db import connection

from cfdi import services
from cfdi.models import Csd
from cfdi.testing_csd import generate_test_certificate
from erp.errors import DomainError
from tests.factories_cfdi import PASSWORD, cached_key, csd_files, expired_window, future_window

pytestmark = pytest.mark.django_db


def test_install_stores_key_and_password_encrypted(company):
    cer, key = csd_files(company.rfc)
    csd = services.install_csd(company=company, cer=cer, key=key, password=PASSWORD)
    assert len(csd.serial_number) == 20 and csd.serial_number.isdigit()
    assert csd.rfc == company.rfc and csd.active
    with connection.cursor() as cursor:
        cursor.execute("SELECT private_key, password FROM cfdi_csd WHERE id = %s", [csd.pk])
        raw_key, raw_password = cursor.fetchone()
    assert PASSWORD not in raw_password and raw_password.startswith("gAAAA")
    assert raw_key.startswith("gAAAA")
    csd.refresh_from_db()
    assert bytes(csd.private_key) == key and csd.password == PASSWORD


def test_a_new_csd_replaces_the_active_one(company):
    first = services.install_csd(
        company=company, cer=csd_files(company.rfc)[0], key=csd_files(company.rfc)[1], password=PASSWORD
    )
    cer, key = csd_files(company.rfc, key_name="second")
    second = services.install_csd(company=company, cer=cer, key=key, password=PASSWORD)
    first.refresh_from_db()
    assert (first.active, second.active) == (False, True)


def _fiel(company):
    from cryptography.hazmat.primitives import serialization

    from cfdi.testing_csd import key_der

    cert = generate_test_certificate(rfc=company.rfc, legal_name="X", key=cached_key(), fiel=True)
    return cert.public_bytes(serialization.Encoding.DER), key_der(cached_key(), PASSWORD)


BAD_UPLOADS = {
    "key_not_matching": (
        lambda c: (csd_files(c.rfc)[0], csd_files(c.rfc, key_name="other")[1], PASSWORD),
        "csd_llave_no_corresponde",
        "no corresponde al certificado",
    ),
    "wrong_password": (
        lambda c: (*csd_files(c.rfc), "otra-clave"),
        "csd_contrasena_incorrecta",
        "contraseña",
    ),
    "expired": (lambda c: (*csd_files(c.rfc, **expired_window()), PASSWORD), "csd_vencido", "venció"),
    "not_yet_valid": (
        lambda c: (*csd_files(c.rfc, **future_window()), PASSWORD),
        "csd_no_vigente",
        "aún no es vigente",
    ),
    "other_rfc": (lambda c: (*csd_files("AAA010101AAA"), PASSWORD), "csd_rfc_distinto", "AAA010101AAA"),
    "fiel": (lambda c: (*_fiel(c), PASSWORD), "csd_es_fiel", "e.firma"),
    "not_a_certificate": (
        lambda c: (b"hola", csd_files(c.rfc)[1], PASSWORD),
        "csd_certificado_invalido",
        ".cer",
    ),
    "not_a_key": (lambda c: (csd_files(c.rfc)[0], b"hola", PASSWORD), "csd_llave_invalida", ".key"),
}


@pytest.mark.parametrize("kind", sorted(BAD_UPLOADS))
def test_bad_upload_is_refused_by_the_service(company, kind):
    make, code, text = BAD_UPLOADS[kind]
    cer, key, password = make(company)
    with pytest.raises(DomainError) as error:
        services.install_csd(company=company, cer=cer, key=key, password=password)
    assert error.value.code == code
    assert text in error.value.message
    assert Csd.objects.count() == 0


@pytest.mark.parametrize("kind", sorted(BAD_UPLOADS))
def test_bad_upload_is_refused_by_the_api(company, accountant, api_as, kind):
    from django.core.files.uploadedfile import SimpleUploadedFile

    make, code, text = BAD_UPLOADS[kind]
    cer, key, password = make(company)
    response = api_as(accountant).post(
        "/api/cfdi/csds/",
        {
            "company": company.pk,
            "cer": SimpleUploadedFile("csd.cer", cer),
            "key": SimpleUploadedFile("csd.key", key),
            "password": password,
        },
        format="multipart",
    )
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["code"] == code and text in body["message"] and "details" in body
    assert password not in response.content.decode()
    assert Csd.objects.count() == 0


def test_upload_through_the_api_never_returns_secrets(company, accountant, api_as):
    from django.core.files.uploadedfile import SimpleUploadedFile

    cer, key = csd_files(company.rfc)
    client = api_as(accountant)
    response = client.post(
        "/api/cfdi/csds/",
        {
            "company": company.pk,
            "cer": SimpleUploadedFile("a.cer", cer),
            "key": SimpleUploadedFile("a.key", key),
            "password": PASSWORD,
        },
        format="multipart",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == {
        "id",
        "company",
        "serial_number",
        "rfc",
        "holder_name",
        "valid_from",
        "valid_to",
        "active",
        "uploaded_at",
    }
    listed = client.get("/api/cfdi/csds/").content.decode()
    detail = client.get(f"/api/cfdi/csds/{body['id']}/").content.decode()
    for text in (listed, detail, response.content.decode()):
        assert PASSWORD not in text and "private_key" not in text and "password" not in text


def test_cashier_cannot_upload_a_csd(company, cashier, api_as):
    from django.core.files.uploadedfile import SimpleUploadedFile

    cer, key = csd_files(company.rfc)
    response = api_as(cashier).post(
        "/api/cfdi/csds/",
        {
            "company": company.pk,
            "cer": SimpleUploadedFile("a.cer", cer),
            "key": SimpleUploadedFile("a.key", key),
            "password": PASSWORD,
        },
        format="multipart",
    )
    assert response.status_code == 403
    assert Csd.objects.count() == 0


def test_another_companys_csd_answers_404(company, other_company, api_as):
    from erp.models import Role
    from tests.factories import user_with_role

    cer, key = csd_files(other_company.rfc)
    foreign = services.install_csd(company=other_company, cer=cer, key=key, password=PASSWORD)
    client = api_as(user_with_role(company, Role.ACCOUNTANT))
    assert client.get(f"/api/cfdi/csds/{foreign.pk}/").status_code == 404
    assert client.get("/api/cfdi/csds/").json()["results"] == []


def test_admin_upload_form(company, admin_client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    cer, key = csd_files(company.rfc)
    bad = admin_client.post(
        "/admin/cfdi/csd/add/",
        {
            "company": company.pk,
            "cer": SimpleUploadedFile("a.cer", cer),
            "key": SimpleUploadedFile("a.key", key),
            "key_password": "mala",
        },
    )
    assert bad.status_code == 200
    assert "La contraseña de la llave privada (.key) es incorrecta." in bad.content.decode()
    assert Csd.objects.count() == 0
    good = admin_client.post(
        "/admin/cfdi/csd/add/",
        {
            "company": company.pk,
            "cer": SimpleUploadedFile("a.cer", cer),
            "key": SimpleUploadedFile("a.key", key),
            "key_password": PASSWORD,
        },
    )
    assert good.status_code == 302, good.content.decode()[:2000]
    csd = Csd.objects.get()
    page = admin_client.get(f"/admin/cfdi/csd/{csd.pk}/change/").content.decode()
    assert csd.serial_number in page and PASSWORD not in page
    assert admin_client.get("/admin/cfdi/csd/").status_code == 200
