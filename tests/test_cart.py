"""Carts: per conversation, priced from the catalog, shipping per STORE.md, bad input changes nothing."""
import pytest

from assistant.store import cart as carts
from assistant.store.db import open_store


@pytest.fixture
def store(tmp_path):
    return open_store(tmp_path / "store.db")


@pytest.fixture
def catalog(demo_catalog):
    from assistant.catalog.build import open_catalog

    return open_catalog(demo_catalog)


def _cheap_and_dear(catalog):
    cheap = catalog.execute("SELECT id, final_price FROM products WHERE final_price < 20 ORDER BY id LIMIT 1").fetchone()
    dear = catalog.execute("SELECT id, final_price FROM products WHERE final_price > 60 ORDER BY id LIMIT 1").fetchone()
    return cheap, dear


def test_carts_are_separate_per_conversation(store, catalog):
    cheap, _ = _cheap_and_dear(catalog)
    carts.add_item(store, "alice", cheap[0], quantity=2)
    assert carts.load_cart(store, catalog, "bob").lines == []
    assert carts.load_cart(store, catalog, "alice").item_count == 2


def test_shipping_is_free_from_fifty_dollars(store, catalog):
    cheap, dear = _cheap_and_dear(catalog)
    carts.add_item(store, "c1", cheap[0])
    small = carts.load_cart(store, catalog, "c1")
    assert small.shipping == 4.99
    assert small.to_free_shipping == pytest.approx(50 - cheap[1], abs=0.01)
    carts.add_item(store, "c1", dear[0])
    assert carts.load_cart(store, catalog, "c1").shipping == 0.0


def test_adding_again_increases_quantity_and_remove_clears(store, catalog):
    cheap, _ = _cheap_and_dear(catalog)
    carts.add_item(store, "c2", cheap[0])
    carts.add_item(store, "c2", cheap[0], quantity=3)
    cart = carts.load_cart(store, catalog, "c2")
    assert [(l.product_id, l.quantity) for l in cart.lines] == [(cheap[0], 4)]
    assert cart.subtotal == pytest.approx(round(cheap[1] * 4, 2))
    assert carts.remove_item(store, "c2", cheap[0]) == 1
    assert carts.load_cart(store, catalog, "c2").lines == []


@pytest.mark.parametrize("quantity", [0, -1, 21, 10**9])
def test_bad_quantities_are_refused_and_change_nothing(store, catalog, quantity):
    cheap, _ = _cheap_and_dear(catalog)
    carts.add_item(store, "c3", cheap[0])
    with pytest.raises(carts.CartError):
        carts.add_item(store, "c3", cheap[0], quantity=quantity)
    assert carts.load_cart(store, catalog, "c3").item_count == 1


def test_cart_survives_reopening_the_store(tmp_path, catalog):
    cheap, _ = _cheap_and_dear(catalog)
    carts.add_item(open_store(tmp_path / "s.db"), "c4", cheap[0])
    assert carts.load_cart(open_store(tmp_path / "s.db"), catalog, "c4").item_count == 1


def test_vanished_products_drop_out_of_the_cart(store, catalog):
    carts.add_item(store, "c5", "HL-NOT-A-PRODUCT")
    assert carts.load_cart(store, catalog, "c5").lines == []


@pytest.mark.parametrize("value, expected", [("3", 3), (2.0, 2), ("two", 2), ("Twenty", 20), ("-1", None),
                                             ("1.5", None), ("lots", None), (None, None)])
def test_quantities_in_digits_or_words(value, expected):
    assert carts.parse_quantity(value) == expected


def test_set_quantity_changes_one_line_and_zero_removes_it(store, catalog):
    cheap, dear = _cheap_and_dear(catalog)
    carts.add_item(store, "c9", cheap[0])
    carts.add_item(store, "c9", dear[0])
    carts.set_quantity(store, "c9", cheap[0], "", 4)
    assert {l.product_id: l.quantity for l in carts.load_cart(store, catalog, "c9").lines} == {cheap[0]: 4, dear[0]: 1}
    with pytest.raises(carts.CartError):
        carts.set_quantity(store, "c9", cheap[0], "", carts.MAX_QUANTITY + 1)
    carts.set_quantity(store, "c9", cheap[0], "", 0)
    assert [l.product_id for l in carts.load_cart(store, catalog, "c9").lines] == [dear[0]]
