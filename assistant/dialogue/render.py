"""Turn products, carts and comparisons into shopper-facing text plus a machine-readable payload.

Every reply that shows products carries a `custom` payload (type, product ids and key fields) so channels can
draw cards and tests can check results against the catalog. Text stays readable on its own (rasa shell).
"""
from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from typing import Any

from assistant.search.query import weight_words
from assistant.store.cart import Cart
from assistant.store.handoff import CLOSES, OPENS, SUPPORT_EMAIL, SUPPORT_HOURS

_UNITS = {
    "g": "g", "kg": "kg", "h": "hours", "l": "L", "ml": "ml", "oz": "oz", "in": "in", "mm": "mm", "ft": "ft",
    "f": "°F", "atm": "ATM", "days": "days", "persons": "people", "cups": "cups", "w": "W",
}


# Replies to a message the assistant could place nowhere (the NLU fell back) or recognised as off-topic, used when
# the store's knowledge has nothing for it either.
NOT_UNDERSTOOD = ("Sorry, I didn't catch that. You can ask me things like \"red running shoes under $80 in size 10\", "
                  "\"what's in my cart?\" or \"what is your return policy?\". Say \"human\" to reach our team.")
OUT_OF_SCOPE = ("Sorry, that's outside what I can help with. I can find products, compare them, manage your cart and "
                "answer questions about our store's shipping, returns and other policies. Say \"human\" to reach "
                "our team.")
# To a message in another language (assistant.nlu.signals.foreign_language): English first, then the same in the
# shopper's language, so that they know where they stand and where a person can help.
ONLY_ENGLISH = {
    "en": f"Sorry, I can only chat in English for now. Our support team can help, {SUPPORT_HOURS}, or by email at "
          f"{SUPPORT_EMAIL}: say \"human\" and I'll hand you over.",
    "es": f"Lo siento, por ahora solo puedo atender en inglés. Nuestro equipo de soporte atiende de lunes a viernes, "
          f"de {OPENS} a {CLOSES} h (hora del Este), o por correo en {SUPPORT_EMAIL}.",
    "fr": f"Désolé, pour l'instant je ne peux répondre qu'en anglais. Notre équipe répond du lundi au vendredi, de "
          f"{OPENS} h à {CLOSES} h (heure de l'Est), ou par courriel à {SUPPORT_EMAIL}.",
    "de": f"Entschuldigung, ich kann im Moment nur auf Englisch helfen. Unser Support-Team ist Montag bis Freitag von "
          f"{OPENS} bis {CLOSES} Uhr (Eastern Time) erreichbar, oder per E-Mail an {SUPPORT_EMAIL}.",
    "pt": f"Desculpe, por enquanto só consigo atender em inglês. Nossa equipe de suporte atende de segunda a sexta, "
          f"das {OPENS}h às {CLOSES}h (horário do Leste), ou pelo e-mail {SUPPORT_EMAIL}.",
    "it": f"Mi dispiace, per ora posso rispondere solo in inglese. Il nostro team di assistenza risponde dal lunedì al "
          f"venerdì, dalle {OPENS} alle {CLOSES} (ora della costa est), o via email a {SUPPORT_EMAIL}.",
}


def only_english(language: str) -> str:
    """The reply to a message in `language` (ISO 639-1): the English sentence, and its translation when we have one."""
    return "\n\n".join(dict.fromkeys([ONLY_ENGLISH["en"], ONLY_ENGLISH.get(language, ONLY_ENGLISH["en"])]))


# Quick replies under answers and recommendations; the payload skips the NLU (Rasa parses "/intent{...}").
FEEDBACK_BUTTONS = [{"title": "👍 Helpful", "payload": '/feedback{"feedback": "up"}'},
                    {"title": "👎 Not helpful", "payload": '/feedback{"feedback": "down"}'}]


def the(title: str) -> str:
    """ "the Merrell Moab", but not "the The North Face Venture"."""
    return title if title.lower().startswith("the ") else f"the {title}"


def money(amount: float) -> str:
    return f"${amount:,.2f}"


def price_text(product: dict) -> str:
    if product.get("sale_price") is not None:
        return f"{money(product['sale_price'])} (was {money(product['price'])})"
    return money(product["final_price"])


def rating_text(product: dict) -> str:
    if not product.get("rating"):
        return "no reviews yet"
    return f"★{product['rating']:.1f} ({product.get('review_count', 0)} reviews)"


_SPELLED = {"spf": "SPF", "gps": "GPS", "magsafe": "MagSafe"}  # spec words written the way shoppers see them


def spec_label(key: str) -> str:
    """`battery_life_h` -> "battery life"; the unit goes with the value."""
    head, _, unit = key.rpartition("_")
    return " ".join(_SPELLED.get(w, w) for w in (head if head and unit in _UNITS else key).split("_"))


def spec_value(key: str, value: Any) -> str:
    unit = _UNITS.get(key.rpartition("_")[2], "") if "_" in key else ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if unit == "people" and value == 1:
        unit = "person"
    return f"{value} {unit}".strip()


def spec_text(key: str, value: Any) -> str:
    return f"{spec_label(key)}: {spec_value(key, value)}"


def key_specs(product: dict, limit: int = 3) -> list[str]:
    return [spec_text(k, v) for k, v in list((product.get("specs") or {}).items())[:limit]]


def product_line(index: int, product: dict, reason: str = "") -> str:
    line = f"{index}. {product['title']} ({product['brand']}) - {price_text(product)}, {rating_text(product)}"
    return f"{line}\n   {reason}" if reason else line


def product_card(product: dict, reason: str = "") -> dict:
    return {
        "id": product["id"],
        "title": product["title"],
        "brand": product["brand"],
        "category": product["category"],
        "price": product["price"],
        "sale_price": product.get("sale_price"),
        "final_price": product["final_price"],
        "rating": product.get("rating"),
        "review_count": product.get("review_count", 0),
        "image_url": product.get("image_url"),
        "reason": reason,
        "buttons": [
            {"title": "Details", "payload": f'/product_details{{"product_id": "{product["id"]}"}}'},
            {"title": "Add to cart", "payload": f'/add_to_cart{{"product_id": "{product["id"]}"}}'},
            {"title": "Similar", "payload": f'/recommend{{"product_id": "{product["id"]}"}}'},
        ],
    }


def product_list(products: Sequence[dict], reasons: Sequence[str], *, heading: str,
                 query: dict | None = None, offset: int = 0, total: int | None = None) -> tuple[str, dict]:
    lines = [heading] + [product_line(offset + i + 1, p, r) for i, (p, r) in enumerate(zip(products, reasons))]
    payload = {
        "type": "product_list",
        "query": query or {},
        "offset": offset,
        "total": total if total is not None else len(products),
        "products": [product_card(p, r) for p, r in zip(products, reasons)],
    }
    return "\n".join(lines), payload


def _marked(values: Sequence[str], sold_out: Collection[str]) -> str:
    return ", ".join(f"{v} (sold out)" if v in sold_out else v for v in values)


def product_details(product: dict, sold_out_colors: Collection[str] = (),
                    sold_out_sizes: Collection[str] = ()) -> tuple[str, dict]:
    """The product in full; colours and sizes with no stock left are marked, so "add it" picking the one in stock
    comes as no surprise."""
    parts = [f"{product['title']} by {product['brand']} - {price_text(product)}, {rating_text(product)}."]
    if product.get("description"):
        parts.append(product["description"])
    if product.get("colors"):
        parts.append("Colours: " + _marked(product["colors"], sold_out_colors) + ".")
    if product.get("sizes"):
        parts.append("Sizes: " + _marked(product["sizes"], sold_out_sizes) + ".")
    specs = [spec_text(k, v) for k, v in (product.get("specs") or {}).items()]
    if specs:
        parts.append("Specs: " + "; ".join(specs) + ".")
    stock = product.get("stock", 0)
    parts.append("In stock." if stock > 0 else "Currently out of stock.")
    return "\n".join(parts), {"type": "product_details", "products": [product_card(product)]}


def weight_g(product: dict) -> float | None:
    specs = product.get("specs") or {}
    if specs.get("weight_g") is not None:
        return float(specs["weight_g"])
    return float(specs["weight_kg"]) * 1000 if specs.get("weight_kg") is not None else None


def comparison(products: Sequence[dict]) -> tuple[str, dict]:
    """Side by side on price, rating and the specs the products share."""
    shared = [k for k in (products[0].get("specs") or {}) if all(k in (p.get("specs") or {}) for p in products)]
    lines = ["Here's how they compare:"]
    for i, p in enumerate(products, 1):
        specs = "; ".join(spec_text(k, p["specs"][k]) for k in shared[:5])
        lines.append(f"{i}. {p['title']}: {price_text(p)}, {rating_text(p)}" + (f"; {specs}" if specs else ""))
    cheapest = min(products, key=lambda p: p["final_price"])
    lines.append(f"Cheapest: {cheapest['title']}.")
    rated = [p for p in products if p.get("rating")]
    if rated:
        best = max(rated, key=lambda p: (p["rating"], p.get("review_count", 0)))
        lines.append(f"Best rated: {best['title']} ({best['rating']:.1f}).")
    weighed = [p for p in products if weight_g(p) is not None]
    if len(weighed) == len(products):  # "which is lighter?" is answered here, as "which is cheaper?" is
        lightest = min(weighed, key=weight_g)
        lines.append(f"Lightest: {lightest['title']}.")
    payload = {"type": "comparison", "products": [product_card(p) for p in products], "specs": shared}
    return "\n".join(lines), payload


# The figure a comparison was decided on, by the word for the one it picks (references._EXTREMES).
_VERDICT_FIGURES: dict[str, Callable[[dict], str]] = {
    "cheapest": lambda p: money(p["final_price"]),
    "most expensive": lambda p: money(p["final_price"]),
    "best rated": lambda p: f"{p.get('rating') or 0:.1f} stars",
    "lightest": lambda p: weight_words(weight_g(p)),
}


def verdict(word: str, products: Sequence[dict], winner_id: str) -> str:
    """One line answering "which one is cheaper / lighter / better rated?" of products already compared, with the
    figures it was decided on. `word` is the comparison's, a key of _VERDICT_FIGURES."""
    winner = next(p for p in products if p["id"] == winner_id)
    figure = _VERDICT_FIGURES[word]
    others = "; ".join(f"{p['title']}: {figure(p)}" for p in products if p["id"] != winner_id)
    return f"Of these, the {word} is {the(winner['title'])} at {figure(winner)} (against {others})."


def cart_summary(cart: Cart) -> tuple[str, dict]:
    if not cart.lines:
        return "Your cart is empty.", {"type": "cart", "lines": [], "subtotal": 0.0, "shipping": 0.0}
    lines = ["Your cart:"]
    for line in cart.lines:
        variant = ", ".join(v for v in (line.color, f"size {line.size}" if line.size else None) if v)
        lines.append(f"- {line.quantity} x {line.title}" + (f" ({variant})" if variant else "")
                     + f": {money(line.total)}")
    lines.append(f"Subtotal: {money(cart.subtotal)}")
    if cart.shipping:
        lines.append(f"Standard shipping: {money(cart.shipping)} - add {money(cart.to_free_shipping)} more "
                     "for free shipping.")
    else:
        lines.append("Standard shipping: free.")
    payload = {
        "type": "cart",
        "lines": [{"product_id": l.product_id, "title": l.title, "variant_sku": l.variant_sku, "color": l.color,
                   "size": l.size, "quantity": l.quantity, "unit_price": l.unit_price, "total": l.total}
                  for l in cart.lines],
        "subtotal": cart.subtotal,
        "shipping": cart.shipping,
        "to_free_shipping": cart.to_free_shipping,
    }
    return "\n".join(lines), payload
