"""The recommender: models, leave-one-out evaluation, training, and what the shop does with it."""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from assistant.dialogue.shop import ConversationState, Shop
from assistant.recommend import interactions, synthetic
from assistant.recommend.evaluation import Case, full_ranks, leave_one_out, metrics, sample_negatives, sampled_ranks
from assistant.recommend.models import ItemKNN, Popularity, SASRecConfig
from assistant.recommend.service import Recommender, load_model, retrain
from assistant.recommend.training import FitConfig, fit, load, save

TINY = FitConfig(model=SASRecConfig(dim=16, blocks=1, max_len=8, dropout=0.1), epochs=25, batch_size=32,
                 learning_rate=1e-2, patience=25, device="cpu", progress=False)


def _cycles(count: int = 240, items: int = 12) -> list[list[int]]:
    """Shoppers walking a fixed loop 1 -> 2 -> ... -> items -> 1 from different starting points."""
    return [[(start + step) % items + 1 for step in range(6)] for start in range(count) for _ in [0]][:count]


def test_popularity_ranks_by_count_and_never_recommends_padding():
    scorer = Popularity([[1, 2, 2], [2, 3]], num_items=4)
    scores = scorer.scores([[1]])[0]
    assert scores.argmax().item() == 2 and scores[0] == float("-inf") and scores[4] == 0


def test_item_knn_scores_co_occurring_items_above_strangers():
    knn = ItemKNN([[1, 2], [1, 2], [3, 4], [1, 2, 5]], num_items=5)
    neighbours = dict(knn.neighbours(1))
    assert neighbours[2] > neighbours.get(5, 0) > 0 and 3 not in neighbours
    scores = knn.scores([[1]])[0]
    assert scores[2] > scores[5] > scores[3] == 0


def test_full_ranking_masks_the_history_and_counts_ties_half():
    class Fixed:
        num_items = 4

        def scores(self, histories):
            return torch.tensor([[0.0, 9.0, 1.0, 1.0, 5.0]]).expand(len(histories), -1).clone()

    # item 1 scores best but is in the history, so the target 4 ranks first
    assert full_ranks(Fixed(), [Case((1,), 4, frozenset({1, 4}))]).tolist() == [0.0]
    # items 2 and 3 tie: a target among them ranks 1.5 behind item 4
    assert full_ranks(Fixed(), [Case((1,), 2, frozenset({1, 2}))]).tolist() == [1.5]
    scores = metrics(np.array([0.0, 1.0, 20.0]), ks=(10,))
    assert scores["HR@10"] == pytest.approx(2 / 3)
    assert scores["NDCG@10"] == pytest.approx((1 + 1 / np.log2(3)) / 3)


def test_sampled_negatives_avoid_everything_the_shopper_touched_and_are_reproducible():
    cases = [Case((1, 2), 3, frozenset({1, 2, 3})), Case((4,), 5, frozenset({4, 5}))]
    drawn = sample_negatives(cases, num_items=200, negatives=99)
    assert drawn.shape == (2, 99) and not {1, 2, 3} & set(drawn[0]) and not {4, 5} & set(drawn[1])
    assert len(set(drawn[0])) == 99 and (drawn == sample_negatives(cases, 200, 99)).all()
    ranks = sampled_ranks(Popularity([[3, 3, 5]], 200), cases, drawn)
    assert ranks.tolist() == [0.0, 1.0 if 3 in drawn[1] else 0.0]  # only item 3 outscores item 5


def test_leave_one_out_holds_out_the_last_two_steps():
    train, valid, test = leave_one_out([[1, 2, 3, 4], [5, 6]])
    assert train == [[1, 2]] and valid == [Case((1, 2), 3, frozenset({1, 2, 3, 4}))]
    assert test == [Case((1, 2, 3), 4, frozenset({1, 2, 3, 4}))]


def test_sasrec_learns_a_sequential_pattern_deterministically(tmp_path: Path):
    train, valid, test = leave_one_out(_cycles())
    model, report = fit(train, 12, valid, TINY)
    assert metrics(full_ranks(model, test), ks=(1,))["HR@1"] > 0.9  # the loop is fully predictable
    assert report.best_epoch >= 1 and report.device == "cpu"
    again, _ = fit(train, 12, valid, TINY)
    assert torch.equal(model.scores([[3, 4]]), again.scores([[3, 4]]))
    save(model, tmp_path / "m.pt", product_ids=["x"])
    loaded, extra = load(tmp_path / "m.pt", device="cpu")
    assert extra == {"product_ids": ["x"]} and torch.allclose(loaded.scores([[3, 4]]), model.scores([[3, 4]]))


def test_sampled_softmax_training_also_learns_the_pattern():
    train, valid, test = leave_one_out(_cycles())
    model, _ = fit(train, 12, valid, replace(TINY, negatives=4))
    assert metrics(full_ranks(model, test), ks=(1,))["HR@1"] > 0.9


def test_training_and_loading_fall_back_to_cpu_without_a_gpu(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    model, report = fit(_cycles(20), 12, [], replace(TINY, epochs=1, device="cuda"))
    assert report.device == "cpu" and model.device.type == "cpu"
    save(model, tmp_path / "m.pt")
    assert load(tmp_path / "m.pt", device="cuda")[0].device.type == "cpu"


# ---- the shop's recommendations -----------------------------------------------------------------------------
def test_cold_start_recommends_popular_products_in_stock(shop: Shop):
    reply = shop.recommend("what do you recommend?", [], ConversationState(), "new-shopper")
    cards = reply.payload["products"]
    assert len(cards) == 5 and reply.text.startswith("Popular right now")
    assert all(shop.product(c["id"])["stock"] > 0 for c in cards)
    assert all(c["reason"] == "popular with shoppers right now" for c in cards)


def test_recommendations_obey_the_budget_and_category_in_the_message(shop: Shop):
    reply = shop.recommend("recommend a backpack under $90", [], ConversationState(), "budget-shopper")
    cards = reply.payload["products"]
    assert cards and all(c["category"] == "backpacks" and c["final_price"] <= 90 for c in cards)


def test_what_a_recommendation_is_for_picks_matching_products_within_the_budget(shop: Shop):
    reply = shop.recommend("what would you recommend for winter camping under $200?", [], ConversationState(), "w")
    cards = reply.payload["products"]
    assert reply.text.startswith('For "winter camping"')
    assert cards and all(c["final_price"] <= 200 for c in cards)
    said = [" ".join([c["title"], c["category"], shop.product(c["id"])["description"]]).lower() for c in cards]
    assert sum("winter" in s or "camping" in s for s in said) >= len(cards) - 1, said


def test_a_recommendation_for_something_the_shop_does_not_sell_says_so_before_the_popular_picks(shop: Shop):
    reply = shop.recommend("can you recommend a good sci-fi novel?", [], ConversationState(), "reader")
    assert reply.text.startswith('I have nothing specific for "sci fi novel". Popular right now:')
    assert len(reply.payload["products"]) == 5


def test_a_recommendation_that_matched_nothing_is_idle_unless_the_message_named_a_product(shop: Shop):
    """Idle lets the action ask the store's knowledge first: the words may have been a store question ("what do
    purchases earn me in rewards points?"). Words that match products, or a named kind of product, are a request."""
    rewards = [{"entity": "policy_topic", "value": "rewards", "start": 40, "end": 47}]
    assert shop.recommend("what do my purchases earn me in rewards points?", rewards, ConversationState(), "r").idle
    assert shop.recommend("can you recommend a good sci-fi novel?", [], ConversationState(), "r").idle
    tents = [{"entity": "category", "value": "tents", "start": 22, "end": 27}]
    assert not shop.recommend("something for my dad, tents maybe", tents, ConversationState(), "r").idle
    assert not shop.recommend("what would you recommend for winter camping?", [], ConversationState(), "r").idle


def test_viewing_asking_and_carting_are_logged_and_personalise_the_next_picks(shop: Shop):
    state = shop.search("tents", [], ConversationState()).state
    state = shop.details("the first one", [], state, shopper="hiker").state
    shop.question("is it waterproof?", [], state, shopper="hiker")
    shop.add_to_cart("hiker", state.shown[0])
    events = interactions.history(shop.store, "hiker")
    assert [(e.product_id, e.kind) for e in events] == [(state.focus, "view"), (state.focus, "ask"),
                                                        (state.shown[0], "cart")]
    assert interactions.history(shop.store, "someone-else") == []
    reply = shop.recommend("what else would you recommend?", [], ConversationState(), "hiker")
    ids = [c["id"] for c in reply.payload["products"]]
    assert ids and state.shown[0] not in ids  # never what is already in the cart
    assert reply.text.startswith("Picked for you")


def test_unknown_interaction_kind_is_refused_and_nothing_is_written(shop: Shop):
    with pytest.raises(ValueError):
        interactions.log(shop.store, "x", ["HL-P000001"], "stare")
    assert interactions.count(shop.store) == 0


@pytest.fixture
def trained(shop: Shop, tmp_path: Path) -> Shop:
    """The shop with synthetic history and a sequential model trained on it (small, a few epochs)."""
    synthetic.synthesize(shop.catalog, shop.store, shoppers=600, progress=False)
    config = FitConfig(model=SASRecConfig(dim=32, blocks=1), epochs=4, device="cpu", progress=False)
    retrain(shop.catalog, shop.store, shop.recommender_model, config, events=interactions.count(shop.store))
    return shop


def test_synthetic_history_follows_categories_into_their_complements(trained: Shop):
    journeys = interactions.sequences(trained.store)
    assert len(journeys) == 600 and interactions.count(trained.store, "live") == 0
    categories = {r[0]: r[1] for r in trained.catalog.execute("SELECT id, category FROM products")}
    mixed = sum(len({categories[p] for p in j}) > 1 for j in journeys.values())
    assert 0.3 < mixed / len(journeys) < 0.9


def test_trained_model_is_loaded_and_explains_picks_from_the_shoppers_own_steps(trained: Shop):
    assert load_model(trained.recommender_model) is not None
    assert trained.recommender.model is not None
    boots = trained.search("hiking boots", [], ConversationState()).state
    trained.details("the first one", [], boots, shopper="walker")
    reply = trained.recommend("recommend something", [], ConversationState(), "walker")
    first = trained.product(boots.shown[0])
    assert reply.payload["products"]
    assert all(c["reason"] == f"because you looked at the {first['title']}" for c in reply.payload["products"])


def test_complements_come_from_other_categories_and_respect_the_message(trained: Shop):
    state = trained.search("tents", [], ConversationState()).state
    reply = trained.recommend("what goes with the first one under $60", [], state, "camper")
    cards = reply.payload["products"]
    assert cards and all(c["category"] != "tents" and c["final_price"] <= 60 for c in cards)
    assert all(c["reason"].endswith(trained.product(state.shown[0])["title"]) for c in cards)


def test_a_broken_model_file_does_not_break_recommendations(shop: Shop):
    shop.recommender_model.write_bytes(b"not a model")
    assert isinstance(shop.recommender, Recommender) and shop.recommender.model is None
    reply = shop.recommend("what do you recommend?", [], ConversationState(), "anyone")
    assert reply.payload["products"]


def test_cli_synthesizes_once_and_retrains_only_when_stale(demo_catalog: Path, tmp_path: Path,
                                                          capsys: pytest.CaptureFixture):
    from assistant.__main__ import main

    paths = ["--db", str(demo_catalog), "--store", str(tmp_path / "store.db")]
    model = ["--model", str(tmp_path / "rec.pt"), "--epochs", "1"]
    assert main(["recommend", "train", "--if-stale", *paths, *model]) == 0  # nothing to learn yet: not an error
    assert not (tmp_path / "rec.pt").exists()
    assert main(["recommend", "synthesize", "--shoppers", "60", *paths]) == 0
    assert main(["recommend", "synthesize", "--if-empty", *paths]) == 0
    assert "left as it is" in capsys.readouterr().out
    assert main(["recommend", "train", "--if-stale", *paths, *model]) == 0
    assert (tmp_path / "rec.pt").exists() and "trained on" in capsys.readouterr().out
    assert main(["recommend", "train", "--if-stale", *paths, *model]) == 0
    assert "up to date" in capsys.readouterr().out
    assert main(["recommend", "synthesize", "--shoppers", "0", *paths]) == 0
    assert main(["recommend", "train", *paths, *model]) == 1  # asked for explicitly, no history is an error


def test_what_goes_with_these_boots_names_the_anchors_kind_without_filtering_to_it(shop: Shop):
    state = shop.search("hiking boots", [], ConversationState()).state
    state = shop.details("the first one", [], state, shopper="b").state
    reply = shop.recommend("what goes with these boots?", [], state, "b")
    cards = reply.payload["products"]
    assert cards and all(c["category"] != "hiking boots" for c in cards)


def test_a_general_request_after_viewing_a_product_is_personal_and_fills_the_page_under_a_budget(trained: Shop):
    state = trained.search("hiking boots", [], ConversationState()).state
    state = trained.details("the first one", [], state, shopper="c").state
    reply = trained.recommend("recommend something under $40", [], state, "c")
    cards = reply.payload["products"]
    assert reply.text.startswith("Picked for you") and len(cards) == 5
    assert all(c["final_price"] <= 40 for c in cards)


def test_what_goes_with_a_kind_of_product_recommends_complements_of_that_kind(shop: Shop):
    """"what goes with sunscreen?" with nothing shown: complements of the best match, said to go with the kind
    asked about (it was 'For "goes", I'd look at these')."""
    reply = shop.recommend("what goes well with a tent?", [], ConversationState(), "pairing")
    assert reply.text.startswith("Goes well with tents:")
    cards = reply.payload["products"]
    assert cards and all(c["category"] != "tents" for c in cards)


@pytest.mark.parametrize("text, limit", [("something similar to the first one but cheaper", "under $"),
                                         ("like the first one but lighter", "lighter than")])
def test_similar_but_cheaper_or_lighter_is_relative_to_that_product(shop: Shop, text: str, limit: str):
    from assistant.dialogue.render import weight_g

    state = shop.search("tents", [], ConversationState()).state
    anchor = shop.product(state.shown[0])
    reply = shop.recommend(text, [], state, "relative")
    cards = reply.payload["products"]
    assert reply.text.startswith(f"Similar to the {anchor['title']} (") and limit in reply.text.splitlines()[0]
    assert cards and all(c["category"] == "tents" for c in cards)
    for card in cards:
        product = shop.product(card["id"])
        if "cheaper" in text:
            assert product["final_price"] < anchor["final_price"]
        else:
            assert weight_g(product) < weight_g(anchor)
