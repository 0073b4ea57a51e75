"""Trial balance of the demo chart after a few postings, against figures worked out by hand,
and the three SAT e-accounting exports validated against SAT's schemas."""

from datetime import date
from decimal import Decimal

import pytest
from lxml import etree

from accounting.sat_export import chart_of_accounts_xml, journal_entries_xml, schema_errors, trial_balance_xml
from accounting.selectors import month_bounds, trial_balance
from accounting.services import cancel_journal_entry, post_journal_entry
from erp.errors import DomainError
from tests.factories_ledgers import demo_chart

pytestmark = pytest.mark.django_db

D = Decimal
CHECK = {
    "kind": "check",
    "date": date(2026, 2, 3),
    "beneficiary": "PROVEEDORA DEL NORTE SA DE CV",
    "rfc": "URE180429TM6",
    "amount": 4000,
    "check_number": "1021",
    "origin_bank": "012",
    "origin_account": "0123456789",
}
TRANSFER = {
    "kind": "transfer",
    "date": date(2026, 2, 15),
    "beneficiary": "ESCUELA KEMPER URGATE",
    "rfc": "URE180429TM6",
    "amount": 2320,
    "origin_bank": "002",
    "origin_account": "99887766",
    "dest_bank": "012",
    "dest_account": "0123456789",
}
CASH = {"kind": "other", "date": date(2026, 2, 10), "beneficiary": "PUBLICO EN GENERAL", "rfc": "XAXX010101000",
        "amount": 1160, "method": "01"}  # fmt: skip


@pytest.fixture
def books(company):
    """January: capital paid into the bank. February: a purchase by check, a cash sale with its
    cost, a credit sale collected by transfer, and a cancelled entry. March: a later sale."""
    c = demo_chart(company)

    def post(kind, day, concept, lines):
        return post_journal_entry(company=company, kind=kind, date=day, concept=concept, lines=lines)

    post(
        "D",
        date(2026, 1, 2),
        "Aportación de capital",
        [{"account": c.bancos, "debit": 10000}, {"account": c.capital_social, "credit": 10000}],
    )
    post(
        "E",
        date(2026, 2, 3),
        "Compra de mercancía",
        [
            {"account": c.inventario, "debit": 4000},
            {"account": c.bancos, "credit": 4000, "payments": [CHECK]},
        ],
    )
    post(
        "I",
        date(2026, 2, 10),
        "Venta de contado",
        [
            {"account": c.caja, "debit": 1160, "payments": [CASH]},
            {"account": c.ventas, "credit": 1000},
            {"account": c.iva, "credit": 160},
        ],
    )
    post(
        "D",
        date(2026, 2, 10),
        "Costo de la venta",
        [{"account": c.costo_ventas, "debit": 600}, {"account": c.inventario, "credit": 600}],
    )
    post(
        "D",
        date(2026, 2, 15),
        "Venta a crédito",
        [
            {"account": c.clientes, "debit": 2320},
            {"account": c.ventas, "credit": 2000},
            {"account": c.iva, "credit": 320},
        ],
    )
    post(
        "I",
        date(2026, 2, 16),
        "Cobro de la venta a crédito",
        [
            {"account": c.bancos, "debit": 2320, "payments": [TRANSFER]},
            {"account": c.clientes, "credit": 2320},
        ],
    )
    cancelled = post(
        "I",
        date(2026, 2, 20),
        "Capturada por error",
        [{"account": c.caja, "debit": 999}, {"account": c.ventas, "credit": 999}],
    )
    cancel_journal_entry(entry=cancelled)
    post(
        "I",
        date(2026, 3, 1),
        "Venta de marzo",
        [{"account": c.caja, "debit": 50}, {"account": c.ventas, "credit": 50}],
    )
    return c  # fmt: skip


# code: (opening, debit, credit, closing), in each account's nature, worked out by hand
EXPECTED_FEBRUARY = {
    "100": (10000, 9800, 6920, 12880),
    "101": (10000, 3480, 4000, 9480),
    "101-01": (0, 1160, 0, 1160),
    "101-02": (10000, 2320, 4000, 8320),
    "105": (0, 2320, 2320, 0),
    "115": (0, 4000, 600, 3400),
    "200": (0, 0, 480, 480),
    "208": (0, 0, 480, 480),
    "300": (10000, 0, 0, 10000),
    "301": (10000, 0, 0, 10000),
    "400": (0, 0, 3000, 3000),
    "401": (0, 0, 3000, 3000),
    "500": (0, 600, 0, 600),
    "501": (0, 600, 0, 600),
}


def test_trial_balance_matches_hand_made_figures(company, books, django_assert_max_num_queries):
    with django_assert_max_num_queries(3):
        balance = trial_balance(company=company, date_from=date(2026, 2, 1), date_to=date(2026, 2, 28))
    figures = {r.code: (r.opening, r.debit, r.credit, r.closing) for r in balance.rows}
    assert figures == {code: tuple(D(v) for v in values) for code, values in EXPECTED_FEBRUARY.items()}
    assert {r.code: r.level for r in balance.rows}["101-02"] == 3
    assert balance.total_debit == balance.total_credit == D("10400")  # 4000 + 1160 + 600 + 2320 + 2320
    assert balance.opening_debit_balances == balance.opening_credit_balances == D("10000")
    assert balance.closing_debit_balances == balance.closing_credit_balances == D("13480")
    assert balance.balances


def test_trial_balance_of_a_whole_quarter_includes_march(company, books):
    balance = trial_balance(company=company, date_from=date(2026, 1, 1), date_to=date(2026, 3, 31))
    caja = next(r for r in balance.rows if r.code == "101-01")
    assert (caja.opening, caja.debit, caja.closing) == (D(0), D(1210), D(1210))
    assert balance.balances


def _root(xml: bytes):
    return etree.fromstring(xml)


def test_chart_of_accounts_xml_validates_against_sat_schema(company, books):
    xml = chart_of_accounts_xml(company=company, year=2026, month=2)
    assert schema_errors(xml, "catalogo") == []
    root = _root(xml)
    ctas = {c.get("NumCta"): c for c in root}
    assert root.get("RFC") == company.rfc and root.get("Mes") == "02" and root.get("Version") == "1.3"
    assert (ctas["101-02"].get("Nivel"), ctas["101-02"].get("SubCtaDe"), ctas["101-02"].get("CodAgrup")) == (
        "3",
        "101",
        "102.01",
    )
    assert ctas["401"].get("Natur") == "A"
    assert len(ctas) == 14


def test_trial_balance_xml_validates_against_sat_schema(company, books):
    xml = trial_balance_xml(company=company, year=2026, month=2)
    assert schema_errors(xml, "balanza") == []
    ctas = {c.get("NumCta"): c for c in _root(xml)}
    bancos = ctas["101-02"]
    assert [D(bancos.get(k)) for k in ("SaldoIni", "Debe", "Haber", "SaldoFin")] == [
        D(10000),
        D(2320),
        D(4000),
        D(8320),
    ]
    assert _root(xml).get("TipoEnvio") == "N"


def test_journal_entries_xml_validates_against_sat_schema(company, books):
    xml = journal_entries_xml(
        company=company, year=2026, month=2, request_type="AF", order_number="ABC6912345/12"
    )
    assert schema_errors(xml, "polizas") == []
    ns = {"PLZ": "http://www.sat.gob.mx/esquemas/ContabilidadE/1_3/PolizasPeriodo"}
    root = _root(xml)
    polizas = root.findall("PLZ:Poliza", ns)
    assert [p.get("NumUnIdenPol") for p in polizas] == [
        "E-1",
        "D-1",
        "I-1",
        "D-2",
        "I-2",
    ]  # I-3 was cancelled
    assert root.find(".//PLZ:Cheque", ns).get("Num") == "1021"
    assert root.find(".//PLZ:Transferencia", ns).get("BancoOriNal") == "002"
    assert root.find(".//PLZ:OtrMetodoPago", ns).get("MetPagoPol") == "01"


def test_schema_check_catches_an_invalid_document(company, books):
    xml = trial_balance_xml(company=company, year=2026, month=2).replace(b'TipoEnvio="N"', b'TipoEnvio="X"')
    assert schema_errors(xml, "balanza")


def test_entries_export_needs_the_order_number_for_af(company, books):
    with pytest.raises(DomainError) as error:
        journal_entries_xml(company=company, year=2026, month=2, request_type="AF")
    assert error.value.code == "tipo_solicitud_invalido"


def test_month_bounds():
    assert month_bounds(2028, 2) == (date(2028, 2, 1), date(2028, 2, 29))
