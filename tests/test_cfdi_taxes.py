"""erp.taxes: the one calculation, checked against the seed's worked example and SAT's rounding."""

from decimal import Decimal as D

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from erp.errors import DomainError
from erp.taxes import CUOTA, EXENTO, IEPS, IVA, LineInput, compute_document, compute_line, rate_from_percent


def test_seed_worked_example_totals_3654():
    totals = compute_document(
        [
            LineInput(quantity=D("100"), unit_price=D("11.50"), iva_rate=D("16")),
            LineInput(quantity=D("200"), unit_price=D("10.00"), iva_rate=D("16")),
        ]
    )
    assert (totals.importe, totals.discount, totals.subtotal) == (D("3150.00"), D("0.00"), D("3150.00"))
    assert totals.iva == D("504.00")
    assert (totals.ieps, totals.retained_iva, totals.retained_isr) == (0, 0, 0)
    assert totals.total == D("3654.00")
    assert [line.iva for line in totals.lines] == [D("184.00"), D("320.00")]
    (row,) = totals.transferred
    assert (row.tax, row.rate, row.base, row.amount) == (IVA, D("0.160000"), D("3150.00"), D("504.00"))


def test_seed_partial_return_example():
    totals = compute_document([LineInput(quantity=D("100"), unit_price=D("10.00"), iva_rate=D("16"))])
    assert (totals.subtotal, totals.iva, totals.total) == (D("1000.00"), D("160.00"), D("1160.00"))


def test_iva_base_includes_ieps():
    line = compute_line(LineInput(quantity=D("1"), unit_price=D("100"), ieps_rate=D("8"), iva_rate=D("16")))
    assert line.ieps == D("8.00")
    iva = next(t for t in line.transferred if t.tax == IVA)
    assert iva.base == D("108.00") and iva.amount == D("17.28")
    ieps = next(t for t in line.transferred if t.tax == IEPS)
    assert ieps.base == D("100.00")


def test_discount_reduces_base_and_subtotal():
    totals = compute_document(
        [LineInput(quantity=D("3"), unit_price=D("33.333333"), discount=D("10"), iva_rate=D("16"))]
    )
    assert totals.importe == D("100.00")
    assert totals.discount == D("10.00")
    assert totals.subtotal == D("90.00")
    assert totals.iva == D("14.40")
    assert totals.total == D("104.40")


def test_retentions_and_exempt():
    totals = compute_document(
        [
            LineInput(
                quantity=D("1"),
                unit_price=D("1000"),
                iva_rate=D("16"),
                retained_iva_rate=D("10.6667"),
                retained_isr_rate=D("10"),
            ),
            LineInput(quantity=D("2"), unit_price=D("50"), iva_exempt=True),
            LineInput(quantity=D("1"), unit_price=D("10")),
        ]
    )
    assert totals.retained_iva == D("106.67") and totals.retained_isr == D("100.00")
    assert totals.total == D("1110.00") + D("160.00") - D("206.67")
    exempt = next(t for t in totals.transferred if t.factor == EXENTO)
    assert exempt.base == D("100.00") and exempt.amount is None and exempt.rate is None
    assert totals.total_transferred == D("160.00")
    assert totals.total_withheld == D("206.67")
    assert [line.objeto_imp for line in totals.lines] == ["02", "02", "01"]


def test_rate_from_percent_has_six_decimals():
    assert str(rate_from_percent(D("16"))) == "0.160000"
    assert str(rate_from_percent(D("10.6667"))) == "0.106667"


def test_rounds_half_up():
    assert compute_line(LineInput(quantity=D("1"), unit_price=D("0.125"))).importe == D("0.13")
    assert compute_line(LineInput(quantity=D("3"), unit_price=D("0.125"))).importe == D("0.38")
    assert compute_line(LineInput(quantity=D("1"), unit_price=D("0.25"), iva_rate=D("10"))).iva == D("0.03")


@pytest.mark.parametrize(
    "quantities, base",
    [
        (["12.345"], "12.35"),  # the GASOL sale SAT refused (CFDI40215) when the summary said 12.34
        (["0.001"], "0.00"),
        (["999.999"], "1000.00"),
        (["3.3333", "3.3333"], "6.67"),  # rounded once, over the sum (6.6666), not per line
        (["0.125", "0.125"], "0.25"),
        (["2.675"], "2.68"),  # half up, not half even
    ],
)
def test_ieps_quota_summary_base_is_the_rounded_sum_of_the_quantities(quantities, base):
    totals = compute_document(
        LineInput(quantity=D(q), unit_price=D("23.50"), iva_rate=D("16"), ieps_quota=D("6.4555"))
        for q in quantities
    )
    (cuota,) = [t for t in totals.transferred if t.factor == CUOTA]
    assert (str(cuota.base), cuota.rate) == (base, D("6.455500"))
    assert [line.transferred[1].base for line in totals.lines] == [D(q) for q in quantities]
    assert cuota.amount == sum(line.ieps for line in totals.lines)


@pytest.mark.parametrize(
    "line",
    [
        LineInput(quantity=D("0"), unit_price=D("1")),
        LineInput(quantity=D("1"), unit_price=D("-1")),
        LineInput(quantity=D("1"), unit_price=D("10"), discount=D("10.01")),
    ],
)
def test_bad_lines_are_refused(line):
    with pytest.raises(DomainError):
        compute_line(line)


def test_floats_are_refused():
    with pytest.raises(TypeError):
        compute_line(LineInput(quantity=1.5, unit_price=D("1")))


amounts = st.decimals(min_value=D("0.000001"), max_value=D("99999.999999"), places=6)
rates = st.sampled_from([None, D("0"), D("8"), D("16")])


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(amounts, amounts, rates, st.sampled_from([D("0"), D("8"), D("26.5")])),
        min_size=1,
        max_size=8,
    )
)
def test_totals_are_the_sum_of_rounded_lines(rows):
    totals = compute_document(
        LineInput(quantity=q, unit_price=p, iva_rate=r, ieps_rate=e) for q, p, r, e in rows
    )
    assert totals.importe == sum(line.importe for line in totals.lines)
    assert (
        totals.total == totals.subtotal + totals.iva + totals.ieps - totals.retained_iva - totals.retained_isr
    )
    for row in totals.transferred:
        assert row.amount is None or row.amount.as_tuple().exponent == -2
    assert totals.total.as_tuple().exponent == -2
