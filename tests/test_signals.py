"""Signals from the raw text (assistant/nlu/signals.py): shouting, messages over the length limit, other languages."""
from __future__ import annotations

import pytest

from assistant.nlu.signals import MAX_MESSAGE_CHARS, foreign_language, shouting, too_long


@pytest.mark.parametrize("text", ["THIS IS USELESS!!!", "WHERE IS MY ORDER!", "I NEED HELP NOW!",
                                  "WHY WON'T YOU LISTEN?!"])
def test_capitals_with_an_exclamation_are_shouting(text):
    assert shouting(text)


@pytest.mark.parametrize("text", ["WHERE IS MY ORDER", "red shoes size XL!", "Hi there!", "NIKE!", "OK OK!",
                                  "🔥🔥🔥!!!", "", "12345 67890 !!!", "Size XXL Jeans In Blue!"])
def test_capitals_alone_a_short_burst_or_title_case_are_not(text):
    assert not shouting(text)


def test_the_length_limit():
    assert not too_long("a" * MAX_MESSAGE_CHARS) and too_long("a" * (MAX_MESSAGE_CHARS + 1))
    assert not too_long("") and not too_long(None)


@pytest.mark.parametrize("text, language", [
    ("¿Dónde está mi pedido?", "es"), ("quiero devolver unos zapatos", "es"), ("gracias", "es"),
    ("je voudrais retourner des chaussures", "fr"), ("Où est ma commande ?", "fr"), ("merci beaucoup", "fr"),
    ("Wo ist meine Bestellung?", "de"), ("onde está meu pedido?", "pt"), ("dove è il mio ordine?", "it"),
])
def test_a_message_plainly_in_another_language_is_named(text, language):
    assert foreign_language(text) == language


@pytest.mark.parametrize("text", [
    "where is my order", "do you have La Sportiva boots?", "Le Creuset dutch oven", "I want a tent para 2 people",
    "de la Vega jacket in size M", "mi band 8 strap", "hola", "la la la", "I need una talla mas grande",
    "thanks gracias", "", None, "🔥🔥🔥", "HL-123456",
])
def test_english_brand_names_and_a_stray_foreign_word_are_not(text):
    assert foreign_language(text) is None
