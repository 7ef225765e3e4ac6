import pytest

from rules_core.errors import QuantityError
from rules_core.quantities import Money, Quantity, convert, parse_money, parse_quantity, to_base


@pytest.mark.parametrize("value, unit, lb", [(16, "oz", 1.0), (1, "kg", 2.20462262185), (1000, "g", 2.20462262185), (3, "lb", 3)])
def test_weights_convert_to_lb(value, unit, lb):
    assert to_base(value, unit) == pytest.approx(lb)


def test_lengths_convert_and_kinds_do_not_mix():
    assert convert(2.54, "cm", "in") == pytest.approx(1.0)
    with pytest.raises(QuantityError, match="cannot convert kg to in"):
        convert(1, "kg", "in")
    with pytest.raises(QuantityError, match="unknown unit 'stone'"):
        to_base(1, "stone")


def test_parse_quantity_and_money_reject_wrong_kinds_with_a_reason():
    assert parse_quantity({"value": 2, "unit": "kg"}, "weight") == Quantity(value=2, unit="kg")
    with pytest.raises(QuantityError, match="not a weight unit"):
        parse_quantity({"value": 2, "unit": "cm"}, "weight")
    with pytest.raises(QuantityError, match="expected a weight"):
        parse_quantity({"amount": 2, "currency": "USD"}, "weight")
    assert parse_money({"amount": 40, "currency": "CAD"}) == Money(amount=40, currency="CAD")
    with pytest.raises(QuantityError, match="unknown currency 'BTC'"):
        parse_money({"amount": 1, "currency": "BTC"})


def test_integral_values_serialise_as_integers_so_hashes_are_stable():
    assert Quantity(value=10.0, unit="lb").model_dump() == {"value": 10, "unit": "lb"}
    assert Money(amount=2.5, currency="USD").model_dump() == {"amount": 2.5, "currency": "USD"}
    assert str(Quantity(value=2.5, unit="kg")) == "2.5 kg" and str(Money(amount=1500, currency="USD")) == "1500 USD"
