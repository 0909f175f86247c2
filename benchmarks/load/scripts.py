"""The scripted shopper conversations the load benchmark plays, each turn tagged with its kind so latency and
errors can be reported per kind of turn (a search costs more than a greeting, and the table should show it).

Written to look like real sessions: a search with constraints, a refinement, a look at one product, adding it
with a size, the cart, a store-policy question, and the ways people open and close a chat. A turn may have
several wordings, one picked per conversation: searches combine colours and prices so that most are not the exact
text of an earlier one (the assistant caches query vectors, and a benchmark that repeats five searches would
mostly measure that cache).
"""
from __future__ import annotations

import random
from dataclasses import dataclass

COLOURS = ("red", "blue", "black", "white", "grey", "green", "navy", "orange")
PRICES = (60, 70, 80, 90, 100, 120, 150)


@dataclass(frozen=True)
class Turn:
    kind: str
    texts: tuple[str, ...]  # equivalent wordings

    def text(self, rng: random.Random) -> str:
        return self.texts[0] if len(self.texts) == 1 else rng.choice(self.texts)


def _script(*turns: tuple[str, str | tuple[str, ...]]) -> tuple[Turn, ...]:
    return tuple(Turn(kind, (texts,) if isinstance(texts, str) else texts) for kind, texts in turns)


def _each(template: str, **values: tuple) -> tuple[str, ...]:
    """Every combination of `values` in `template`, e.g. _each("{c} shoes under ${p}", c=COLOURS, p=PRICES)."""
    out = [template]
    for name, options in values.items():
        out = [t.replace("{" + name + "}", str(option)) for t in out for option in options]
    return tuple(out)


SCRIPTS: tuple[tuple[Turn, ...], ...] = (
    _script(("greet", ("hi there", "hello", "hey")),
            ("search", _each("{c} running shoes under ${p}", c=COLOURS, p=PRICES)),
            ("refine", ("show me cheaper ones", "anything cheaper?", "cheaper please")),
            ("details", ("tell me more about the first one", "more about the first one please")),
            ("add_to_cart", _each("add it to my cart in size {s}", s=(8, 9, 10, 11))),
            ("view_cart", ("what's in my cart?", "show my cart")),
            ("policy", ("what is your return policy?", "how do returns work?")),
            ("goodbye", ("thanks, bye", "bye"))),
    _script(("search", _each("waterproof hiking boots between {lo} and {hi} dollars", lo=(80, 100, 120),
                             hi=(150, 180, 200))),
            ("show_more", ("show more", "more please")),
            ("refine", ("only Merrell", "only Salomon", "just Columbia ones")),
            ("details", ("tell me more about the second one", "details of the second one")),
            ("product_question", ("is it waterproof?", "how heavy are they?")),
            ("recommend", ("what goes with these boots?", "what would you recommend with these?")),
            ("goodbye", ("bye", "that's all, goodbye"))),
    _script(("greet", ("hello", "hi")),
            ("policy", ("do you ship to Canada?", "how much is shipping?", "when will my order arrive?")),
            ("search", _each("{c} noise cancelling headphones under ${p}", c=("black", "white", "grey", "blue"),
                             p=(100, 150, 200, 300))),
            ("compare", ("compare the first two", "compare 1 and 2")),
            ("details", ("tell me more about the first one",)),
            ("add_to_cart", ("add the first one to my cart", "I'll take the first one")),
            ("view_cart", ("show me my cart", "view cart")),
            ("goodbye", ("goodbye", "bye for now"))),
    _script(("greet", ("hey", "good morning")),
            ("search", _each("{c} backpack for a laptop under {p}", c=COLOURS, p=PRICES)),
            ("refine", ("anything cheaper?", "show me cheaper ones")),
            ("details", ("what about the third one", "tell me about the third one")),
            ("add_to_cart", ("add that one", "add it to my cart")),
            ("view_cart", ("view cart", "what's in my basket")),
            ("policy", ("how long does shipping take?", "do you offer free shipping?")),
            ("thanks", ("thank you", "thanks a lot")),
            ("goodbye", ("see you", "bye"))),
    _script(("search", _each("warm sleeping bag for {w} camping under ${p}", w=("winter", "cold weather", "alpine"),
                             p=PRICES)),
            ("details", ("tell me about the first one", "more about the first one")),
            ("product_question", ("how much does it weigh?", "what temperature is it rated for?")),
            ("policy", ("can I return it if I don't like it?", "what's your return window?")),
            ("search", _each("{c} insulated water bottle", c=COLOURS)),
            ("add_to_cart", ("add the second one to my cart", "add the second one")),
            ("view_cart", ("what's in my basket", "my cart please")),
            ("goodbye", ("bye bye", "thanks, that's it"))),
)


def kinds() -> list[str]:
    """Every turn kind in the order it first appears, so tables list them the same way on every run."""
    return list(dict.fromkeys(turn.kind for script in SCRIPTS for turn in script))
