"""Checkout, orders, returns, handoff and feedback actions: slots in, a call into assistant/store, text out.

The rules live in assistant/store (orders, returns, handoff) and the wording in assistant/dialogue/care.py.
"""
from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import ActiveLoop, EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.actions import (HANDOFF_BUTTON, ActionCompareProducts, ActionProductDetails, ActionRefineSearch,
                             ActionSearchProducts, _entity, _intent, _message, _state, answer_payload, ask_knowledge,
                             before_latest_message, focus_product, follow_up_topic, hand_over, last_bot_message,
                             names_products, send_answer, shop)
from assistant.dialogue import care
from assistant.dialogue.render import NOT_UNDERSTOOD, OUT_OF_SCOPE, money, only_english, the
from assistant.dialogue.references import asks_extreme, resolve
from assistant.nlu.signals import MAX_MESSAGE_CHARS, foreign_language, too_long
from assistant.search.query import ENTITY_KINDS, PRICE_ENTITIES
from assistant.store import feedback, handoff, orders, returns
from assistant.store.cart import load_cart

YES_NO = [{"title": "Yes", "payload": "/affirm"}, {"title": "No", "payload": "/deny"}]
_CHECKOUT_SLOTS = ("checkout_confirmed", "checkout_email", "shipping_country")
_ANSWER_SLOTS = ("return_item", "return_reason", "item_unused", "confirm_cancel")  # about one order
_TASK_SLOTS = ("order_number", "order_email") + _ANSWER_SLOTS
_GOALS = {"order_status": "status", "cancel_order": "cancel", "return_request": "return"}
_CHANGE_WORDS = ("change", "modify", "edit", "update", "switch")
_CANCEL = re.compile(r"\bcancel", re.IGNORECASE)
# Intents that data/rules.yml handles in the middle of the checkout and order forms (leave, answer and resume,
# or switch task): a message with one of them is not a (bad) answer to the form's question. "No"/"stop" is
# handled by the forms themselves, because for a yes/no question it is the answer.
_INTERRUPTIONS = frozenset({"human_handoff", "complain", "search_products", "recommend", "goodbye", "ask_policy",
                            "view_cart", "order_status", "cancel_order", "return_request"})
# Pleasantries said while a form waits for a number or an email ("thx", "hi"): not a wrong answer, so the form asks
# again without telling the shopper what an order number looks like.
_SMALL_TALK = frozenset({"thanks", "greet"})
_STOPPED = "stopped"
NO_SUCH_LINE = 0.0  # an answer to "which item?" that names none (order lines count from 1)


_LEADING_YES = re.compile(r"^\W*(?:yes|yeah|yep|yup|sure|correct|of course)\b", re.IGNORECASE)
_LEADING_NO = re.compile(r"^\W*(?:no|nope|nah|not really)\b", re.IGNORECASE)


def _yes_no(tracker: Tracker) -> bool | None:
    """The answer to a yes/no question: the intent, else a yes or no the message opens with ("yes, unused" and
    "no, I wore them" read as other intents: the words after the yes or no are the shopper's reasons)."""
    answer = {"affirm": True, "deny": False}.get(_intent(tracker) or "")
    if answer is None:
        text = _message(tracker)[0]
        answer = True if _LEADING_YES.search(text) else False if _LEADING_NO.search(text) else None
    return answer


Validator = Callable[..., dict[str, Any]]


def _answers_only(validate: Validator) -> Validator:
    """rasa-sdk validates every slot set since the shopper's last message, including those an action has just
    cleared to start a task afresh. A cleared slot (None) is not an answer: it must not get "that doesn't look
    like an email address" before the first question is even asked."""

    @functools.wraps(validate)
    def checked(self: Any, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                domain: DomainDict) -> dict[str, Any]:
        return {} if value is None else validate(self, value, dispatcher, tracker, domain)

    return checked


def _requested(tracker: Tracker, slot: str) -> bool:
    return tracker.get_slot("requested_slot") == slot


def _answering(tracker: Tracker, slot: str) -> bool:
    """The form asked for `slot` and the message tries to answer it (not "stop" and not another request)."""
    return _requested(tracker, slot) and _intent(tracker) not in _INTERRUPTIONS | {"deny"}


def _yes_no_slot(tracker: Tracker, slot: str) -> dict[str, Any]:
    """A yes/no answer for `slot`; anything else that isn't another request asks the question again (a None
    value, not a rejection: a rejected form with no rule for the intent would leave the dialogue stuck)."""
    if not _requested(tracker, slot):
        return {}
    answer = _yes_no(tracker)
    if answer is not None:
        return {slot: answer}
    return {slot: None} if _answering(tracker, slot) else {}


def _stopping(tracker: Tracker, slots: tuple[str, ...]) -> bool:
    """"No" / "stop" while the form waits for one of these (free-text) slots: the shopper is leaving the form."""
    return _intent(tracker) == "deny" and tracker.get_slot("requested_slot") in slots


# ---- checkout ---------------------------------------------------------------------------------------------------
class ActionAskCheckoutConfirmed(Action):
    def name(self) -> str:
        return "action_ask_checkout_confirmed"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        reply = shop().checkout_summary(tracker.sender_id)
        dispatcher.utter_message(text=reply.text + "\nShall I place the order? (yes/no)", json_message=reply.payload,
                                 buttons=YES_NO)
        return []


class ValidateCheckoutForm(FormValidationAction):
    """Confirm, then email, then country; nothing to ask when the cart is empty or the shopper said no."""

    def name(self) -> str:
        return "validate_checkout_form"

    async def required_slots(self, domain_slots: list[str], dispatcher: CollectingDispatcher, tracker: Tracker,
                             domain: DomainDict) -> list[str]:
        if not load_cart(shop().store, shop().catalog, tracker.sender_id).lines:
            return []
        if tracker.get_slot("checkout_confirmed") is False:
            return ["checkout_confirmed"]  # filled: the form ends, and the "no" is kept for action_place_order
        return domain_slots

    async def extract_checkout_confirmed(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                                         domain: DomainDict) -> dict[str, Any]:
        if _stopping(tracker, ("checkout_email", "shipping_country")):
            return {"checkout_confirmed": False}  # nothing is placed; the cart stays as it is
        return _yes_no_slot(tracker, "checkout_confirmed")

    async def extract_checkout_email(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                                     domain: DomainDict) -> dict[str, Any]:
        email = orders.parse_email(_message(tracker)[0])
        if not _requested(tracker, "checkout_email") or not (email or _answering(tracker, "checkout_email")):
            return {}
        return {"checkout_email": email or "invalid"}

    @_answers_only
    def validate_checkout_email(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                domain: DomainDict) -> dict[str, Any]:
        email = orders.parse_email(str(value))
        if email is None:
            dispatcher.utter_message(text=care.BAD_EMAIL)
        return {"checkout_email": email}

    async def extract_shipping_country(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                                       domain: DomainDict) -> dict[str, Any]:
        country = orders.parse_country(_message(tracker)[0])
        if not _requested(tracker, "shipping_country") or not (country or _answering(tracker, "shipping_country")):
            return {}
        return {"shipping_country": country or "elsewhere"}

    @_answers_only
    def validate_shipping_country(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                  domain: DomainDict) -> dict[str, Any]:
        if value not in orders.COUNTRIES:
            dispatcher.utter_message(text=care.country_refusal())
            return {"shipping_country": None}
        return {"shipping_country": value}


class ActionStartCheckout(Action):
    """Every checkout confirms the cart as it is now: answers from an abandoned checkout are not reused."""

    def name(self) -> str:
        return "action_start_checkout"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        return [SlotSet(s, None) for s in _CHECKOUT_SLOTS]


class ActionPlaceOrder(Action):
    def name(self) -> str:
        return "action_place_order"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        reset = [SlotSet(s, None) for s in _CHECKOUT_SLOTS]
        if tracker.get_slot("checkout_confirmed") is not True:
            cart = load_cart(shop().store, shop().catalog, tracker.sender_id)
            pending = tracker.get_slot("pending_product")
            unfinished = shop().product(pending, with_reviews=False) if pending and not cart.lines else None
            if unfinished:  # "checkout" said instead of answering "which colour?"
                dispatcher.utter_message(text=f"Your cart is empty: {the(unfinished['title'])} isn't in it yet, "
                                              "because its size or colour wasn't picked. Say \"add it\" to pick "
                                              "one and add it.")
                return reset + [SlotSet("pending_product", None), SlotSet("focus_product", unfinished["id"])]
            dispatcher.utter_message(text="Okay, I haven't placed anything; your cart is saved." if cart.lines else
                                     "Your cart is empty, so there's nothing to check out yet. What are you "
                                     "looking for?")
            return reset
        email, country = tracker.get_slot("checkout_email"), tracker.get_slot("shipping_country")
        try:
            order = orders.place_order(shop().store, shop().catalog, tracker.sender_id, email=email, country=country)
        except orders.CheckoutError as error:
            dispatcher.utter_message(text=str(error))
            return reset
        shop().log_purchase(tracker.sender_id, [item.product_id for item in order.items])
        dispatcher.utter_message(
            text=f"Order {order.number} is placed: {len(order.items)} item{'s' if len(order.items) > 1 else ''}, "
                 f"total {money(order.total)} before tax, shipping to {orders.COUNTRIES[order.country]}. "
                 f"A confirmation is on its way to {order.email}. {care.NO_PAYMENT} You can change or cancel it "
                 f"within 1 hour: just ask.",
            json_message={"type": "order_placed", "number": order.number, "total": order.total})
        return reset + [SlotSet("verified_order", {"number": order.number, "email": order.email})]


# ---- orders: status, cancel/change, returns ----------------------------------------------------------------------
_STATUS_WORDS = re.compile(r"\b(?:where|status|track|tracking|arrive|arriving|shipped|delivered)\b", re.IGNORECASE)


def _goal(tracker: Tracker, text: str, default: str = "status") -> str:
    """What the shopper wants done with an order: from the intent, else from the words when the NLU could not
    place the message ("I received the wrong item in HL-100231" is a return, "where is HL-100241?" a status
    check), else `default`. "change" is a cancel with a change word."""
    lowered = text.lower()
    goal = _GOALS.get(_intent(tracker) or "")
    if goal is None:
        goal = ("cancel" if "cancel" in lowered else "status" if _STATUS_WORDS.search(text)
                else "return" if returns.parse_reason(text) else default)
    return "change" if goal == "cancel" and any(word in lowered for word in _CHANGE_WORDS) else goal


def _task_request(tracker: Tracker) -> str:
    """The message that set the order task in progress (what the shopper asked for, in their words): the one
    before the latest goal was set, whichever action set it."""
    started = False
    for event in reversed(tracker.events):
        if event.get("event") == "slot" and event.get("name") == "order_goal" and event.get("value"):
            started = True
        elif started and event.get("event") == "user":
            return event.get("text") or ""
    return ""


def _return_line(tracker: Tracker) -> int:
    """The order line picked to return; 0 (no line) before one is picked or when the answer named none."""
    return int(tracker.get_slot("return_item") or 0)


def _owned(tracker: Tracker) -> orders.Order | None:
    """The order this conversation has proven it owns (number + email), reloaded fresh."""
    number, email = tracker.get_slot("order_number"), tracker.get_slot("order_email")
    proven = tracker.get_slot("verified_order") or {}
    if not number or not email or proven.get("number") != number:
        return None
    return orders.verified(shop().store, number, email)


def _last_question(tracker: Tracker) -> str | None:
    """The action that spoke last before the shopper's latest message (the form's ask action, say)."""
    action = before_latest_message(tracker, lambda e: e.get("event") == "action" and e.get("name") != "action_listen")
    return action.get("name") if action else None


def resumed_return(tracker: Tracker) -> list[EventType] | None:
    """Asked which item to return, a shopper who names it ("the headphones") sounds like a search to the NLU, and
    data/rules.yml leaves the order form for a search. The search action hands such a message back here: when it
    answers the question, naming exactly one line of the order, the form resumes with that line filled and asks
    its next question; otherwise (None) the search goes ahead."""
    if _last_question(tracker) != "action_ask_return_item":
        return None
    order = _owned(tracker)
    lines = returns.named_lines(_message(tracker)[0], order.items) if order else []
    if len(lines) != 1:
        return None
    return [ActiveLoop("order_form"), SlotSet("return_item", float(lines[0])), FollowupAction("order_form")]


class ActionStartOrderTask(Action):
    """Remember what the shopper wants done and start from a clean slate; an order this chat already proved it
    owns is not asked for again."""

    def name(self) -> str:
        return "action_start_order_task"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        text = _message(tracker)[0]
        goal = _goal(tracker, text)
        number, email = orders.parse_order_number(text), orders.parse_email(text)
        proven = tracker.get_slot("verified_order") or {}
        if proven and number in (None, proven.get("number")):
            number, email = proven["number"], proven["email"]
        elif number is None and email is None and goal == tracker.get_slot("order_goal"):
            # the same task asked again mid-way ("I don't know my order number"): the email given stays
            email = orders.parse_email(tracker.get_slot("order_email"))
        if number is None and care.lost_number(text):
            dispatcher.utter_message(text=care.LOST_NUMBER_HELP, buttons=[HANDOFF_BUTTON],
                                     json_message={"type": "order_help", "offer": "handoff"})
        topic = care.policy_question(text, goal)
        if topic and not orders.parse_order_number(text):
            # "can I return the smartwatch after 20 days?" is answered from the policy first, also when this chat
            # has already proved an order; the form's question or result follows
            answer = await ask_knowledge(text, topic=topic, generate=False)
            if answer.kind != "unknown":
                dispatcher.utter_message(text=answer.text, json_message=answer_payload(answer))
        # the reason said with the request ("it arrived broken") is not asked again
        reason = returns.parse_reason(text) if goal == "return" else None
        return ([SlotSet("order_goal", goal)] + [SlotSet(s, None) for s in _TASK_SLOTS]
                + [SlotSet("order_number", number), SlotSet("order_email", email), SlotSet("return_reason", reason)])


class ValidateOrderForm(FormValidationAction):
    """Number and email first (verified together, every miss counted); then only what the goal needs."""

    def name(self) -> str:
        return "validate_order_form"

    async def required_slots(self, domain_slots: list[str], dispatcher: CollectingDispatcher, tracker: Tracker,
                             domain: DomainDict) -> list[str]:
        if tracker.get_slot("order_goal") == _STOPPED:
            return ["order_goal"]  # filled: the form ends, and the "stop" is kept for action_order_task
        if orders.failed_lookups(shop().store, tracker.sender_id) >= orders.MAX_FAILED_LOOKUPS:
            return []
        # The goal is always filled (action_start_order_task sets it) and listed only so that a change of goal
        # read by extract_order_number is kept: rasa-sdk drops extracted slots the form doesn't require.
        goal = tracker.get_slot("order_goal")
        return (["order_goal"] if goal else []) + ["order_number", "order_email"] + self._task_slots(tracker, goal)

    @staticmethod
    def _task_slots(tracker: Tracker, goal: str | None) -> list[str]:
        """What the goal needs asked once the order is proven."""
        order = _owned(tracker)
        if order is None:
            return []
        if goal == "cancel" and order.changeable(orders.now()):
            return ["confirm_cancel"]
        if goal == "return" and order.status == "delivered":
            picked = order.item(_return_line(tracker))
            if picked and returns.item_refusal(shop().store, order, picked):
                return ["return_item"]  # the only item, refused before the reason is asked (action_order_task: why)
            return ["return_item", "return_reason", "item_unused"]
        return []

    async def extract_order_number(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                                   domain: DomainDict) -> dict[str, Any]:
        text = _message(tracker)[0]
        number = orders.parse_order_number(text)
        proven = (tracker.get_slot("verified_order") or {}).get("number")
        if number and proven and number != proven and tracker.get_slot("order_number") == proven:
            # Another order in the middle of a task on a proven one ("never mind. where is HL-100241?"): a valid
            # number keeps the form going, so data/rules.yml's task switch never runs. The goal is read here and
            # the answers about the last order are dropped (its "which item?" line is not this order's).
            goal = _goal(tracker, text, default=tracker.get_slot("order_goal") or "status")
            return {"order_number": number, "order_goal": goal, **dict.fromkeys(_ANSWER_SLOTS)}
        if number:
            return {"order_number": number}
        if _stopping(tracker, ("order_number", "order_email", "return_item", "return_reason")):
            return {"order_goal": _STOPPED}
        if orders.parse_email(_message(tracker)[0]):  # the email alone, corrected after a miss: no bad number
            return {}
        return {"order_number": "invalid"} if _answering(tracker, "order_number") else {}

    async def extract_order_email(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                                  domain: DomainDict) -> dict[str, Any]:
        email = orders.parse_email(_message(tracker)[0])
        if email:  # also when given before it was asked for ("HL-100231, jane@example.com")
            return {"order_email": email}
        return {"order_email": "invalid"} if _answering(tracker, "order_email") else {}

    def _check_pair(self, number: str | None, email: str | None, dispatcher: CollectingDispatcher,
                    tracker: Tracker) -> dict[str, Any]:
        if not number or not email:
            return {"order_number": number, "order_email": email}
        order = orders.verify(shop().store, tracker.sender_id, number, email)
        if order is not None:
            proven = {"order_number": number, "order_email": email,
                      "verified_order": {"number": order.number, "email": order.email}}
            # a return of a one-item order needs no "which item?", nor one whose item the request named ("return
            # the water bottle from HL-100233")
            named = returns.named_lines(_task_request(tracker), order.items) if len(order.items) > 1 else []
            if len(order.items) == 1 or len(named) == 1:
                proven["return_item"] = float(named[0] if named else order.items[0].line)
            return proven
        if orders.failed_lookups(shop().store, tracker.sender_id) < orders.MAX_FAILED_LOOKUPS:
            dispatcher.utter_message(text=care.NOT_FOUND)  # when locked, the form ends and the task says so
        return {"order_number": None, "order_email": None}

    def validate_order_goal(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                            domain: DomainDict) -> dict[str, Any]:
        return {"order_goal": value}  # set by actions, not typed by the shopper: nothing to check

    @_answers_only
    def validate_order_number(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                              domain: DomainDict) -> dict[str, Any]:
        number = orders.parse_order_number(str(value))
        if number is None:
            if _intent(tracker) not in _SMALL_TALK:
                dispatcher.utter_message(text="Order numbers look like HL-123456. Could you check yours?")
            return {"order_number": None}
        if orders.parse_email(_message(tracker)[0]):  # both in one message: the email's validation checks the pair
            return {"order_number": number}
        return self._check_pair(number, orders.parse_email(tracker.get_slot("order_email")), dispatcher, tracker)

    @_answers_only
    def validate_order_email(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                             domain: DomainDict) -> dict[str, Any]:
        email = orders.parse_email(str(value))
        if email is None:
            if _intent(tracker) not in _SMALL_TALK:
                dispatcher.utter_message(text=care.BAD_EMAIL)
            return {"order_email": None}
        number = orders.parse_order_number(tracker.get_slot("order_number"))
        return self._check_pair(number, email, dispatcher, tracker)

    async def extract_return_item(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                                  domain: DomainDict) -> dict[str, Any]:
        order = _owned(tracker)
        if order is None or not _requested(tracker, "return_item"):
            return {}
        text, entities = _message(tracker)
        lines = [{"id": str(i.line), "title": i.title, "brand": ""} for i in order.items]
        bare = text.strip().rstrip(".").lstrip("#")  # the list is numbered, so "2" means line 2
        referred = resolve(text, entities, lines, None)
        # "it's too big" names no item: "it" is the only one, or none of several (not the first by default)
        referred_ids = referred.product_ids if referred.how != "focus" or len(lines) == 1 else []
        picked = ([bare] if bare.isdigit() else referred_ids
                  or [str(n) for n in returns.named_lines(text, order.items)])
        reason = returns.parse_reason(text)  # "the shoes, they're too small": the next question answered too
        said = {"return_reason": reason} if reason is not None else {}
        if len(picked) == 1:
            return {"return_item": float(picked[0]), **said}
        return {"return_item": NO_SUCH_LINE, **said} if _answering(tracker, "return_item") else {}

    @_answers_only
    def validate_return_item(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                             domain: DomainDict) -> dict[str, Any]:
        order = _owned(tracker)
        item = order.item(int(value)) if order else None
        if item is None:
            dispatcher.utter_message(text="Please pick one of the items by its number, e.g. \"1\".")
            return {"return_item": None}
        refusal = returns.item_refusal(shop().store, order, item)
        if refusal is not None and len(order.items) > 1:  # asked again: another item may still go back
            dispatcher.utter_message(text=care.item_refusal_text(item, refusal))
            return {"return_item": None}
        return {"return_item": float(value)}

    async def extract_return_reason(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                                    domain: DomainDict) -> dict[str, Any]:
        if not _requested(tracker, "return_reason"):
            return {}
        text = _message(tracker)[0]
        reason = returns.parse_reason(text)
        order = _owned(tracker)
        other = returns.named_lines(text, order.items) if order and reason is None else []
        if len(other) == 1 and other[0] != _return_line(tracker):
            return {"return_item": float(other[0])}  # "what about the smartwatch": another item, asked again
        if reason is None and not _answering(tracker, "return_reason"):
            return {}
        if reason is None:
            dispatcher.utter_message(text="Sorry, which of these is closest? Defective, wrong item, wrong size, "
                                          "different colour, or changed your mind.")
        return {"return_reason": reason}

    async def extract_item_unused(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                                  domain: DomainDict) -> dict[str, Any]:
        return _yes_no_slot(tracker, "item_unused")

    async def extract_confirm_cancel(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                                     domain: DomainDict) -> dict[str, Any]:
        return _yes_no_slot(tracker, "confirm_cancel")


class ActionAskOrderNumber(Action):
    def name(self) -> str:
        return "action_ask_order_number"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        dispatcher.utter_message(text=care.ask_order_number(orders.parse_email(tracker.get_slot("order_email"))))
        return []


class ActionAskReturnItem(Action):
    def name(self) -> str:
        return "action_ask_return_item"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        order = _owned(tracker)
        if order is None:
            return []
        buttons = [{"title": f"{i.line}. {i.title}", "payload": str(i.line)} for i in order.items]
        dispatcher.utter_message(text=care.ask_item(order), buttons=buttons)
        return []


REASON_BUTTONS = [{"title": title, "payload": f'/inform{{"return_reason": "{key}"}}'} for key, title in (
    ("defective", "Defective or damaged"), ("wrong_item", "Wrong item"), ("size", "Wrong size"),
    ("colour", "Different colour"), ("changed_mind", "Changed my mind"))]


class ActionAskReturnReason(Action):
    def name(self) -> str:
        return "action_ask_return_reason"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        dispatcher.utter_message(text="What's the reason for the return? Defective or damaged, wrong item, wrong "
                                      "size, different colour, or changed your mind?",
                                 buttons=REASON_BUTTONS)
        return []


class ActionAskItemUnused(Action):
    def name(self) -> str:
        return "action_ask_item_unused"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        dispatcher.utter_message(text="Is the item unused, with its tags or in the original packaging? (yes/no)",
                                 buttons=YES_NO)
        return []


class ActionAskConfirmCancel(Action):
    def name(self) -> str:
        return "action_ask_confirm_cancel"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        order = _owned(tracker)
        if order is not None:
            dispatcher.utter_message(text=care.confirm_cancel_question(order), buttons=YES_NO)
        return []


class ActionOrderTask(Action):
    """Do what the shopper asked with the verified order: tell its status, cancel it, or create a return."""

    def name(self) -> str:
        return "action_order_task"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        done = [SlotSet(s, None) for s in _ANSWER_SLOTS] + [SlotSet("order_goal", None)]
        if tracker.get_slot("order_goal") == _STOPPED:
            dispatcher.utter_message(response="utter_ok")
            return done
        order = _owned(tracker)
        if order is None:
            locked = orders.failed_lookups(shop().store, tracker.sender_id) >= orders.MAX_FAILED_LOOKUPS
            dispatcher.utter_message(text=care.LOCKED if locked else care.NOT_FOUND)
            return done
        goal, at = tracker.get_slot("order_goal"), orders.now()
        if goal in ("cancel", "change") and not order.changeable(at):
            text = care.cancel_refusal(order, at)
        elif goal == "change":
            text = care.changing_text(order)
        elif goal == "cancel":
            if tracker.get_slot("confirm_cancel"):
                text = care.cancelled_text(orders.cancel(shop().store, order, at))
            else:
                text = f"Okay, order {order.number} stays as it is."
        elif goal == "return" and order.status == "delivered":
            text = self._return(order, tracker)
        elif goal == "return":
            item = order.items[0]
            text = care.return_result(item, returns.check(shop().store, order, item, "changed_mind", True, at), None)
        else:
            text = care.status_text(order, at)
        dispatcher.utter_message(text=text, json_message={"type": "order", "number": order.number,
                                                          "status": orders.verified(shop().store, order.number,
                                                                                    order.email).status})
        return done

    @staticmethod
    def _return(order: orders.Order, tracker: Tracker) -> str:
        item = order.item(_return_line(tracker))
        if item is None:
            return "I couldn't tell which item you'd like to return. Say \"start a return\" to try again."
        reason = tracker.get_slot("return_reason") or "changed_mind"
        decision = returns.check(shop().store, order, item, reason, bool(tracker.get_slot("item_unused")))
        rma = returns.create(shop().store, order, item, reason, decision, tracker.sender_id) \
            if decision.eligible else None
        return care.return_result(item, decision, rma)


# ---- handoff and feedback ---------------------------------------------------------------------------------------
# Below this a "complaint" is as likely a question the model misread ("is it worth it?" once scored 0.56), and a
# handoff nobody asked for ends the conversation: the shopper gets an apology and the choice instead. Plain
# complaints score above 0.9.
FRUSTRATION_CONFIDENCE = 0.8
_UNSURE_COMPLAINT = ("Sorry if I've got something wrong. Could you tell me what you need in other words? Or say "
                     "\"human\" and I'll get you a person.")


def _confidence(tracker: Tracker) -> float:
    return float((tracker.latest_message.get("intent") or {}).get("confidence") or 0.0)


class ActionHandoff(Action):
    def name(self) -> str:
        return "action_handoff"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        if (tracker.latest_message.get("metadata") or {}).get(handoff.TAKEN_BACK):  # "never mind" while waiting
            closed = handoff.release(shop().store, tracker.sender_id)
            dispatcher.utter_message(text=care.HANDOFF_TAKEN_BACK,
                                     json_message={"type": "handoff_cancelled", "ticket_closed": closed})
            return []
        if _intent(tracker) == "complain":
            if _confidence(tracker) < FRUSTRATION_CONFIDENCE:
                dispatcher.utter_message(text=_UNSURE_COMPLAINT, buttons=[HANDOFF_BUTTON],
                                         json_message={"type": "apology", "offer": "handoff"})
                return []
            return hand_over(dispatcher, tracker, "frustration",
                             "I'm sorry this has been frustrating. Let me get you to a person.")
        return hand_over(dispatcher, tracker, "requested", "Sure, I'll get you to a person.")


_FEEDBACK_REPLIES = {"up": "Thanks for letting me know!",
                     "down": "Thanks for telling me, and sorry that wasn't helpful. Say \"human\" if you'd like a "
                             "person to help."}


class ActionStoreFeedback(Action):
    def name(self) -> str:
        return "action_store_feedback"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        rated = last_bot_message(tracker) or {}
        kind = ((rated.get("data") or {}).get("custom") or {}).get("type")
        rating = next(tracker.get_latest_entity_values("feedback"), None)
        # Stored only for the kinds the owner's report rates; the reply follows the rating whatever was rated
        # ("this is not helpful" after a search list got "Thanks!").
        feedback.record(shop().store, tracker.sender_id, str(rating), str(kind), rated.get("text") or "")
        dispatcher.utter_message(text=_FEEDBACK_REPLIES.get(str(rating), "Thanks! What else can I do for you?"))
        return []


def _ran_this_turn(tracker: Tracker, action: str) -> bool:
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            return False
        if event.get("event") == "action" and event.get("name") == action:
            return True
    return False


# The entities a search filters on: a bare "white ones" or "size 9" names one, and the NLU reads such a message
# as an answer to a form's question.
_SEARCH_CONSTRAINTS = frozenset(ENTITY_KINDS) | frozenset(PRICE_ENTITIES)


def _points_at_a_listed_product(tracker: Tracker) -> bool:
    """"the third one" after a list: the NLU may be unsure between details and a form's answer (no form asks
    here), but a position in the list the shopper was shown picks a product, or asks which one (out of range)."""
    state = _state(tracker)
    if not state.shown or tracker.active_loop.get("name"):  # a form's own question takes its answers
        return False
    text, entities = _message(tracker)
    return resolve(text, entities, shop().products(state.shown), state.focus).how in ("ordinal", "out_of_range")


def _plain_shop_turn(tracker: Tracker, intent: str | None, text: str) -> Action | None:
    """The shop action for a message the NLU was unsure of (or read as a form's answer with no form asking) that
    plainly acts on what the shopper was shown: a narrowing ("white ones"), a position in the list ("the third
    one"), a comparison word ("which one has the best reviews?"). None: a question for the store's knowledge."""
    if intent == "inform" and _narrows_the_search(tracker):
        return ActionRefineSearch()
    if intent not in ("inform", "nlu_fallback"):
        return None
    if _points_at_a_listed_product(tracker):
        return ActionProductDetails()
    if asks_extreme(text) and len(_state(tracker).shown) >= 2:
        return ActionCompareProducts()
    return None


def _narrows_the_search(tracker: Tracker) -> bool:
    """Whether a form-style answer ("white ones", "in a 10") came while no form was asking, after a search: it
    narrows that search rather than asks the store something."""
    return (bool(tracker.get_slot("last_query")) and not (tracker.active_loop or {}).get("name")
            and any(e.get("entity") in _SEARCH_CONSTRAINTS for e in _message(tracker)[1]))


PRODUCT_ASK_WORDS = 12  # "do you have the Osprey Outpost 3?" is 7
_SEARCH_INTENTS = frozenset({"search_products", "refine_search"})


def _leans_to_search(tracker: Tracker) -> bool:
    """Whether the intent the NLU ranked first, before the fallback threshold stepped in, was a search."""
    ranking = [r.get("name") for r in tracker.latest_message.get("intent_ranking") or []]
    return next((name for name in ranking if name != "nlu_fallback"), None) in _SEARCH_INTENTS


class ActionAnswerQuestion(Action):
    """Free-form and policy questions, answered from the store's knowledge (and the product in focus)."""

    # When the knowledge has nothing, a message the NLU could not place gets the "rephrase" reply, one it
    # recognised as off-topic gets "that's outside what I do"; a real question gets "I don't know" (the answerer's).
    # It is also the dialogue's core fallback (config.yml), for turns the policies are unsure about.
    NOTHING_FOUND = {"nlu_fallback": NOT_UNDERSTOOD, "out_of_scope": OUT_OF_SCOPE}

    def name(self) -> str:
        return "action_answer_question"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        if _ran_this_turn(tracker, self.name()):
            # Predicted again as the core fallback in the same turn (e.g. a form rejected a message no rule
            # covers): one answer is enough. Leave the form and wait for the shopper instead of repeating it.
            return [ActiveLoop(None), SlotSet("requested_slot", None), FollowupAction("action_listen")]
        text, entities = _message(tracker)
        if too_long(text):  # components/signals.py made it nlu_fallback without classifying it
            dispatcher.utter_message(text=f"That message is too long for me ({len(text):,} characters). Please keep "
                                          f"it under {MAX_MESSAGE_CHARS:,}: the product and what matters to you is "
                                          "plenty.", json_message={"type": "too_long", "length": len(text)})
            return []
        intent = _intent(tracker)
        language = foreign_language(text) if intent in self.NOTHING_FOUND else None
        if language:  # "¿dónde está mi pedido?": the NLU knows English only, so say so, in their language too
            dispatcher.utter_message(text=only_english(language),
                                     json_message={"type": "other_language", "language": language})
            return []
        shop_action = _plain_shop_turn(tracker, intent, text)
        if shop_action is not None:
            return await shop_action.run(dispatcher, tracker, domain)
        if intent == "deny" and _CANCEL.search(text) and _last_question(tracker) == "action_place_order":
            # "cancel it" right after the order was placed (its reply says "You can change or cancel it within
            # 1 hour: just ask"): the NLU hears a "no", but the shopper wants that order cancelled
            return await ActionStartOrderTask().run(dispatcher, tracker, domain) + [FollowupAction("order_form")]
        if intent in ("affirm", "deny") and len(text.split()) <= 3:
            # a bare "no" or "ok" that no question was waiting for: nothing to look up ("I don't know that")
            dispatcher.utter_message(response="utter_ok")
            return []
        if intent in ("inform", "nlu_fallback") and orders.parse_order_number(text):
            # an order number on its own ("HL-100231", after "I got the wrong item") or in a message the NLU could
            # not place ("I received the wrong item in order HL-100231"): look the order up
            return await ActionStartOrderTask().run(dispatcher, tracker, domain) + [FollowupAction("order_form")]
        topic = (_entity(tracker, "policy_topic") or ("returns" if intent == "return_request" else None)
                 or follow_up_topic(tracker, text))
        answer = await ask_knowledge(text, focus_product(tracker), topic=topic)
        if (answer.kind == "unknown" and intent == "nlu_fallback" and len(text.split()) <= PRODUCT_ASK_WORDS
                and names_products(text, entities, brands_only=not _leans_to_search(tracker))):
            # "do you have the Osprey Outpost 3?": a product name the NLU did not place, and no store question;
            # "what about sleeping bags rated below freezing": a kind of product, and the NLU's best guess was a
            # search it was not sure enough of. A long message naming a brand is a story or an attempt to steer
            # ("[pricing API] ... the Big Agnes Pinnacle Pro for $0"), not a search.
            return await ActionSearchProducts().run(dispatcher, tracker, domain)
        return send_answer(dispatcher, tracker, answer, unknown_text=self.NOTHING_FOUND.get(intent))
