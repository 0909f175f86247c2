"""What the bot says about orders, cancellations and returns: text from the store's decisions, no Rasa here."""
from __future__ import annotations

import re
from datetime import datetime, timedelta

from assistant.dialogue.render import money
from assistant.store.handoff import SUPPORT_EMAIL, SUPPORT_HOURS
from assistant.store.orders import CHANGE_WINDOW, COUNTRIES, MAX_FAILED_LOOKUPS, Order, OrderItem, now
from assistant.store.returns import REFUND_TIMELINE, Decision

NOT_FOUND = ("I couldn't find an order with that number and email address. Please check both: the number looks "
             "like HL-123456, and the email is the one you ordered with.")
LOCKED = (f"I can't check any more orders in this chat after {MAX_FAILED_LOOKUPS} unsuccessful attempts. A person "
          f"from our team can help: say \"human\", or write to {SUPPORT_EMAIL} ({SUPPORT_HOURS}).")
BAD_EMAIL = "That doesn't look like an email address. Please type it like name@example.com."
HANDOFF_TAKEN_BACK = "OK, I've cancelled the request for a person. What can I help you with?"
# "I don't know my order number", "I lost the confirmation email", "where do I find the order number?"
_PROOF = r"\b(?:number|confirmation|email|receipt)"
_LOST_NUMBER = re.compile(r"\b(?:(?:don'?t|do not|didn'?t|can'?t|cannot|never) (?:know|have|remember|find|get|got|see|"
                          r"receive)|lost|forgot|deleted|no idea|where (?:do|can|would) i (?:find|get|see))\b.*"
                          + _PROOF + "|" + _PROOF + r"\b.*\b(?:lost|missing|gone|deleted|never (?:came|arrived))\b",
                          re.IGNORECASE)
LOST_NUMBER_HELP = (f"No problem. The order number is in the confirmation email we sent when you ordered. If you "
                    f"can't find that email, a person from our team can look the order up with you: say \"human\", "
                    f"or write to {SUPPORT_EMAIL} ({SUPPORT_HOURS}).")
NO_PAYMENT = "No payment is taken in this chat; you'll get a secure payment link by email to complete the order."


# The policy topic a question about each order task is answered from ("can I return opened skincare?").
POLICY_TOPICS = {"return": "returns", "cancel": "order_changes", "change": "order_changes"}
# A question, with or without its question mark: a question word first, or an asking clause anywhere ("these came
# 20 days ago, can i still send them back").
_QUESTION = re.compile(r"\?\s*$|^\s*(?:can|could|may|do|does|is|are|will|would|should|how|what|when|why)\b"
                       r"|\b(?:can|could|may|do|does|is|are|will|would|should) (?:i|you|we|it|they|this|these|that)\b",
                       re.IGNORECASE)


def lost_number(text: str) -> bool:
    """The shopper can't give the order number (and won't, however often the form asks for it)."""
    upper = text.upper()
    return "HL-" not in upper and "TRACKING" not in upper and _LOST_NUMBER.search(text) is not None


def ask_order_number(email: str | None) -> str:
    """The form's question for the number; an email already given is acknowledged, not silently kept."""
    if email:
        return (f"Thanks, I have {email}. And the order number? It looks like HL-123456 and is in your "
                f"confirmation email. (Say \"stop\" to leave this.)")
    return ("What's your order number? It looks like HL-123456 and is in your confirmation email. (Say \"stop\" to "
            "leave this.)")


def policy_question(text: str, goal: str) -> str | None:
    """The knowledge topic to answer `text` from before an order task starts, when it asks whether or how the
    task can be done ("can I return boots I wore once?", "I placed an order 3 hours ago, can I still change
    it?") rather than asking for it ("I want to return my boots"): the policy decides whether the form is worth
    filling. None for a plain request, a status check, or a message that already names its order."""
    asks = _QUESTION.search(text) is not None and "HL-" not in text.upper()
    return POLICY_TOPICS.get(goal) if asks else None


def _date(moment: datetime) -> str:
    return f"{moment:%A, %B} {moment.day}"


def _items(order: Order) -> str:
    return "\n".join(f"  {i.line}. {i.quantity} x {i.label}: {money(i.total)}" for i in order.items)


def status_text(order: Order, at: datetime | None = None) -> str:
    """Where the order is, in a sentence a shopper can act on, followed by what's in it."""
    at = at or now()
    if order.status == "processing":
        left = CHANGE_WINDOW - (at - order.placed_at)
        change = (f" You can still change or cancel it for {max(1, int(left.total_seconds() // 60))} more minutes."
                  if order.changeable(at) else "")
        head = f"Order {order.number} was placed on {_date(order.placed_at)} and is being prepared.{change}"
    elif order.status in ("shipped", "out for delivery"):
        when = "It's out for delivery today" if order.status == "out for delivery" else \
            "It's on its way; standard delivery takes 3-5 business days"
        head = (f"Order {order.number} shipped on {_date(order.shipped_at or order.placed_at)} with "
                f"{order.carrier}, tracking number {order.tracking_number}. {when}.")
    elif order.status == "delivered":
        head = f"Order {order.number} was delivered on {_date(order.delivered_at or order.placed_at)}."
    elif order.status == "cancelled":
        head = f"Order {order.number} was cancelled; nothing was charged for it."
    else:
        head = f"Order {order.number} was returned."
    return f"{head}\n{_items(order)}\nTotal: {money(order.total)} (shipping {money(order.shipping)})."


def cancel_refusal(order: Order, at: datetime | None = None) -> str:
    at = at or now()
    if order.status == "cancelled":
        return f"Order {order.number} is already cancelled."
    if order.status != "processing":
        return (f"Order {order.number} has already {order.status.replace('out for', 'gone out for')}, so it can't "
                f"be changed or cancelled any more. Once it's delivered you can return it (say \"start a return\").")
    placed = at - order.placed_at
    hours = placed.total_seconds() / 3600
    return (f"Order {order.number} was placed {hours:.0f} hours ago. Orders can be changed or cancelled only within "
            f"{int(CHANGE_WINDOW / timedelta(hours=1))} hour of being placed; after that it has to be returned once "
            f"it's delivered (say \"start a return\" then).")


def confirm_cancel_question(order: Order) -> str:
    return (f"Order {order.number} can still be cancelled:\n{_items(order)}\nShall I cancel the whole order? "
            f"(yes/no)")


def cancelled_text(order: Order) -> str:
    return f"Done: order {order.number} is cancelled, and nothing will be charged for it."


def changing_text(order: Order) -> str:
    return (f"Order {order.number} can still be changed within the hour. I can't edit an order in this chat, so the "
            f"quickest way is to cancel it and place a new one; or say \"human\" and our team will make the change.")


def ask_item(order: Order) -> str:
    return f"Which item from order {order.number} would you like to return? Say its number:\n{_items(order)}"


def item_refusal_text(item: OrderItem, decision: Decision) -> str:
    """Said when the item is picked, before the form asks for another one."""
    return f"I'm sorry, I can't accept a return of {item.label}: {decision.why}."


def return_result(item: OrderItem, decision: Decision, rma: str | None) -> str:
    if not decision.eligible or rma is None:
        return (f"{item_refusal_text(item, decision)} If you think this is wrong, say \"human\" and our team will "
                f"take a look.")
    deduction = (f" minus {money(decision.deduction)} return shipping" if decision.deduction else
                 "; return shipping is on us")
    text = (f"Your return is set up: {rma} for {item.label}. Pack it with the RMA number on the parcel; the "
            f"prepaid label comes by email. You'll get {money(decision.refund)} back ({money(item.total)}"
            f"{deduction}) {REFUND_TIMELINE}.")
    if decision.exchange:
        text += (" If you'd rather have another size or colour, exchanges are free within the return window: "
                 "say \"human\" and the team will switch this return to an exchange at no charge.")
    return text


def country_refusal() -> str:
    return f"Sorry, we only ship to {' and '.join(COUNTRIES.values())}. Which of the two should it go to?"
