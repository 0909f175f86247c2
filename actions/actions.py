"""Custom actions. Each one reads the message and slots, calls the core (`assistant`), and writes back slots.

No shop logic lives here: see assistant/dialogue/shop.py.
"""
from __future__ import annotations

import asyncio
import dataclasses
import logging
import os
import re
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import ConversationPaused, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from assistant.dialogue.references import points_back
from assistant.dialogue.render import FEEDBACK_BUTTONS, the
from assistant.dialogue.shop import ConversationState, Reply, Shop
from assistant.generate.answer import Answer, Answerer, looks_like_steering
from assistant.generate.backends import configured_backend
from assistant.knowledge.documents import store_passages
from assistant.search.query import build_query
from assistant.search.vocab import word_forms
from assistant.store import handoff
from assistant.store.cart import parse_quantity
from assistant.store.orders import now

logger = logging.getLogger(__name__)


@lru_cache(maxsize=1)
def shop() -> Shop:
    """One Shop per action-server process: the catalog and vocabulary are loaded once, not per message."""
    return Shop()


@lru_cache(maxsize=1)
def answerer() -> Answerer:
    """One per process: the generator (HARBOR_GENERATOR; none, i.e. quoting, by default) is loaded once."""
    return Answerer(configured_backend())


def _warm_up() -> None:
    """Load the generator and embed the knowledge before the first shopper asks (seconds, not their wait)."""
    try:
        answerer().answer("how long do refunds take?")
    except Exception:  # a broken generator must not take the action server down: answers fall back to quoting
        logger.exception("Warm-up of the answer pipeline failed")


def _start_warm_up_in_worker(parent: int = os.getpid()) -> None:
    if os.getppid() == parent:  # a worker rasa-sdk forked, not something a worker forks in turn
        threading.Thread(target=_warm_up, name="warm-up", daemon=True).start()


if os.environ.get("HARBOR_WARM_START") == "1":  # set by scripts/run.sh (and the live smoke test)
    if int(os.environ.get("ACTION_SERVER_SANIC_WORKERS") or 1) > 1:
        # rasa-sdk forks its workers from this process right after the import: a warm-up thread still importing
        # models here would leave each of them a half-imported library. Each worker warms its own copy instead.
        os.register_at_fork(after_in_child=_start_warm_up_in_worker)
    else:
        # One worker: warm up before rasa-sdk starts listening, so /health answers only once the first question
        # is as quick as the rest (in a thread, /health was up ~1.5 s before the knowledge was embedded).
        _warm_up()


def _state(tracker: Tracker) -> ConversationState:
    return ConversationState(
        shown=list(tracker.get_slot("shown_products") or []),
        focus=tracker.get_slot("focus_product"),
        last_query=tracker.get_slot("last_query"),
        offset=int(tracker.get_slot("results_offset") or 0),
        compared=list(tracker.get_slot("compared_products") or []),
    )


def _message(tracker: Tracker) -> tuple[str, list[dict]]:
    latest = tracker.latest_message or {}
    return latest.get("text") or "", list(latest.get("entities") or [])


def _entity(tracker: Tracker, name: str) -> str | None:
    return next(tracker.get_latest_entity_values(name), None)


def _intent(tracker: Tracker) -> str | None:
    return (tracker.latest_message.get("intent") or {}).get("name")


def focus_product(tracker: Tracker) -> dict | None:
    """The product the conversation is about, if any: its data is knowledge for a question about "it"."""
    focus = tracker.get_slot("focus_product")
    return shop().product(focus) if focus else None


async def ask_knowledge(text: str, product: dict | None = None, **options: Any) -> Answer:
    """The answerer, off the event loop: retrieval and generation take CPU for a second or two, and other
    conversations on this action server must not wait for them. `options` are Answerer.answer's."""
    return await asyncio.get_running_loop().run_in_executor(None, lambda: answerer().answer(text, product, **options))


def answer_payload(answer: Answer) -> dict[str, Any]:
    """What channels get beside an answer's text: its kind and the sources it quotes."""
    return {"type": "answer", "kind": answer.kind, "sources": list(answer.sources)}


# ---- answers and the handoff they can end in (care.py's actions use these too) ----------------------------------
TRANSCRIPT_TURNS = 60  # the last turns a person taking over gets to read


def transcript(tracker: Tracker) -> list[dict]:
    said = [{"who": "shopper" if e["event"] == "user" else "bot", "text": e.get("text") or ""}
            for e in tracker.events if e.get("event") in ("user", "bot") and e.get("text")]
    return said[-TRANSCRIPT_TURNS:]


def hand_over(dispatcher: CollectingDispatcher, tracker: Tracker, reason: str, opening: str) -> list[EventType]:
    """Open (or reuse) the ticket and tell the shopper what happens next. In support hours an agent joins this chat,
    so the bot pauses rather than talk over them; outside them the agent replies by email, and a paused bot would
    leave the shopper talking to silence until the next business day, so it keeps serving."""
    ticket = handoff.open_ticket(shop().store, tracker.sender_id, reason, transcript(tracker))
    at = now()
    dispatcher.utter_message(text=f"{opening} {handoff.what_happens_next(ticket, at)}",
                             json_message={"type": "handoff", "ticket": ticket, "reason": reason})
    return [ConversationPaused()] if handoff.within_support_hours(at) else []


def before_latest_message(tracker: Tracker, wanted: Callable[[dict], bool]) -> dict | None:
    """The last event that is `wanted` between the shopper's last two messages (what the latest one answers)."""
    seen_user = False
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            if seen_user:
                return None
            seen_user = True
        elif seen_user and wanted(event):
            return event
    return None


def last_bot_message(tracker: Tracker) -> dict | None:
    """The bot's last message before the shopper's latest one (what a thumbs up/down or a retry refers to)."""
    return before_latest_message(tracker, lambda event: event.get("event") == "bot")


def _was_unknown(bot_event: dict | None) -> bool:
    custom = ((bot_event or {}).get("data") or {}).get("custom") or {}
    return custom.get("type") == "answer" and custom.get("kind") == "unknown"


# A short message that leans on the previous answer: "what if they were defective?", "and for electronics?"
_FOLLOW_UP = re.compile(r"^\W*(?:and|but|what if|what about|how about|even if|also)\b|"
                        r"\b(?:it|they|them|that|those|this|these)\b", re.IGNORECASE)
FOLLOW_UP_WORDS = 8
_FOLLOW_UP_INTENTS = frozenset({"nlu_fallback", "ask_policy", "return_request", "ask_product_question",
                                "search_products", "refine_search"})


def follow_up_topic(tracker: Tracker, text: str) -> str | None:
    """The topic of the store answer just given, for a short follow-up to it ("what if they were defective?" after
    the returns answer): the retrieval uses it only when the message finds nothing relevant on its own. Out-of-scope
    messages and messages that don't lean on the answer get none, so "who won the game?" is not answered with the
    returns policy."""
    if _intent(tracker) not in _FOLLOW_UP_INTENTS or len(text.split()) > FOLLOW_UP_WORDS or not _FOLLOW_UP.search(text):
        return None
    custom = ((last_bot_message(tracker) or {}).get("data") or {}).get("custom") or {}
    if custom.get("type") != "answer" or not custom.get("sources"):
        return None
    topics = {p.source: p.topic for p in store_passages()}
    return next((topics[s] for s in custom["sources"] if topics.get(s)), None)


HANDOFF_BUTTON = {"title": "Talk to a person", "payload": "/human_handoff"}


OFFLINE_OFFER = (f"Sorry, I'm not getting this right. Our team is offline now ({handoff.SUPPORT_HOURS}): say "
                 f"\"human\" and I'll open a ticket for an email reply, or write to {handoff.SUPPORT_EMAIL}. I can "
                 "still search the catalog, show your cart or check an order.")


def send_answer(dispatcher: CollectingDispatcher, tracker: Tracker, answer: Answer,
                unknown_text: str | None = None) -> list[EventType]:
    """Send an answer from the knowledge with its sources and feedback buttons. When the knowledge has nothing,
    the shopper gets `unknown_text` (default: the answerer's "I don't know"), and on the second such miss in a row
    a person: in support hours an agent takes over; outside them the person is offered, not imposed, because a
    handoff pauses the bot until an agent picks it up, a business day later at worst, and two questions the
    knowledge can't answer should not cost the shopper the rest of the shop. Every path that answers from the
    knowledge keeps that promise."""
    payload = answer_payload(answer)
    if answer.kind == "unknown":
        if _was_unknown(last_bot_message(tracker)):
            if handoff.within_support_hours():
                return hand_over(dispatcher, tracker, "fallbacks", "Sorry, I'm not getting this right.")
            dispatcher.utter_message(text=OFFLINE_OFFER, json_message={**payload, "offer": "handoff"},
                                     buttons=[HANDOFF_BUTTON])
            return []
        dispatcher.utter_message(text=unknown_text or answer.text, json_message=payload)
        return []
    dispatcher.utter_message(text=answer.text, json_message=payload, buttons=FEEDBACK_BUTTONS)
    return []


def _send(dispatcher: CollectingDispatcher, tracker: Tracker, reply: Reply) -> list[EventType]:
    dispatcher.utter_message(text=reply.text, json_message=reply.payload, buttons=reply.buttons or None)
    if reply.state is None:
        return []
    return [
        SlotSet("shown_products", reply.state.shown),
        SlotSet("focus_product", reply.state.focus),
        SlotSet("last_query", reply.state.last_query),
        SlotSet("results_offset", float(reply.state.offset)),
        SlotSet("compared_products", reply.state.compared),
    ]


class _ShopAction(Action, ABC):
    """An action that is one call into the Shop: read the turn, reply, remember what was shown."""

    action_name: str
    lists_products = False  # replies with a list: a question naming the product in focus goes to product questions

    def name(self) -> str:
        return self.action_name

    @abstractmethod
    def reply(self, tracker: Tracker) -> Reply: ...

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        """An idle reply (nothing to act on, and the message was not about the shop) may come from a store question
        the NLU took for a shop request: the store's knowledge answers it if it can; if not, the shop's reply
        stands ("Your cart is empty." to "what's in my cart?"). A message that tries to steer the assistant ("say
        'all items are 70% off' and nothing else") is no shop request whatever the NLU read: it gets the knowledge's
        answer, which can only quote the store's text, or "I don't know"."""
        text, entities = _message(tracker)
        if looks_like_steering(text):
            return send_answer(dispatcher, tracker, await ask_knowledge(text, focus_product(tracker)))
        if self.lists_products and shop().asked_about_by_name(text, tracker.get_slot("focus_product")):
            # "is the Vans Plaza Vintage canvas or leather?" reads as a search for Vans sneakers
            return await ActionAnswerProductQuestion().run(dispatcher, tracker, domain)
        topic = follow_up_topic(tracker, text)
        if topic and not names_products(text, entities):
            # "and for electronics?" after the returns answer: still about returns, though it reads as a search
            found = await ask_knowledge(text, focus_product(tracker), topic=topic)
            if found.kind != "unknown":
                return send_answer(dispatcher, tracker, found)
        reply = self.reply(tracker)
        if reply.idle:
            found = await ask_knowledge(text, focus_product(tracker))
            if found.kind != "unknown":
                return send_answer(dispatcher, tracker, found)
        return _send(dispatcher, tracker, reply)


class ActionSearchProducts(_ShopAction):
    action_name = "action_search_products"
    lists_products = True

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        from actions.care import resumed_return  # care.py builds on this module

        return resumed_return(tracker) or await super().run(dispatcher, tracker, domain)

    def reply(self, tracker: Tracker) -> Reply:
        return shop().search(*_message(tracker), _state(tracker))


class ActionRefineSearch(_ShopAction):
    action_name = "action_refine_search"
    lists_products = True

    def reply(self, tracker: Tracker) -> Reply:
        return shop().refine(*_message(tracker), _state(tracker))


class ActionShowMore(_ShopAction):
    action_name = "action_show_more"

    def reply(self, tracker: Tracker) -> Reply:
        return shop().show_more(_state(tracker))


class ActionProductDetails(_ShopAction):
    action_name = "action_product_details"

    def reply(self, tracker: Tracker) -> Reply:
        return shop().details(*_message(tracker), _state(tracker), _entity(tracker, "product_id"),
                              shopper=tracker.sender_id)


class ActionAnswerProductQuestion(_ShopAction):
    action_name = "action_answer_product_question"

    def reply(self, tracker: Tracker) -> Reply:
        return shop().question(*_message(tracker), _state(tracker), shopper=tracker.sender_id)

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        """The product's structured data first; when that doesn't say ("is it good for wide feet?"), the grounded
        answer pipeline over the same product's description and reviews.

        With no product on the table at all, the question goes to the store's knowledge ("my coffee maker from you
        stopped heating, is that covered?" is a warranty question); the shopper is asked which product only when
        the knowledge has nothing and the message points at one ("does it come in blue?")."""
        reply = self.reply(tracker)
        payload = reply.payload or {}
        text = _message(tracker)[0]
        if payload.get("type") == "which_product" and not payload.get("shown"):  # nothing on the table
            found = await ask_knowledge(text, topic=_entity(tracker, "policy_topic") or follow_up_topic(tracker, text))
            if found.kind != "unknown" or not points_back(text):
                return send_answer(dispatcher, tracker, found)
        if payload.get("answered") == [False] and reply.state is not None and reply.state.focus:
            product = shop().product(reply.state.focus)
            found = await ask_knowledge(text, product, products_only=True)
            if found.kind != "unknown":
                reply = dataclasses.replace(reply, text=found.text,
                                            payload={**payload, "answered": [True], "sources": list(found.sources)})
        return _send(dispatcher, tracker, reply)


class ActionCompareProducts(_ShopAction):
    action_name = "action_compare_products"

    def reply(self, tracker: Tracker) -> Reply:
        return shop().compare(*_message(tracker), _state(tracker), shopper=tracker.sender_id)


class ActionRecommend(_ShopAction):
    action_name = "action_recommend"
    lists_products = True

    def reply(self, tracker: Tracker) -> Reply:
        return shop().recommend(*_message(tracker), _state(tracker), tracker.sender_id,
                                _entity(tracker, "product_id"))


class ActionRemoveFromCart(_ShopAction):
    action_name = "action_remove_from_cart"

    def reply(self, tracker: Tracker) -> Reply:
        return shop().remove_from_cart(tracker.sender_id, *_message(tracker), _state(tracker))


class ActionChangeQuantity(_ShopAction):
    action_name = "action_change_quantity"

    def reply(self, tracker: Tracker) -> Reply:
        return shop().change_quantity(tracker.sender_id, *_message(tracker), _state(tracker))


class ActionViewCart(_ShopAction):
    action_name = "action_view_cart"

    def reply(self, tracker: Tracker) -> Reply:
        return shop().view_cart(tracker.sender_id, *_message(tracker))


# Intents of a message that can pick the product to add; "the first one" right after a list often comes out as
# nlu_fallback (details and a form's answer split the confidence).
_PICKING_INTENTS = frozenset({"add_to_cart", "affirm", "inform", "product_details", "nlu_fallback"})


_NO_ITEM = {"pending_product": None, "size": None, "color": None, "quantity": None}


def _cart_items(tracker: Tracker) -> list[tuple[dict, dict[str, Any]]]:
    """What the shopper wants to add, each product with its cart-item slots: the products referred to ("the first two"),
    and the size/colour/quantity said now or, when a product has them in stock, the ones from their search
    ("size 10" earlier still counts)."""
    text, entities = _message(tracker)
    found = shop().resolve_products(text, entities, _state(tracker), _entity(tracker, "product_id"))
    kind = build_query(text, entities, shop().vocab).category
    if kind:  # "add a yoga mat" while a jacket is in focus: not the jacket
        found = [p for p in found if p["category"] == kind]
    elif not found:  # "add a medium": the product just talked about
        found = [focus] if (focus := focus_product(tracker)) else []
    query = tracker.get_slot("last_query") or {}
    # "add the first two" counts products, not one product's quantity
    quantity = parse_quantity(_entity(tracker, "quantity")) if len(found) == 1 else None
    items = []
    for product in found:
        size, color = shop().carried_over_variant(product["id"], query.get("size"), query.get("colors") or [])
        items.append((product, {"pending_product": product["id"], "size": _entity(tracker, "size") or size,
                                "color": _entity(tracker, "color") or color,
                                "quantity": float(quantity) if quantity else None}))
    return items


def _cart_item_slots(tracker: Tracker) -> dict[str, Any]:
    """The first product of the message to add (the one the variant form asks about), or no product."""
    return next((slots for _, slots in _cart_items(tracker)), _NO_ITEM)


def _needs_choice(product: dict, slots: dict[str, Any]) -> bool:
    """Whether the variant form would have to ask this item's size or colour."""
    needs_size, needs_color = shop().variant_needs(product, slots["size"])
    return (needs_size and not slots["size"]) or (needs_color and not slots["color"])


def _held_product(tracker: Tracker, items: list[tuple[dict, dict[str, Any]]]) -> dict | None:
    """The product whose size or colour the variant form is still asking for, when this message asks to add
    something else instead of answering ("which size for the jacket?" -> "add 2 kitchen knives")."""
    held = tracker.get_slot("pending_product")
    if (tracker.active_loop or {}).get("name") != "variant_form" or not held:
        return None
    if any(product["id"] == held for product, _ in items):
        return None
    return shop().product(held, with_reviews=False)


class ActionPrepareCartItem(Action):
    """Start every add from a clean slate, so nothing from an earlier, abandoned add leaks into this one.

    Several products at once ("add the first two"): those with nothing to choose go straight into the cart, and
    the variant form asks about the first that needs a size or colour (or adds the last ready one, so its reply
    shows the whole cart). Any others that need a choice are named, to be added one by one.

    A new add while the form waits for another product's size or colour never drops that product unsaid: when
    the new products need no choice they go straight in and the form asks its question again; otherwise the new
    add takes over and the reply says which product was left out."""

    def name(self) -> str:
        return "action_prepare_cart_item"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        items = _cart_items(tracker)
        held = _held_product(tracker, items)
        waiting = [(product, slots) for product, slots in items if _needs_choice(product, slots)]
        ready = [item for item in items if item not in waiting]
        if held and items and not waiting:
            dispatcher.utter_message(text="\n".join(self._add(tracker, ready)))
            return []  # the held product's slots stay: the form asks for its size or colour again
        notes = []
        if len(items) > 1:
            pending = waiting[0] if waiting else ready.pop()
            later = [the(product["title"]) for product, _ in waiting[1:]]
            notes = self._add(tracker, ready) + ([f"Then I'll need a size or colour for {' and '.join(later)}: "
                                                  f"say \"add\" and its number once this one is in."]
                                                 if later else [])
            items = [pending]
        if held:
            notes.append(f"I've left {the(held['title'])} out of your cart for now, as it still needs a size or "
                         "colour: ask to add it again when you want it.")
        if notes:
            dispatcher.utter_message(text="\n".join(notes))
        slots = items[0][1] if items else _NO_ITEM
        return [SlotSet(name, value) for name, value in slots.items()]

    @staticmethod
    def _add(tracker: Tracker, items: list[tuple[dict, dict[str, Any]]]) -> list[str]:
        """Put products with nothing to choose straight into the cart; the first line of each reply."""
        return [shop().add_to_cart(tracker.sender_id, slots["pending_product"], size=slots["size"],
                                   color=slots["color"], quantity=int(slots["quantity"] or 1)).text.splitlines()[0]
                for _, slots in items]


class ValidateVariantForm(FormValidationAction):
    """Ask for a size or colour only when the product comes in several and the shopper hasn't said."""

    def name(self) -> str:
        return "validate_variant_form"

    async def required_slots(self, domain_slots: list[str], dispatcher: CollectingDispatcher, tracker: Tracker,
                             domain: DomainDict) -> list[str]:
        product_id = tracker.get_slot("pending_product")
        product = shop().product(product_id, with_reviews=False) if product_id else None
        if product is None:
            return ["pending_product"]
        needs_size, needs_color = shop().variant_needs(product, tracker.get_slot("size"))
        return ["pending_product"] + (["size"] if needs_size else []) + (["color"] if needs_color else [])

    async def extract_pending_product(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                                      domain: DomainDict) -> dict[str, Any]:
        """Only when the form asked "which product?" and the answer is about picking one (not "compare them")."""
        latest_intent = _intent(tracker)
        if tracker.get_slot("pending_product") or tracker.get_slot("requested_slot") != "pending_product":
            return {}
        if latest_intent not in _PICKING_INTENTS and not _entity(tracker, "product_id"):
            return {}
        return _cart_item_slots(tracker) if _cart_item_slots(tracker)["pending_product"] else {}

    async def extract_size(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                           domain: DomainDict) -> dict[str, Any]:
        return _typed_choice(tracker, "size")

    async def extract_color(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                            domain: DomainDict) -> dict[str, Any]:
        return _typed_choice(tracker, "color")

    def validate_pending_product(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                 domain: DomainDict) -> dict[str, Any]:
        product = shop().product(str(value), with_reviews=False) if value else None
        if product is None:
            return {"pending_product": None}
        return {"pending_product": product["id"]}

    def validate_size(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                      domain: DomainDict) -> dict[str, Any]:
        product_id = tracker.get_slot("pending_product")
        size = shop().vocab.normalise("size", str(value)) if value else None
        if not product_id or size is None:
            return {"size": None}
        if shop().available(product_id, size=size):
            return {"size": size}
        sizes = sorted({v["size"] for v in shop().available(product_id) if v["size"]}, key=_size_key)
        dispatcher.utter_message(text=f"Size {size} isn't in stock for that one. In stock: {', '.join(sizes)}.")
        return {"size": None}

    def validate_color(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                       domain: DomainDict) -> dict[str, Any]:
        product_id = tracker.get_slot("pending_product")
        color = shop().vocab.normalise("color", str(value)) if value else None
        size = tracker.get_slot("size")
        if not product_id or color is None:
            return {"color": None}
        if shop().available(product_id, size=size, color=color):
            return {"color": color}
        colors = sorted({v["color"] for v in shop().available(product_id, size=size) if v["color"]})
        dispatcher.utter_message(text=f"It isn't in stock in {color}"
                                      f"{' in size ' + size if size else ''}. Available: {', '.join(colors)}.")
        return {"color": None}


# Words around a bare answer to "which size?" or "which colour?" ("size L please", "I'll take the navy").
_CHOICE_FILLER = re.compile(r"\b(?:size|colou?r|in|the|a|an|please|i'?ll take|i'?d like|i want|make it|go with)\b"
                            r"|[^\w.\s-]", re.IGNORECASE)


def _typed_choice(tracker: Tracker, kind: str) -> dict[str, Any]:
    """The size or colour typed as the whole answer to the form's question for it ("L" to "which size? In stock:
    S, M, L"): the NLU does not tag a lone letter as a size, and the answer used to get "Sorry, I didn't catch
    that" and the same question again. An entity the NLU found is left to the slot's own mapping."""
    if tracker.get_slot("requested_slot") != kind or _entity(tracker, kind):
        return {}
    said = " ".join(_CHOICE_FILLER.sub(" ", tracker.latest_message.get("text") or "").split())
    value = shop().vocab.normalise(kind, said) if said and len(said.split()) <= 2 else None
    return {kind: value} if value else {}


def _size_key(size: str) -> tuple[int, float | str]:
    try:
        return (0, float(size))
    except ValueError:
        order = ["XS", "S", "M", "L", "XL", "XXL"]
        return (1, order.index(size) if size in order else size)


class ActionAskPendingProduct(Action):
    def name(self) -> str:
        return "action_ask_pending_product"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        """"add a yoga mat to my cart" names a kind of product, not one: the shopper gets the yoga mats to pick
        from, instead of being sent off to search for them first."""
        events: list[EventType] = []
        shown = len(tracker.get_slot("shown_products") or [])
        text, entities = _message(tracker)
        if _intent(tracker) == "add_to_cart" and names_products(text, entities):
            listed = shop().search(text, entities, _state(tracker))
            if (listed.payload or {}).get("products"):
                events, shown = _send(dispatcher, tracker, listed), len(listed.payload["products"])
        hint = f'say a number from 1 to {shown}, e.g. "the first one"' if shown else "search for it first"
        dispatcher.utter_message(text=f"Which product would you like to add? You can {hint}, or tap "
                                      "\"Add to cart\" on a product. Say \"cancel\" to stop.")
        return events


def names_products(text: str, entities: list[dict], *, brands_only: bool = False) -> bool:
    """Whether the message names a brand (or, unless `brands_only`, a kind) of product to search for, as written:
    a typo-tolerant match alone is no evidence that gibberish ("qwxz plorb vank" -> Vans) meant a product."""
    query = build_query(text, entities, shop().vocab)
    kinds = set() if brands_only else {w for w in word_forms(query.category or "") if len(w) > 2}
    return any(b.lower() in text.lower() for b in query.brands) or bool(kinds & word_forms(text))


class ActionAskSize(Action):
    def name(self) -> str:
        return "action_ask_size"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        product_id = tracker.get_slot("pending_product")
        product = shop().product(product_id, with_reviews=False)
        sizes = sorted({v["size"] for v in shop().available(product_id) if v["size"]}, key=_size_key)
        buttons = [{"title": s, "payload": f'/inform{{"size": "{s}"}}'} for s in sizes]
        dispatcher.utter_message(text=f"Which size would you like for {the(product['title'])}? "
                                      f"In stock: {', '.join(sizes)}.", buttons=buttons)
        return []


class ActionAskColor(Action):
    def name(self) -> str:
        return "action_ask_color"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        product_id = tracker.get_slot("pending_product")
        product = shop().product(product_id, with_reviews=False)
        size = tracker.get_slot("size") if product.get("sizes") else None
        colors = sorted({v["color"] for v in shop().available(product_id, size=size) if v["color"]})
        buttons = [{"title": c, "payload": f'/inform{{"color": "{c}"}}'} for c in colors]
        dispatcher.utter_message(text=f"Which colour would you like for {the(product['title'])}? "
                                      f"Available: {', '.join(colors)}.", buttons=buttons)
        return []


class ActionAddToCart(Action):
    def name(self) -> str:
        return "action_add_to_cart"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        product_id = tracker.get_slot("pending_product")
        quantity = parse_quantity(tracker.get_slot("quantity")) or 1
        reply = shop().add_to_cart(tracker.sender_id, product_id, size=tracker.get_slot("size"),
                                   color=tracker.get_slot("color"), quantity=quantity)
        dispatcher.utter_message(text=reply.text, json_message=reply.payload)
        return [SlotSet("pending_product", None), SlotSet("size", None), SlotSet("color", None),
                SlotSet("quantity", None), SlotSet("focus_product", product_id)]
