"""The joint intent + entity model without Rasa: exact spans, a full calibrated ranking, a self-contained save,
seeded reproducibility, gibberish, device choice and the dataset loaders. One tiny model is trained once and shared."""
from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
import torch
from transformers import AutoTokenizer, BertConfig, BertModel

from assistant.nlu.examples import Example, Span, load_bio, load_clinc, load_csv
from assistant.nlu.joint_model import (JointNLU, best_bio_path, bio_transitions, decode_entities,
                                       default_base_model, word_tags, words_of)
from assistant.nlu.training import (TrainingConfig, epoch_batches, fit_temperature, scheduled_epochs,
                                   split_held_out, train_joint)
from assistant.settings import torch_device

# Six intents, eight examples each, entities marked up as in Rasa's YAML: [text](entity).
TINY_NLU = {
    "greet": ["hi", "hello there", "hey!", "good morning", "hiya", "is anyone there?", "hey there", "howdy"],
    "goodbye": ["bye", "goodbye!", "see you later", "cya", "bye bye", "that's all, thanks", "talk to you later",
                "have a nice day"],
    "search_product": ["show me [The North Face](brand) [jackets](category)",
                       "do you have [red](color) [running shoes](category)?",
                       "i need [Nike](brand) [sneakers](category)",
                       "looking for a [black](color) [backpack](category) by [Osprey](brand)",
                       "any [blue](color) [rain jackets](category)",
                       "find me [Patagonia](brand) [fleece](category) in [green](color)",
                       "I want [hiking boots](category) from [Merrell](brand)",
                       "show [white](color) [T-shirts](category)"],
    "filter_price": ["something under [$50](price)", "between [$20-40](price) please",
                     "only things below [30 dollars](price)", "cheaper ones, max [$25](price)",
                     "anything around [$100](price)?", "my budget is [$60](price)", "under [£40](price) please",
                     "price range [$20-40](price)"],
    "add_to_cart": ["add it to my cart", "put the [Nike](brand) ones in the basket", "i'll take it",
                    "add two of those to the cart", "buy the [red](color) one",
                    "add the [Osprey](brand) backpack to cart", "yes add that", "put it in my bag"],
    "order_status": ["where is my order?", "track order [#A1234](order_id)", "has my package shipped",
                     "status of order [A-99812](order_id)", "when will my order arrive", "my delivery is late",
                     "check order [#55231](order_id) please", "where's my parcel"],
}
GIBBERISH = ["asdkjh qwe zzxv", "qwertyuiop", "zxcv bnm lkj", "jfjfjf kdkdk sls"]
FAST = {"batch_size": 8, "max_length": 32, "learning_rate": 1e-4, "head_learning_rate": 3e-3, "progress": False}
_MARKUP = re.compile(r"\[([^\]]+)\]\(([^)]+)\)")


def parse(marked_up: str, intent: str | None) -> Example:
    """An example from "[value](entity)" markup, with the spans where the values land in the plain text."""
    text, spans, last = "", [], 0
    for match in _MARKUP.finditer(marked_up):
        text += marked_up[last:match.start()]
        spans.append(Span(len(text), len(text) + len(match.group(1)), match.group(2), match.group(1)))
        text += match.group(1)
        last = match.end()
    return Example(text + marked_up[last:], intent, spans)


EXAMPLES = [parse(line, intent) for intent, lines in TINY_NLU.items() for line in lines]


@pytest.fixture(scope="module")
def trained() -> tuple[JointNLU, object]:
    return train_joint(EXAMPLES, TrainingConfig(epochs=6, **FAST))


@pytest.fixture(scope="module")
def model(trained) -> JointNLU:
    return trained[0]


def test_tagging_and_decoding_round_trip_to_the_exact_typed_spans():
    tokenizer = AutoTokenizer.from_pretrained(default_base_model())
    tricky = [parse(text, None) for text in (
        "Show me [The North Face](brand) [jackets](category)!!", "between [$20-40](price), please",
        "[Wüsthof](brand) knives under [£40](price)", "track [#A1234](order_id).",
        "a [T-shirt](category) in [navy](color)")]
    for example in EXAMPLES + tricky:
        encoding = tokenizer([example.text], return_offsets_mapping=True)
        words = words_of(encoding, 0)
        spans, _ = decode_entities(example.text, words, word_tags(example.entities, words), [1.0] * len(words))
        assert spans == example.entities
        assert all(example.text[s.start:s.end] == s.value for s in spans)


@pytest.mark.parametrize(("word_probs", "expected"), [
    ([{"I-city": 0.6, "B-city": 0.3}, {"I-city": 0.9}], ["B-city", "I-city"]),  # no entity opens with I-
    ([{"O": 0.5}, {"I-date": 0.5, "B-date": 0.4}], ["O", "B-date"]),
    ([{"B-city": 0.9}, {"I-date": 0.6, "I-city": 0.3}], ["B-city", "I-city"]),  # no type switch mid-entity
    ([{"B-city": 0.9}, {"O": 0.8}], ["B-city", "O"]),  # well-formed argmax stays as it is
    ([], []),
])
def test_tags_are_decoded_as_the_best_well_formed_bio_sequence(word_probs, expected):
    tags = ["O", "B-city", "I-city", "B-date", "I-date"]
    rows = [[probs.get(tag, (1 - sum(probs.values())) / (len(tags) - len(probs))) for tag in tags]
            for probs in word_probs]
    log_probs = np.log(np.array(rows, dtype=float).reshape(len(rows), len(tags)))
    assert [tags[t] for t in best_bio_path(log_probs, *bio_transitions(tags))] == expected


def test_an_entity_never_splits_a_word():
    text = "Nikes and Ospreys"  # annotations that stop inside a word widen to the whole word
    encoding = AutoTokenizer.from_pretrained(default_base_model())([text], return_offsets_mapping=True)
    words = words_of(encoding, 0)
    tags = word_tags([Span(0, 4, "brand", "Nike"), Span(10, 16, "brand", "Osprey")], words)
    spans, _ = decode_entities(text, words, tags, [1.0] * len(words))
    assert [s.value for s in spans] == ["Nikes", "Ospreys"]


def test_predicted_spans_are_exact_slices_of_the_text(model: JointNLU):
    texts = [e.text for e in EXAMPLES] + ["Show me THE NORTH FACE jackets!!", "between $20-40, please?"]
    predictions = model.predict(texts)
    found = [(text, span, confidence) for text, p in zip(texts, predictions)
             for span, confidence in zip(p.entities, p.entity_confidences)]
    assert len(found) >= 10
    for text, span, confidence in found:
        assert text[span.start:span.end] == span.value and span.value == span.value.strip()
        assert 0.0 < confidence <= 1.0
    assert Span(8, 14, "price", "$20-40") in model.predict(["between $20-40 please"])[0].entities


def test_ranking_covers_every_intent_and_sums_to_one(model: JointNLU):
    for prediction in model.predict(["hi", "show me red running shoes", "", "a" * 500] + GIBBERISH):
        names = [name for name, _ in prediction.intent_ranking]
        confidences = [confidence for _, confidence in prediction.intent_ranking]
        assert sorted(names) == sorted(TINY_NLU)
        assert sum(confidences) == pytest.approx(1.0, abs=1e-5)
        assert confidences == sorted(confidences, reverse=True)


def test_the_model_learnt_the_intents(model: JointNLU):
    predictions = model.predict([e.text for e in EXAMPLES])
    assert sum(p.intent == e.intent for p, e in zip(predictions, EXAMPLES)) >= 0.9 * len(EXAMPLES)


def test_gibberish_gets_a_flat_low_confidence_ranking(model: JointNLU):
    gibberish = model.predict(GIBBERISH)
    in_scope = model.predict([e.text for e in EXAMPLES])
    assert max(p.confidence for p in gibberish) < 0.5
    assert all(p.entities == [] for p in gibberish)
    assert sum(p.confidence for p in in_scope) / len(in_scope) > 0.7


def test_save_and_load_round_trip(model: JointNLU, tmp_path: Path):
    model.save(tmp_path / "nlu")
    base = default_base_model()
    for path in (tmp_path / "nlu").rglob("*"):
        if path.suffix in (".json", ".txt"):
            assert base not in path.read_text(encoding="utf-8"), path
    loaded = JointNLU.load(tmp_path / "nlu", device="cpu")
    texts = [e.text for e in EXAMPLES] + GIBBERISH
    assert loaded.predict(texts) == model.predict(texts)
    assert (loaded.intents, loaded.tags, loaded.temperature) == (model.intents, model.tags, model.temperature)


def test_int8_cpu_inference_keeps_the_predictions(model: JointNLU, tmp_path: Path):
    model.save(tmp_path / "nlu")
    quantized = JointNLU.load(tmp_path / "nlu", device="cpu").quantized_for_cpu()
    assert not any(type(layer) is torch.nn.Linear for layer in quantized.module.modules())
    texts = [e.text for e in EXAMPLES]
    floats, ints = model.predict(texts), quantized.predict(texts)
    assert sum(f.intent == i.intent for f, i in zip(floats, ints)) >= 0.95 * len(texts)
    assert sum(p.intent == e.intent for p, e in zip(ints, EXAMPLES)) >= 0.9 * len(EXAMPLES)
    assert max(p.confidence for p in quantized.predict(GIBBERISH)) < 0.5
    served = JointNLU.load(tmp_path / "nlu", device="cpu").quantized_for_cpu().traced_for_inference()
    assert served._traced is not None and _rounded(served.predict(texts)) == _rounded(ints)


def test_traced_serving_gives_the_eager_predictions(model: JointNLU, tmp_path: Path):
    model.save(tmp_path / "m")
    texts = [e.text for e in EXAMPLES] + GIBBERISH
    eager = JointNLU.load(tmp_path / "m")
    traced = JointNLU.load(tmp_path / "m").traced_for_inference()
    assert traced._traced is not None
    assert _rounded(traced.predict(texts)) == _rounded(eager.predict(texts))
    assert _rounded([traced.predict([text])[0] for text in texts[:5]]) == _rounded(eager.predict(texts[:5]))


def _rounded(predictions):
    """Predictions with confidences to 4 places: a traced graph may sum in another order."""
    return [([(name, round(p, 4)) for name, p in pred.intent_ranking], pred.entities) for pred in predictions]


def test_same_seed_same_predictions():
    config = TrainingConfig(epochs=1, validation_fraction=0.0, **FAST)
    first, _ = train_joint(EXAMPLES, config)
    second, _ = train_joint(EXAMPLES, config)
    texts = [e.text for e in EXAMPLES] + GIBBERISH
    assert first.predict(texts) == second.predict(texts)


def test_any_local_checkpoint_can_be_the_base(tmp_path: Path):
    tokenizer = AutoTokenizer.from_pretrained(default_base_model())
    tiny = BertConfig(vocab_size=tokenizer.vocab_size, hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                      intermediate_size=64, max_position_embeddings=64)
    BertModel(tiny).save_pretrained(tmp_path / "tiny-bert")
    tokenizer.save_pretrained(tmp_path / "tiny-bert")
    model, report = train_joint(EXAMPLES, TrainingConfig(base_model=str(tmp_path / "tiny-bert"), epochs=1, **FAST))
    assert model.module.encoder.config.hidden_size == 32 and report.epochs_run == 1
    assert len(model.predict(["hi"])[0].intent_ranking) == len(TINY_NLU)


def test_report_describes_the_run(trained):
    _, report = trained
    assert 1 <= report.best_epoch <= report.epochs_run <= 6
    assert {"intent_accuracy", "entity_f1", "loss"} <= set(report.validation)
    assert report.seconds > 0 and report.examples_per_second > 0
    assert report.temperature == 1.0  # too few held-out examples to fit one


@pytest.mark.parametrize(("steps_per_epoch", "max_steps", "epochs"), [
    (405, 3000, 8),  # SNIPS-sized data: the schedule ends after 8 epochs, not 20
    (34, 3000, 20),  # this project's data: the budget is never reached
    (5000, 3000, 1),  # one epoch is always trained
    (405, 0, 20),  # no budget
])
def test_the_learning_rate_schedule_spans_whole_epochs_within_the_update_budget(steps_per_epoch, max_steps, epochs):
    assert scheduled_epochs(steps_per_epoch, TrainingConfig(epochs=20, max_steps=max_steps)) == epochs


def test_epoch_batches_cover_every_example_once_in_batches_of_similar_length():
    lengths = [int(n) for n in torch.randint(3, 30, (1000,), generator=torch.Generator().manual_seed(0))]
    batches = epoch_batches(lengths, 8, torch.Generator().manual_seed(1))
    assert sorted(i for b in batches for i in b) == list(range(1000))
    assert len(batches) == -(-1000 // 8)  # as many updates as plain random batches
    padded = sum(max(lengths[i] for i in b) * len(b) for b in batches)
    assert padded < 1.2 * sum(lengths)  # random batches of 8 here pad to about 1.7 times the tokens
    again = epoch_batches(lengths, 8, torch.Generator().manual_seed(1))
    other = epoch_batches(lengths, 8, torch.Generator().manual_seed(2))
    assert again == batches and other != batches
    longest = [max(lengths[i] for i in b) for b in batches]
    assert longest != sorted(longest)  # the batches come in random order, not short to long


@pytest.mark.parametrize(("max_steps", "epochs_run"), [(1, 1), (0, 3)])
def test_training_ends_where_the_schedule_ends(monkeypatch: pytest.MonkeyPatch, max_steps, epochs_run):
    from assistant.nlu import training

    rising = iter(range(100))  # every epoch improves: only the schedule can end training
    monkeypatch.setattr(training, "_evaluate", lambda *args: {"score": next(rising) / 100, "loss": 1.0})
    _, report = train_joint(EXAMPLES, TrainingConfig(epochs=3, max_steps=max_steps, **FAST))
    assert report.epochs_run == epochs_run


@pytest.mark.parametrize(("scores", "epochs_run", "best_epoch"), [
    ([0.90, 0.95, 0.951, 0.9515, 0.952, 0.99], 5, 5),  # gains under min_delta let patience run out; best kept
    ([0.90, 0.95, 0.951, 0.96, 0.96, 0.96, 0.99], 7, 7),  # a real gain (epoch 4) restarts patience
])
def test_early_stopping_ignores_gains_below_min_delta(monkeypatch: pytest.MonkeyPatch, scores, epochs_run,
                                                      best_epoch):
    from assistant.nlu import training

    script = iter(scores)
    monkeypatch.setattr(training, "_evaluate", lambda *args: {"score": next(script), "loss": 1.0})
    config = TrainingConfig(epochs=len(scores), patience=3, min_delta=0.002, **FAST)
    _, report = train_joint(EXAMPLES, config)
    assert (report.epochs_run, report.best_epoch) == (epochs_run, best_epoch)


def test_temperature_softens_an_overconfident_model():
    torch.manual_seed(0)
    labels = torch.randint(0, 4, (200,))
    logits = torch.nn.functional.one_hot(labels, 4).float() * 8.0
    wrong = torch.arange(200) % 4 == 0  # a quarter of the confident answers are wrong
    logits[wrong] = logits[wrong].roll(1, dims=1)
    assert fit_temperature(logits, labels, outlier_weight=0.5) > 2.0


def test_device_falls_back_to_cpu(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.delenv("HARBOR_DEVICE", raising=False)
    assert torch_device(None) == "cpu"
    assert torch_device("cuda") == "cpu"
    assert torch_device("cuda:1") == "cpu"
    assert torch_device("cpu") == "cpu"
    monkeypatch.setenv("HARBOR_DEVICE", "cuda")
    assert torch_device() == "cpu"


def test_held_out_slice_is_stratified_by_intent():
    examples = EXAMPLES + [Example("only one", "rare")]
    train, held_out = split_held_out(examples, 0.25, seed=1)
    assert sorted(e.intent for e in held_out) == sorted(list(TINY_NLU) * 2)
    assert any(e.intent == "rare" for e in train)
    assert len(train) + len(held_out) == len(examples)


def test_bio_loader_rebuilds_text_and_spans(tmp_path: Path):
    (tmp_path / "seq.in").write_text("play the rolling stones on spotify \nbook a table\n")
    (tmp_path / "seq.out").write_text("O B-artist I-artist I-artist O B-service \nO O O\n")
    (tmp_path / "label").write_text("PlayMusic\nBookRestaurant\n")
    first, second = load_bio(tmp_path)
    assert first == Example("play the rolling stones on spotify", "PlayMusic",
                            [Span(5, 23, "artist", "the rolling stones"), Span(27, 34, "service", "spotify")])
    assert second == Example("book a table", "BookRestaurant", [])


def test_clinc_and_csv_loaders(tmp_path: Path):
    clinc = tmp_path / "data.json"
    clinc.write_text(json.dumps({"train": [["how much is it", "price"]], "oos_train": [["sing to me", "oos"]],
                                 "test": [["ignored", "price"]]}))
    assert load_clinc(clinc, ["train", "oos_train"], oos_label="oos") == [
        Example("how much is it", "price"), Example("sing to me", None)]
    table = tmp_path / "data.csv"
    table.write_text('text,label\n"hello, you",greet\nwhat?,oos\n')
    assert load_csv(table, oos_label="oos") == [Example("hello, you", "greet"), Example("what?", None)]
