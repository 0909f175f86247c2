"""One shopper turn at a time: the core behind every Rasa action, usable and testable without Rasa.

Actions pass in the message text, the NLU entities and the conversation state (slots); they get back a `Reply`
with the text, a machine-readable payload and the new state. Nothing here knows about Rasa.
"""
from __future__ import annotations

import dataclasses
import json
import re
from collections import Counter
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import sqlite_utils

from assistant.catalog.build import open_catalog
from assistant.catalog.vocabulary import BRAND_ALIASES, COLOR_SYNONYMS, category_aliases
from assistant.dialogue import product_qa, render
from assistant.dialogue.references import (about_the_shop, asks_about_one, asks_extreme, asks_superlative, extreme,
                                           names_by_title, pick_extreme, points_back, resolve, title_words)
from assistant.recommend import interactions
from assistant.recommend.service import Candidate, Recommender, recommender_for
from assistant.search.engine import allowed_ids, decode_row, search, suggest_relaxation
from assistant.search.prices import PriceRange
from assistant.search.query import SearchQuery, build_query, refine, weight_words
from assistant.search.vocab import Vocabulary, word_forms
from assistant.settings import settings
from assistant.store import cart as carts
from assistant.store import orders
from assistant.store.db import open_store

PAGE_SIZE = 5
TOP_UP = 2000  # trending products scanned to fill a page of personal picks under tight constraints
MAX_KINDS_NARROWED = 3  # a refined recommendation list keeps a few of each of its first kinds, not one of each
_COMPLEMENT_CUES = ("goes with", "go with", "goes well with", "go well with", "pair", "match", "with this",
                    "with these", "with that", "with those", "with it", "need for", "accessor", "complete")
_SIMILAR_CUES = ("similar", "like this", "like that", "like these", "like those", "like it", "alternative",
                 "instead", "other options", "something else")
# Words that ask for a recommendation rather than say what it is for ("recommend something for a rainy hike"),
# beyond the filler words build_query already leaves out of the text ("something", "good", "gift", ...).
# "what's popular right now?", "best sellers?": a request for what sells, whose other words ("right", "sellers")
# are no topic to search for.
_POPULAR_CUES = re.compile(r"\b(?:popular|trending|best[- ]?sell(?:er|ers|ing)|top sellers?|selling (?:well|fast)|"
                           r"what (?:do )?(?:people|others|everyone|most people) (?:buy|get|like))\b")
_ASKING_WORDS = frozenset({"recommend", "recommendation", "recommendations", "suggest", "suggestion", "suggestions",
                           "idea", "ideas", "gifts", "present", "pick", "picks", "goes", "go", "pairs", "match",
                           "matches"})


@dataclass
class ConversationState:
    """What the conversation remembers between turns (stored in Rasa slots)."""

    shown: list[str] = field(default_factory=list)
    focus: str | None = None
    last_query: dict | None = None
    offset: int = 0
    compared: list[str] = field(default_factory=list)  # the last comparison's products: "the cheaper one" is theirs


@dataclass
class Reply:
    text: str
    payload: dict | None = None
    state: ConversationState | None = None
    buttons: list[dict] = field(default_factory=list)
    # The shop had nothing to act on (an empty cart, nothing to compare) and the message neither named a product
    # nor spoke of the cart: it may not have been a shop request at all ("I've saved 300 points, what's that
    # worth?" read as "show my cart"), so the caller can try it as a question for the store's knowledge first.
    # Also a recommendation's fallback list for words the catalog has nothing for, when no product was named.
    idle: bool = False


def _shown_figures(products: list[dict]) -> dict[str, list[float]]:
    """The prices and weights on screen, which "cheaper" and "lighter" are relative to."""
    weights = [w for w in map(render.weight_g, products) if w is not None]
    return {"shown_prices": [p["final_price"] for p in products], "shown_weights": weights}


def query_to_dict(query: SearchQuery) -> dict:
    return json.loads(json.dumps(dataclasses.asdict(query)))


def query_from_dict(data: dict) -> SearchQuery:
    data = dict(data)
    price = data.get("price")
    if isinstance(price, dict):
        data["price"] = PriceRange(**price)
    known = {f.name for f in dataclasses.fields(SearchQuery)}
    return SearchQuery(**{k: v for k, v in data.items() if k in known})


# "remove one of them", "one less", "take one off": one fewer of a line, not the first line.
_ONE_LESS = re.compile(r"\b(?:(?:remove|take|drop)\s+(?:just\s+)?)?(?:one|1)\s+of\s+(?:them|those|these|the|my)\b|"
                       r"\bone\s+(?:less|fewer)\b|"
                       r"\b(?:remove|take|drop)\s+(?:just\s+)?(?:one|1)\b(?!\s*(?:st\b|item))(?:\s+off)?",
                       re.IGNORECASE)


# "empty my cart", "clear it", "remove everything", "take it all out"
# ("remove the clear case" is one line: a colour, not the cart)
_WHOLE_CART = re.compile(r"\b(?:empty|clear|wipe)(?:\s+out)?\s+(?:(?:my|the|this)\s+)?(?:cart|basket|it|everything)\b|"
                         r"\beverything\b|\ball (?:items|of it|the items)\b|\b(?:take|remove) it all\b|\bstart over\b",
                         re.IGNORECASE)
_NOT_TITLE_WORDS = frozenset({"the", "one", "and", "for", "off", "out", "all", "them", "that", "this", "item", "remove",
                              "delete", "drop", "take", "from", "cart", "please"})
_ASK_WHAT = ("What are you looking for? Tell me a kind of product and anything that matters to you, e.g. "
             "\"waterproof hiking boots under $150\" or \"a 2-person tent\".")
_CATEGORY_BUTTONS = [{"title": c, "payload": f"show me {c}"}
                     for c in ("running shoes", "rain jackets", "backpacks", "tents", "headphones", "coffee makers")]


def _only_mentioned(query: SearchQuery, products: list[dict]) -> bool:
    """Whether the words searched for, with no kind of product named, are in no title found: "do you sell bikes?"
    finds bottles whose description mentions a bike cage. Listing them as "products matching bikes" would read
    as a yes."""
    said = word_forms(query.text)
    return (not query.category and not query.brands and bool(said)
            and not any(said & word_forms(p["title"]) for p in products))


def _says_nothing(query: SearchQuery) -> bool:
    """No product, constraint or words to search for ("cheaper" with nothing before it, "show me stuff")."""
    return not (query.category or query.brands or query.colors or query.size or query.price
                or query.min_rating or query.on_sale or query.exclude_brands or query.text.strip())


def match_reason(product: dict, query: SearchQuery) -> str:
    """Why this product is on the list, in words: each constraint it satisfies, plus a deal if there is one."""
    reasons = []
    if query.size:
        reasons.append(f"size {query.size} in stock")
    if query.colors:
        reasons.append("/".join(c for c in query.colors if c in product.get("colors", [])) or query.colors[0])
    if query.price and query.price.max is not None:
        reasons.append(f"under your {render.money(query.price.max)} budget")
    if query.max_weight_g and (weight := render.weight_g(product)) is not None:
        reasons.append(f"weighs {weight_words(weight)}")
    if product.get("sale_price") is not None:
        off = round(100 * (1 - product["sale_price"] / product["price"]))
        reasons.append(f"{off}% off")
    if product.get("rating") and product["rating"] >= 4.5:
        reasons.append("highly rated")
    specs = render.key_specs(product, limit=1)
    return "; ".join(reasons + specs)


class Shop:
    """Catalog, cart and conversation logic for one action-server process (open once, reuse every turn)."""

    def __init__(self, catalog_db: Path | None = None, store_db: Path | None = None,
                 recommender_model: Path | None = None) -> None:
        self.catalog: sqlite_utils.Database = open_catalog(Path(catalog_db or settings().catalog_db))
        self.store: sqlite_utils.Database = open_store(store_db)
        self.recommender_model = Path(recommender_model or settings().recommender_model)
        self.vocab = Vocabulary.from_db(self.catalog, brand_aliases=BRAND_ALIASES,
                                        category_aliases=category_aliases(), color_aliases=COLOR_SYNONYMS)

    # ---- products -------------------------------------------------------------------------------------------
    def product(self, product_id: str, *, with_reviews: bool = True) -> dict | None:
        cursor = self.catalog.execute("SELECT * FROM products WHERE id = ?", [product_id])
        row = cursor.fetchone()
        if row is None:
            return None
        product = decode_row(dict(zip([d[0] for d in cursor.description], row)))
        if with_reviews:
            product["reviews"] = [
                {"rating": r[0], "author": r[1], "text": r[2]}
                for r in self.catalog.execute(
                    "SELECT rating, author, text FROM reviews WHERE product_id = ? ORDER BY id", [product_id])]
        return product

    RARE_TITLE_SHARE = 0.02  # a title word in at most this share of titles names a model, not a brand or kind

    @cached_property
    def _title_counts(self) -> tuple[Counter[str], int]:
        """In how many titles each title word occurs, and how many titles there are (read once per process)."""
        titles = [title for (title,) in self.catalog.execute("SELECT title FROM products")]
        return Counter(w for title in titles for w in set(title_words(title))), len(titles)

    def asked_about_by_name(self, text: str, product_id: str | None) -> bool:
        """Whether the message asks a question about this product and names it by its title ("is the Vans Plaza
        Vintage canvas or leather?"): a product question, though its brand and kind read like a search."""
        product = self.product(product_id, with_reviews=False) if product_id else None
        if product is None or not asks_about_one(text):
            return False
        counts, titles = self._title_counts
        limit = self.RARE_TITLE_SHARE * max(1, titles)
        brand = set(title_words(product.get("brand", "")))
        rare = {w for w in title_words(product["title"]) if w not in brand and counts[w] <= limit}
        return names_by_title(text, product["title"], rare)

    def products(self, ids: list[str]) -> list[dict]:
        return [p for p in (self.product(i, with_reviews=False) for i in ids) if p]

    def variants(self, product_id: str) -> list[dict]:
        rows = self.catalog.execute(
            "SELECT sku, color, size, price, stock FROM variants WHERE product_id = ? ORDER BY sku", [product_id])
        return [dict(zip(("sku", "color", "size", "price", "stock"), r)) for r in rows]

    # ---- search ---------------------------------------------------------------------------------------------
    def search(self, text: str, entities: list[dict], state: ConversationState) -> Reply:
        query = build_query(text, entities, self.vocab)
        if _says_nothing(query):
            return Reply(_ASK_WHAT, buttons=_CATEGORY_BUTTONS)
        return self._run_query(query, state, offset=0)

    def refine(self, text: str, entities: list[dict], state: ConversationState) -> Reply:
        if not state.last_query:
            return self._refine_picks(text, entities, state) or self.search(text, entities, state)
        previous = query_from_dict(state.last_query)
        figures = _shown_figures(self.products(state.shown))
        reply = self._run_query(refine(previous, text, entities, self.vocab, **figures), state, offset=0)
        if reply.state and not (reply.payload or {}).get("products"):
            # A refinement that finds nothing is not where the next one should start from: keep the last
            # results' query, so "cheaper" (none) then "in black" means black within the earlier search.
            reply.state = dataclasses.replace(state)
        return reply

    def _refine_picks(self, text: str, entities: list[dict], state: ConversationState) -> Reply | None:
        """A refinement of a list with no search behind it (recommendations): each kind of product on it narrowed
        the same way ("cheaper please" after picks for camping: cheaper tents and cheaper sleeping bags). None
        when nothing is shown, the message names another kind, or it changes no filter."""
        shown = self.products(state.shown)
        kinds = list(dict.fromkeys(p["category"] for p in shown))[:MAX_KINDS_NARROWED]
        queries = []
        for kind in kinds:
            base = SearchQuery(category=kind)
            figures = _shown_figures([p for p in shown if p["category"] == kind])
            query = dataclasses.replace(refine(base, text, entities, self.vocab, **figures), text="")
            if query.category != kind:
                return None
            if query != base:
                queries.append(query)
        if not queries:
            return None
        if len(queries) == 1:  # one kind: an ordinary search from here on, with paging and further refinements
            return self._run_query(queries[0], state, offset=0)
        per_kind = max(2, PAGE_SIZE // len(queries))
        found = [(p, query) for query in queries for p in search(self.catalog, query, limit=per_kind).products]
        described = "; ".join(q.describe() for q in queries)
        if not found:
            return Reply(f"I have nothing for {described}.")
        body, payload = render.product_list([p for p, _ in found], [match_reason(p, q) for p, q in found],
                                            heading=f"Narrowed for each kind on that list ({described}):")
        return Reply(body, payload, ConversationState([p["id"] for p, _ in found]))

    def _narrows(self, text: str, entities: list[dict], state: ConversationState) -> bool:
        """Whether the message changes a filter of the last search (its free words aside)."""
        previous = query_from_dict(state.last_query)
        changed = refine(previous, text, entities, self.vocab)
        ignored = {"text": "", "offset": 0, "hint": ""}
        return query_to_dict(dataclasses.replace(changed, **ignored)) != query_to_dict(
            dataclasses.replace(previous, **ignored))

    def show_more(self, state: ConversationState) -> Reply:
        if not state.last_query:
            return Reply("Tell me what you're looking for first, e.g. \"waterproof hiking boots under $150\".")
        return self._run_query(query_from_dict(state.last_query), state, offset=state.offset + PAGE_SIZE)

    def _run_query(self, query: SearchQuery, state: ConversationState, *, offset: int) -> Reply:
        query = dataclasses.replace(query, offset=offset) if hasattr(query, "offset") else query
        result = search(self.catalog, query, limit=PAGE_SIZE)
        described = query.describe() or "products"
        new_state = ConversationState(state.shown, state.focus, query_to_dict(query), offset)
        if not result.products:
            if offset:
                return Reply(f"That's everything I have for {described}.", state=new_state)
            return Reply(self._no_results_text(query, described), {"type": "product_list", "products": [],
                                                                   "query": query_to_dict(query), "total": 0},
                         new_state)
        heading = (f"Here are {'more ' if offset else ''}{described} "
                   f"({offset + 1}-{offset + len(result.products)} of {result.shown_total}):")
        if result.text_match == "any" and not offset:
            heading = f"Nothing matches all of \"{query.text}\", but these come close:\n" + heading
        elif result.text_match == "none" and not offset:
            heading = f"I found nothing for \"{query.text}\"; here is what I have instead:\n" + heading
        elif result.text_match == "all" and not offset and _only_mentioned(query, result.products):
            heading = f"None of our product names says \"{query.text}\"; these products mention it:\n" + heading
        reasons = [match_reason(p, query) for p in result.products]
        text, payload = render.product_list(result.products, reasons, heading=heading,
                                            query=query_to_dict(query), offset=offset, total=result.total)
        new_state.shown = [p["id"] for p in result.products]
        new_state.focus = None
        return Reply(text, payload, new_state)

    def _no_results_text(self, query: SearchQuery, described: str) -> str:
        suggestions = suggest_relaxation(self.catalog, query)
        text = f"I couldn't find any {described}."
        if suggestions:
            text += " " + " ".join(f"{s.describe()}." for s in suggestions[:2])
        return text

    # ---- references, details, questions, comparison ---------------------------------------------------------
    def resolve_products(self, text: str, entities: list[dict], state: ConversationState,
                         product_id: str | None = None) -> list[dict]:
        if product_id:
            found = self.product(product_id)
            return [found] if found else []
        shown = self.products(state.shown)
        extreme = pick_extreme(text, entities, self.products(state.compared) if state.compared else shown)
        if extreme:
            return [p for p in [self.product(extreme)] if p]
        resolution = resolve(text, entities, shown, state.focus)
        if resolution.product_ids:
            return [p for p in (self.product(i) for i in resolution.product_ids) if p]
        if resolution.how == "out_of_range":
            return []
        named = [e["value"] for e in entities if e.get("entity") == "product" and e.get("value")]
        if named:
            result = search(self.catalog, SearchQuery(text=str(named[0])), limit=1)
            return [self.product(result.products[0]["id"])] if result.products else []
        return []

    def _log(self, shopper: str | None, product_ids: list[str], kind: str) -> None:
        """Remember what the shopper engaged with: their next recommendations and the next retraining use it."""
        if shopper:
            interactions.log(self.store, shopper, product_ids, kind)

    def _nothing_to_refer_to(self, state: ConversationState) -> Reply:
        """The shopper pointed at no product we can place. `shown` in the payload tells the caller whether there
        was anything on the table at all (0: a question like "is that covered?" may be about the store instead)."""
        payload = {"type": "which_product", "shown": len(state.shown)}
        if state.shown:
            return Reply(f"Which one do you mean? Say a number from 1 to {len(state.shown)}, e.g. \"the first one\".",
                         payload)
        return Reply("Which product do you mean? Search for something first, e.g. \"show me tents for 4 people\".",
                     payload)

    def details(self, text: str, entities: list[dict], state: ConversationState,
                product_id: str | None = None, shopper: str | None = None) -> Reply:
        found = self.resolve_products(text, entities, state, product_id)
        if not found:
            return self._nothing_to_refer_to(state)
        product = found[0]
        self._log(shopper, [product["id"]], "view")
        variants = self.variants(product["id"])

        def sold_out(key: str) -> set[str]:
            return {v[key] for v in variants if v[key]} - {v[key] for v in variants if v[key] and v["stock"] > 0}

        body, payload = render.product_details(product, sold_out("color"), sold_out("size"))
        new_state = dataclasses.replace(state, focus=product["id"])
        return Reply(body + "\nWould you like me to add it to your cart?", payload, new_state)

    def question(self, text: str, entities: list[dict], state: ConversationState,
                 shopper: str | None = None) -> Reply:
        found = self.resolve_products(text, entities, state)
        if not found and state.focus and not points_back(text):
            # "how long does the battery last?" names no product: the one the last answer was about
            found = [p for p in [self.product(state.focus)] if p]
        if not found:
            return self._nothing_to_refer_to(state)
        self._log(shopper, [p["id"] for p in found[:3]], "ask")
        answers = [product_qa.answer(p, text) for p in found[:3]]
        payload = {"type": "product_answer", "products": [render.product_card(p) for p in found[:3]],
                   "answered": [a.answered for a in answers]}
        focus = found[0]["id"] if len(found) == 1 else state.focus
        return Reply("\n".join(a.text for a in answers), payload, dataclasses.replace(state, focus=focus))

    def compare(self, text: str, entities: list[dict], state: ConversationState,
                shopper: str | None = None) -> Reply:
        found = self.resolve_products(text, entities, state)
        if len(found) == 1 and state.focus and found[0]["id"] != state.focus:
            # "how does it compare to the second?": the product in focus against the one named
            found = [p for p in [self.product(state.focus)] if p] + found
        on_table = state.compared or state.shown
        if len(found) < 2 and asks_extreme(text) and len(on_table) >= 2:
            # "which one is cheapest?" is asked of everything on the table: the comparison, else the whole page
            found = self.products(on_table)
        elif not found and len(on_table) >= 2:  # "which has the longer battery?": the comparison, else the first two
            found = self.products(state.compared or state.shown[:2])
        if len(found) < 2:
            found = self._named_for_comparison(text, entities) or found
        if len(found) < 2:
            return Reply("I need two or more products to compare: say e.g. \"compare the first two\" or "
                         "\"compare 1 and 3\" after a search.", idle=not about_the_shop(text, entities))
        found = found[:PAGE_SIZE]
        picked = extreme(text, found)
        # the one a comparison word picked is what "it" means next ("which is the cheapest?", "is it wireless?")
        focus = picked[0] if picked else state.focus
        if picked and [p["id"] for p in found] == state.compared:
            # "which one is lighter?" of the comparison just shown: its answer, not the table again
            winner, word = picked
            return Reply(render.verdict(word, found, winner), state=dataclasses.replace(state, focus=focus))
        self._log(shopper, [p["id"] for p in found], "view")
        body, payload = render.comparison(found)
        return Reply(body, payload, dataclasses.replace(state, compared=[p["id"] for p in found], focus=focus))

    # ---- recommendations -------------------------------------------------------------------------------------
    @property
    def recommender(self) -> Recommender:
        return recommender_for(self.catalog, self.store, self.recommender_model)

    def recommend(self, text: str, entities: list[dict], state: ConversationState, conversation_id: str,
                  product_id: str | None = None) -> Reply:
        """Similar or complementary products when the shopper points at one, else picks for this shopper.

        Every pick is in stock, not in the cart, and meets the constraints: those said in this message; for
        similar products also the ones of the search in progress (same kind of product, same budget); brands the
        shopper ruled out stay ruled out everywhere.
        """
        in_cart = {line.product_id for line in self.cart(conversation_id).lines}
        said = build_query(text, entities, self.vocab)
        asked = dataclasses.replace(said, text="", sort="relevance", offset=0)
        previous = query_from_dict(state.last_query) if state.last_query else SearchQuery()
        asked = dataclasses.replace(asked, exclude_brands=list(dict.fromkeys(
            previous.exclude_brands + asked.exclude_brands)))
        lowered = text.lower()
        wants_complements = any(w in lowered for w in _COMPLEMENT_CUES)
        wants_similar = any(w in lowered for w in _SIMILAR_CUES)
        if (asks_superlative(text) and not (wants_complements or wants_similar or said.category)
                and len(state.compared or state.shown) >= 2):
            # "what's the cheapest one?" after a list reads as a request for a pick, but asks which of those it is
            return self.compare(text, entities, state, shopper=conversation_id)
        anchors = self.resolve_products(text, entities, state, product_id)
        if not anchors and state.focus and (wants_complements or wants_similar):
            anchors = [p for p in [self.product(state.focus)] if p]
        wants_popular = _POPULAR_CUES.search(lowered) is not None
        topic = "" if wants_popular else " ".join(w for w in said.text.split() if w not in _ASKING_WORDS)
        if not anchors and wants_complements and said.category:
            # "what goes with sunscreen?" names a kind, not a product: what goes with the best match for it
            best = search(self.catalog, dataclasses.replace(said, text=topic, offset=0), limit=1).products
            if best:
                kind = said.hint or said.category
                picks = [Candidate(c.product_id, f"goes well with {kind}")
                         for c in self._obeying(self.recommender.complements(best[0]["id"]),
                                                dataclasses.replace(asked, category=None), in_cart | {best[0]["id"]},
                                                per_category=2)]
                return self._recommendation_reply(picks, f"Goes well with {kind}:", state)
        if anchors and wants_complements:
            anchor = anchors[0]
            if asked.category == anchor["category"]:  # "what goes with these boots?" names the anchor's kind
                asked = dataclasses.replace(asked, category=None)
            picks = self._obeying(self.recommender.complements(anchor["id"]), asked, in_cart | {anchor["id"]},
                                  per_category=2)
            return self._recommendation_reply(picks, f"Goes well with {render.the(anchor['title'])}:", state)
        if anchors:
            # "similar to the first one but cheaper / lighter": relative to that one, as a refinement is to a page
            relative = refine(SearchQuery(category=anchors[0]["category"]), text, entities, self.vocab,
                              **_shown_figures(anchors[:1]))
            asked = dataclasses.replace(asked, price=asked.price or relative.price,
                                        max_weight_g=relative.max_weight_g)
            return self._similar(anchors[0], asked, previous, in_cart, state)
        if topic and (picks := self._for_topic(dataclasses.replace(asked, text=topic), in_cart)):
            return self._recommendation_reply(picks, f"For \"{topic}\", I'd look at these:", state)
        history = interactions.history(self.store, conversation_id)
        candidates = self.recommender.personal(history)
        picks = self._obeying(candidates, asked, in_cart, per_category=3)
        if len(picks) < PAGE_SIZE:  # tight constraints: fill up with what sells within them
            taken = {c.product_id for c in picks}
            extra = [c for c in self.recommender.trending(TOP_UP) if c.product_id not in taken]
            picks += self._obeying(extra, asked, in_cart | taken, per_category=3)[:PAGE_SIZE - len(picks)]
        heading = "Picked for you" if history else "Popular right now"
        if topic:  # words the catalog has nothing for ("a sci-fi novel", "a restaurant"): say so, then the list
            heading = f"I have nothing specific for \"{topic}\". {heading}"
        reply = self._recommendation_reply(picks, heading + (f" in {asked.category}:" if asked.category else ":"),
                                           state)
        # Unmatched words may be a store question read as a request ("spending $120 on a tent, what does that earn
        # me in rewards points?"), and so may a message that asks for no picks at all ("what kind of products do you
        # have?"): unless they name a product, the knowledge may answer before the fallback list.
        asked_for_picks = wants_popular or not _ASKING_WORDS.isdisjoint(re.findall(r"[a-z]+", lowered))
        return dataclasses.replace(reply, idle=(bool(topic) or not asked_for_picks)
                                   and not about_the_shop(text, entities))

    def _for_topic(self, query: SearchQuery, exclude: set[str]) -> list[Candidate]:
        """Picks for what the shopper described in words: the best search matches for it within the message's
        constraints (text and meaning, as a search ranks them), a few of each kind. None unless some word of it is
        in the catalog's product text: the nearest products in meaning to "restaurant" are coffee makers, which is
        no recommendation for one."""
        if search(self.catalog, query, limit=1, signals="text").text_match not in ("all", "any"):
            return []
        found = search(self.catalog, query, limit=4 * PAGE_SIZE)
        if found.text_match == "none":  # the constraints alone, not the words
            return []
        candidates = [Candidate(p["id"], match_reason(p, query)) for p in found.products]
        return self._obeying(candidates, dataclasses.replace(query, text=""), exclude, per_category=3)

    def _obeying(self, candidates: list[Candidate], query: SearchQuery, exclude: set[str], *,
                 per_category: int = PAGE_SIZE) -> list[Candidate]:
        """The first page of candidates that meet the query's hard filters, minus `exclude`, with at most
        `per_category` of one kind so a page is not five tents."""
        allowed = set(allowed_ids(self.catalog, query, [c.product_id for c in candidates if c.product_id not in
                                                          exclude]))
        picks: list[Candidate] = []
        kinds: dict[str, int] = {}
        for candidate in candidates:
            if candidate.product_id not in allowed:
                continue
            kind = self.recommender.categories.get(candidate.product_id, "")
            if kinds.get(kind, 0) < per_category:
                kinds[kind] = kinds.get(kind, 0) + 1
                picks.append(candidate)
            if len(picks) == PAGE_SIZE:
                break
        return picks

    def _similar(self, anchor: dict, asked: SearchQuery, previous: SearchQuery, exclude: set[str],
                 state: ConversationState) -> Reply:
        """Closest in meaning, same category, under the search's constraints with this message's on top."""
        constraints = dataclasses.replace(
            previous, text="", offset=0, category=anchor["category"], brands=asked.brands or previous.brands,
            colors=asked.colors or previous.colors, size=asked.size or previous.size,
            price=asked.price or previous.price, min_rating=asked.min_rating or previous.min_rating,
            on_sale=asked.on_sale or previous.on_sale, exclude_brands=asked.exclude_brands,
            max_weight_g=asked.max_weight_g)
        candidates = self.recommender.similar(anchor)
        if not candidates:  # no embeddings: the best rated of the kind, near the anchor's price
            low, high = anchor["final_price"] * 0.6, anchor["final_price"] * 1.5
            result = search(self.catalog, SearchQuery(category=anchor["category"], price=PriceRange(low, high),
                                                      sort="rating"), limit=100)
            candidates = [Candidate(p["id"], f"similar to {render.the(anchor['title'])}") for p in result.products]
        picks = self._obeying(candidates, constraints, exclude | {anchor["id"]})
        limits = dataclasses.replace(SearchQuery(), price=constraints.price, size=constraints.size,
                                     max_weight_g=constraints.max_weight_g).describe().removeprefix("products, ")
        return self._recommendation_reply(
            picks, f"Similar to {render.the(anchor['title'])}" + (f" ({limits}):" if limits else ":"), state)

    def _recommendation_reply(self, picks: list[Candidate], heading: str, state: ConversationState) -> Reply:
        if not picks:
            return Reply("I don't have a recommendation that fits all of that. Tell me what you need, e.g. "
                         "\"a warm sleeping bag under $150\".")
        products = self.products([c.product_id for c in picks])
        reasons = {c.product_id: c.reason for c in picks}
        text, payload = render.product_list(products, [reasons[p["id"]] for p in products], heading=heading)
        payload["type"] = "recommendations"
        return Reply(text, payload, dataclasses.replace(state, shown=[p["id"] for p in products], focus=None,
                                                        compared=[]),
                     buttons=render.FEEDBACK_BUTTONS)

    # ---- cart -----------------------------------------------------------------------------------------------
    def cart(self, conversation_id: str) -> carts.Cart:
        return carts.load_cart(self.store, self.catalog, conversation_id)

    def view_cart(self, conversation_id: str, text: str, entities: list[dict]) -> Reply:
        cart = self.cart(conversation_id)
        summary, payload = render.cart_summary(cart)
        return Reply(summary, payload, idle=not cart.lines and not about_the_shop(text, entities))

    def variant_needs(self, product: dict, size: str | None = None) -> tuple[bool, bool]:
        """(needs a size, needs a colour): asked only when the product really comes in several - in `size`, once
        that is chosen (a boot in black and brown with only black left in 7.5 needs no colour question)."""
        variants = [v for v in self.variants(product["id"]) if v["stock"] > 0]
        sizes = {v["size"] for v in variants if v["size"]}
        colors = {v["color"] for v in variants if v["color"] and (size is None or v["size"] == size)}
        return bool(sizes), len(colors) > 1

    def available(self, product_id: str, *, size: str | None = None, color: str | None = None) -> list[dict]:
        return [v for v in self.variants(product_id) if v["stock"] > 0
                and (size is None or v["size"] == size) and (color is None or v["color"] == color)]

    def carried_over_variant(self, product_id: str, size: str | None,
                             colors: list[str]) -> tuple[str | None, str | None]:
        """The size and colour from the shopper's search, kept only where this product has them in stock."""
        if size and not self.available(product_id, size=size):
            size = None
        color = next((c for c in colors if self.available(product_id, size=size, color=c)), None)
        return size, color

    def add_to_cart(self, conversation_id: str, product_id: str, *, size: str | None = None,
                    color: str | None = None, quantity: int = 1) -> Reply:
        product = self.product(product_id, with_reviews=False)
        if product is None:
            return Reply("Sorry, I can't find that product any more.")
        variants = self.variants(product_id)
        if variants:
            matching = self.available(product_id, size=size, color=color)
            if not matching:
                return Reply(f"Sorry, {render.the(product['title'])} isn't in stock"
                             f"{' in size ' + size if size else ''}{' in ' + color if color else ''}.")
            variant = matching[0]
            size, color, sku = variant["size"], variant["color"], variant["sku"]
        else:
            if product.get("stock", 0) <= 0:
                return Reply(f"Sorry, {render.the(product['title'])} is out of stock.")
            sku = ""
        try:
            carts.add_item(self.store, conversation_id, product_id, variant_sku=sku, color=color, size=size,
                           quantity=quantity)
        except carts.CartError as error:
            return Reply(str(error))
        self._log(conversation_id, [product_id], "cart")
        cart = self.cart(conversation_id)
        what = ", ".join(v for v in (color, f"size {size}" if size else None) if v)
        text, payload = render.cart_summary(cart)
        return Reply(f"Added {quantity} x {product['title']}{' (' + what + ')' if what else ''} to your cart.\n"
                     + text, payload)

    @staticmethod
    def _cart_targets(cart: carts.Cart, text: str, entities: list[dict]) -> list[str]:
        """Product ids of the cart lines the shopper means: "the second item", "the tent", or the only line."""
        in_cart = [{"id": l.product_id, "title": l.title, "brand": ""} for l in cart.lines]
        resolution = resolve(text, entities, in_cart, None)
        # "it" points at something only when the cart has one line; otherwise it would silently mean the first.
        targets = resolution.product_ids if resolution.how != "focus" or len(cart.lines) == 1 else []
        if not targets:  # words of a title: the lines sharing the most ("the Shun bread knife", not every knife)
            # whole words: "mat" is in "Yoga Mat", not in "Automatic"
            said = {w for w in word_forms(text) if len(w) > 2} - _NOT_TITLE_WORDS
            shared = {l.product_id: len(said & word_forms(l.title)) for l in cart.lines}
            best = max(shared.values(), default=0)
            targets = [product_id for product_id, count in shared.items() if count and count == best]
        return list(dict.fromkeys(targets))

    def remove_from_cart(self, conversation_id: str, text: str, entities: list[dict],
                         state: ConversationState) -> Reply:
        cart = self.cart(conversation_id)
        if not cart.lines:
            return Reply("Your cart is already empty.", idle=not about_the_shop(text, entities))
        one_less = _ONE_LESS.search(text)
        if one_less:  # "remove one of them": the count, not a position
            text = text[:one_less.start()] + text[one_less.end():]
            entities = [e for e in entities if e.get("entity") not in ("quantity", "ordinal")]
        if _WHOLE_CART.search(text) and not one_less:
            targets = [line.product_id for line in cart.lines]
        else:
            targets = self._cart_targets(cart, text, entities) or (self._the_only_line(cart, text, entities)
                                                                   if one_less else [])
        if not targets:
            summary, payload = render.cart_summary(cart)
            return Reply("Which item should I remove? Say e.g. \"remove the second item\".\n" + summary, payload)
        lines = [l for l in cart.lines if l.product_id in targets]
        if one_less and len(lines) == 1 and lines[0].quantity > 1:
            return self._set_quantity(conversation_id, cart, lines[0], lines[0].quantity - 1)
        for product_id in targets:
            carts.remove_item(self.store, conversation_id, product_id)
        removed = ", ".join(l.title for l in cart.lines if l.product_id in targets)
        summary, payload = render.cart_summary(self.cart(conversation_id))
        return Reply(f"Removed {removed}.\n{summary}", payload)

    def change_quantity(self, conversation_id: str, text: str, entities: list[dict],
                        state: ConversationState | None = None) -> Reply:
        """"Make it 3", "change the tent to 2", "only one of the second item" (0 removes the line). With an empty
        cart, a number that narrows the search in progress ("only 2 person ones") narrows it."""
        cart = self.cart(conversation_id)
        if not cart.lines:
            if state and state.last_query and self._narrows(text, entities, state):
                return self.refine(text, entities, state)
            return Reply("Your cart is empty, so there's nothing to change yet.",
                         idle=not about_the_shop(text, entities))
        said = [e for e in entities if e.get("entity") == "quantity"]
        numbers = list(re.finditer(r"\b(\d+|" + "|".join(carts.NUMBER_WORDS) + r")\b", text.lower()))
        quantity = carts.parse_quantity(said[-1]["value"] if said else numbers[-1].group(1) if numbers else None)
        if numbers:  # the new quantity is not a position: "make it 2" must not mean "the second item"
            text = text[:numbers[-1].start()] + text[numbers[-1].end():]
        entities = [e for e in entities if e.get("entity") != "quantity"]
        targets = self._cart_targets(cart, text, entities) or self._the_only_line(cart, text, entities)
        summary, payload = render.cart_summary(cart)
        if quantity is None or len(targets) != 1:
            return Reply("Which item, and how many? Say e.g. \"make the first item 2\".\n" + summary, payload)
        line = next(l for l in cart.lines if l.product_id == targets[0])
        return self._set_quantity(conversation_id, cart, line, quantity)

    def _named_for_comparison(self, text: str, entities: list[dict]) -> list[dict]:
        """"compare the Sony and Bose headphones" with nothing on the table: the best match of each brand named, or
        the best two of the kind named; none unless the message names two brands or a kind."""
        named = build_query(text, entities, self.vocab)
        if len(named.brands) < 2 and not named.category:
            return []
        query = dataclasses.replace(named, text="", offset=0)
        if len(named.brands) < 2:
            return self.products([p["id"] for p in search(self.catalog, query, limit=2).products])
        best = [search(self.catalog, dataclasses.replace(query, brands=[brand]), limit=1).products
                for brand in named.brands]
        return self.products([hits[0]["id"] for hits in best if hits])

    def _the_only_line(self, cart: carts.Cart, text: str, entities: list[dict]) -> list[str]:
        """The cart's one line, for a message that points at none ("make it 2", "remove one of them"); nothing when
        the cart has several, or when the message names a kind or brand the line is not ("change the coffee maker
        to 2" with only a knife in the cart)."""
        if len(cart.lines) != 1:
            return []
        named = build_query(text, entities, self.vocab)
        product = self.product(cart.lines[0].product_id, with_reviews=False) or {}
        if ((named.category is not None and named.category != product.get("category"))
                or (bool(named.brands) and product.get("brand") not in named.brands)):
            return []
        return [cart.lines[0].product_id]

    def _set_quantity(self, conversation_id: str, cart: carts.Cart, line: carts.CartLine, quantity: int) -> Reply:
        try:
            carts.set_quantity(self.store, conversation_id, line.product_id, line.variant_sku, quantity)
        except carts.CartError as error:
            summary, payload = render.cart_summary(cart)
            return Reply(str(error) + "\n" + summary, payload)
        summary, payload = render.cart_summary(self.cart(conversation_id))
        done = f"Removed {line.title}." if quantity == 0 else f"Changed {line.title} to {quantity}."
        return Reply(f"{done}\n{summary}", payload)

    def log_purchase(self, conversation_id: str, product_ids: list[str]) -> None:
        self._log(conversation_id, product_ids, "purchase")

    def checkout_summary(self, conversation_id: str) -> Reply:
        """The order as it would be placed, before the checkout form asks for email and country."""
        cart = self.cart(conversation_id)
        if not cart.lines:
            return Reply("Your cart is empty, so there's nothing to check out yet. What are you looking for?")
        problems = orders.unavailable_lines(cart, self.catalog)
        summary, payload = render.cart_summary(cart)
        total = render.money(cart.subtotal + cart.shipping)
        text = f"{summary}\nTotal before tax: {total}."
        if problems:
            text += "\nHeads up: " + ", ".join(problems) + " just went out of stock; remove it to check out."
        text += "\nI never ask for card details in chat: payment happens through a secure link sent by email."
        payload["type"] = "checkout_summary"
        return Reply(text, payload)
