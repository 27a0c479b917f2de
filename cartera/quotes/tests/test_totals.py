"""Quote arithmetic: exact Decimal, rounded per line and per total to the currency."""

from __future__ import annotations

from decimal import Decimal as D

from cartera.quotes.services import LineInput, compute_totals


def L(qty: str, price: str, disc: str = "0", tax: str = "0") -> LineInput:
    return LineInput(D(qty), D(price), D(disc), D(tax))


def test_simple_quote_with_21_percent_vat() -> None:
    totals = compute_totals([L("2", "100", tax="21"), L("1", "50", tax="21")], D("0"), "EUR")
    assert totals.subtotal == D("250.00")
    assert totals.discount_amount == D("0.00")
    assert totals.tax_amount == D("52.50")
    assert totals.total == D("302.50")


def test_line_net_rounds_half_up_per_line() -> None:
    # 1 x 0.005 -> 0.01 per line (not 0.015 -> 0.02 on the sum of three exact values).
    totals = compute_totals([L("1", "0.005")] * 3, D("0"), "EUR")
    assert [line.net_amount for line in totals.lines] == [D("0.01")] * 3
    assert totals.subtotal == D("0.03")
    # 3 x 1.675 = 5.025 -> 5.03 (half-up, never banker's 5.02)
    assert compute_totals([L("3", "1.675")], D("0"), "EUR").subtotal == D("5.03")


def test_line_discount_rounding() -> None:
    # 7 x 9.99 = 69.93; 12.5 % off = 61.18875 -> 61.19
    totals = compute_totals([L("7", "9.99", "12.5", "10")], D("0"), "EUR")
    assert totals.lines[0].net_amount == D("61.19")
    assert totals.tax_amount == D("6.12")  # 6.119 -> 6.12
    assert totals.total == D("67.31")


def test_quote_discount_spread_over_lines_for_tax_mixed_rates() -> None:
    lines = [
        L("1", "100", tax="21"),
        L("1", "100", tax="10"),
        L("1", "100", tax="4"),
        L("1", "100", tax="0"),
    ]
    totals = compute_totals(lines, D("10"), "EUR")
    assert totals.subtotal == D("400.00")
    assert totals.discount_amount == D("40.00")
    assert [line.allocated_discount for line in totals.lines] == [D("10.00")] * 4
    # 90 x (21 + 10 + 4 + 0) % = 31.50
    assert totals.tax_amount == D("31.50")
    assert totals.total == D("391.50")


def test_allocation_adds_up_exactly_when_it_does_not_divide() -> None:
    lines = [L("1", "10", tax="21")] * 3
    totals = compute_totals(lines, D("10"), "EUR")  # 3.00 spread over three lines of 10.00
    shares = [line.allocated_discount for line in totals.lines]
    assert sum(shares) == totals.discount_amount == D("3.00")
    odd = compute_totals([L("1", "0.01")] * 3, D("50"), "EUR")  # 0.03 -> 0.015 -> 0.02
    assert odd.discount_amount == D("0.02")
    assert sum(line.allocated_discount for line in odd.lines) == D("0.02")
    assert all(D("0") <= s <= D("0.01") for s in (line.allocated_discount for line in odd.lines))


def test_hundred_percent_discounts() -> None:
    totals = compute_totals([L("5", "99.99", "100", "21")], D("0"), "EUR")
    assert (totals.subtotal, totals.tax_amount, totals.total) == (D("0.00"), D("0.00"), D("0.00"))
    assert totals.effective_discount == D("100.00")
    whole = compute_totals([L("1", "100", tax="21")], D("100"), "EUR")
    assert whole.discount_amount == D("100.00")
    assert whole.tax_amount == D("0.00")
    assert whole.total == D("0.00")


def test_jpy_has_no_decimals() -> None:
    totals = compute_totals([L("3", "333.5", "0", "10"), L("1", "0.4", tax="10")], D("5"), "JPY")
    # 1000.5 -> 1001 ; 0.4 -> 0 ; discount 5 % of 1001 = 50.05 -> 50
    assert [line.net_amount for line in totals.lines] == [D("1001"), D("0")]
    assert totals.discount_amount == D("50")
    assert totals.tax_amount == D("95")  # (1001 - 50) x 10 % = 95.1 -> 95
    assert totals.total == D("1046")
    assert totals.total.as_tuple().exponent == 0


def test_many_lines_stay_exact() -> None:
    lines = [L("3", "0.333", "1.5", rate) for rate in ("21", "10", "4", "0") * 50]
    totals = compute_totals(lines, D("2.5"), "EUR")
    # each line: 0.999 x 0.985 = 0.984015 -> 0.98 ; 200 lines -> 196.00
    assert totals.subtotal == D("196.00")
    assert totals.discount_amount == D("4.90")
    assert sum(line.allocated_discount for line in totals.lines) == D("4.90")
    assert totals.tax_amount == sum(line.tax_amount for line in totals.lines)
    assert totals.total == totals.subtotal - totals.discount_amount + totals.tax_amount
    assert isinstance(totals.total, D)


def test_effective_discount_is_line_or_combined() -> None:
    # a 20 % line on a small part of the quote still counts as a 20 % discount
    lines = [L("1", "1000"), L("1", "10", "20")]
    assert compute_totals(lines, D("0"), "EUR").effective_discount == D("20.00")
    # 10 % on lines and 10 % on the quote = 19 % off overall
    assert compute_totals([L("1", "100", "10")], D("10"), "EUR").effective_discount == D("19.00")
    assert compute_totals([], D("50"), "EUR").total == D("0.00")
