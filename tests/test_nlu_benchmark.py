"""The NLU benchmark: its data sources and splits, its scores on hand-made cases, the out-of-scope conversion in our
component, and one tiny end-to-end run of both pipelines through Rasa."""
from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from assistant.nlu import metrics
from assistant.nlu.examples import Example, Span
from benchmarks.nlu import report
from benchmarks.nlu.data import load_source, splits, stratified_folds, subsample
from benchmarks.nlu.runner import PipelineResult, predicted_label, with_oos_label

ROOT = Path(__file__).resolve().parents[1]


def write_bio(directory: Path, rows: list[tuple[str, str, str]]) -> None:
    directory.mkdir(parents=True)
    for index, name in enumerate(("seq.in", "seq.out", "label")):
        (directory / name).write_text("".join(row[index] + "\n" for row in rows))


BIO_ROWS = [("play jazz by miles davis", "O B-genre O B-artist I-artist", "PlayMusic"),
            ("weather in paris tomorrow", "O O B-city B-date", "GetWeather"),
            ("play some rock", "O O B-genre", "PlayMusic"),
            ("is it sunny in rome", "O O O O B-city", "GetWeather")]


def labelled(intent: str | None, count: int) -> list[Example]:
    return [Example(f"{intent} {n}", intent) for n in range(count)]


# --- data sources -----------------------------------------------------------------------------------------------

def test_bio_directory_gives_its_train_and_test_sets_with_exact_spans(tmp_path: Path):
    write_bio(tmp_path / "mini" / "train", BIO_ROWS)
    write_bio(tmp_path / "mini" / "test", BIO_ROWS[:1])
    source = load_source(str(tmp_path / "mini"), ROOT)
    assert source.name == "mini" and len(source.train) == 4
    first = source.test[0]
    assert [(first.text[s.start:s.end], s.entity) for s in first.entities] == [("jazz", "genre"),
                                                                              ("miles davis", "artist")]
    assert splits(source, None, 0.2, 42) == [(source.train, source.test)]
    with pytest.raises(ValueError, match="own test set"):
        splits(source, 3, 0.2, 42)


def test_clinc_json_trains_on_train_and_oos_train_and_marks_the_oos_label_out_of_scope(tmp_path: Path):
    path = tmp_path / "clinc" / "data.json"
    path.parent.mkdir()
    path.write_text(json.dumps({"train": [["book a flight", "book"]], "val": [["x", "book"]],
                                "oos_train": [["how tall is it", "oos"]], "test": [["fly me", "book"]],
                                "oos_test": [["sing", "oos"]]}))
    source = load_source(str(path), ROOT, oos_label="oos")
    assert [(e.text, e.intent) for e in source.train] == [("book a flight", "book"), ("how tall is it", None)]
    assert [(e.text, e.intent) for e in source.test] == [("fly me", "book"), ("sing", None)]
    assert [(e.text, e.intent) for e in source.validation] == [("x", "book")]  # only to choose a threshold


def test_csv_without_a_test_file_is_split_per_intent(tmp_path: Path):
    path = tmp_path / "intents.csv"
    path.write_text("text,label\n" + "".join(f"say {n},{'a' if n % 2 else 'b'}\n" for n in range(20)))
    source = load_source(str(path), ROOT)
    assert source.test is None
    ((train, test),) = splits(source, None, 0.2, 42)
    assert len(test) == 4 and {e.intent for e in test} == {"a", "b"}
    assert not {e.text for e in train} & {e.text for e in test}


def test_csv_with_a_test_file(tmp_path: Path):
    (tmp_path / "train.csv").write_text("text,label\nhi,greet\nbye,other\n")
    (tmp_path / "test.csv").write_text("text,label\nhello,greet\n")
    source = load_source(str(tmp_path / "train.csv"), ROOT, test_file=str(tmp_path / "test.csv"))
    assert [e.text for e in source.test] == ["hello"]


def test_folds_test_every_example_once_and_keep_intents_balanced():
    examples = labelled("a", 10) + labelled("b", 5) + labelled(None, 5)
    folds = stratified_folds(examples, 5, seed=1)
    tested = [e for _, test in folds for e in test]
    assert sorted(e.text for e in tested) == sorted(e.text for e in examples)
    for train, test in folds:
        assert len(train) + len(test) == len(examples)
        assert [e.intent for e in test].count("a") == 2
    assert stratified_folds(examples, 5, seed=1) == folds


def test_subsample_is_seeded_and_keeps_each_intents_share():
    examples = labelled("a", 60) + labelled("b", 30) + labelled("c", 10)
    sample = subsample(examples, 10, seed=3)
    assert [e.intent for e in sample].count("a") == 6 and [e.intent for e in sample].count("c") == 1
    assert subsample(examples, 10, seed=3) == sample
    assert subsample(examples, 500, seed=3) == examples


# --- scores -----------------------------------------------------------------------------------------------------

def test_accuracy_and_macro_f1_on_a_hand_made_case():
    gold = ["a", "a", "a", "b"]
    predicted = ["a", "a", "b", "b"]
    assert metrics.accuracy(gold, predicted) == 0.75
    # a: precision 1, recall 2/3 -> F1 0.8; b: precision 1/2, recall 1 -> F1 2/3
    assert metrics.macro_f1(gold, predicted) == pytest.approx((0.8 + 2 / 3) / 2)


def test_macro_f1_weighs_rare_labels_like_common_ones():
    gold = ["a"] * 9 + ["b"]
    predicted = ["a"] * 10
    assert metrics.accuracy(gold, predicted) == 0.9
    assert metrics.macro_f1(gold, predicted) == pytest.approx((18 / 19 + 0.0) / 2)


def test_in_scope_accuracy_and_oos_recall():
    gold = ["a", "b", None, None]
    predicted = ["a", None, None, "a"]  # declining an in-scope example is wrong; half the oos are declined
    assert metrics.in_scope_accuracy(gold, predicted) == 0.5
    assert metrics.oos_recall(gold, predicted) == 0.5
    assert math.isnan(metrics.oos_recall(["a"], ["a"]))


def test_entity_f1_needs_type_start_and_end_to_match_exactly():
    gold = [[Span(0, 4, "city", "rome"), Span(8, 13, "date", "today")], [Span(2, 5, "genre", "pop")]]
    predicted = [[Span(0, 4, "city", "Rome"),  # right: the value is not scored
                  Span(8, 12, "date", "toda")],  # one character short: wrong
                 [Span(2, 5, "artist", "pop")]]  # wrong type
    # 1 hit, 3 predicted, 3 gold
    assert metrics.entity_micro_f1(gold, predicted) == pytest.approx(1 / 3)
    assert metrics.entity_micro_f1([[], []], [[], []]) == 1.0
    assert metrics.entity_micro_f1([[Span(0, 1, "x", "a")]], [[]]) == 0.0


def test_spans_of_different_examples_never_match_each_other():
    span = Span(0, 3, "x", "abc")
    assert metrics.entity_micro_f1([[span], []], [[], [span]]) == 0.0


def test_entity_f1_by_type_scores_each_type_on_its_own_spans():
    gold = [[Span(0, 4, "city", "rome"), Span(8, 13, "date", "today")], [Span(2, 5, "genre", "pop")]]
    predicted = [[Span(0, 4, "city", "Rome"), Span(8, 12, "date", "toda")], [Span(2, 5, "artist", "pop")]]
    assert metrics.entity_f1_by_type(gold, predicted) == {
        "artist": (0.0, 0),  # predicted where none was: counted, with no gold span
        "city": (1.0, 1),
        "date": (0.0, 1),
        "genre": (0.0, 1),
    }
    assert metrics.entity_f1_by_type([[], []], [[], []]) == {}


def test_percentile_interpolates_like_numpy():
    assert metrics.percentile([4, 1, 3, 2], 0.5) == 2.5
    assert metrics.percentile([1, 2, 3, 4, 5], 0.95) == pytest.approx(4.8)
    assert math.isnan(metrics.percentile([], 0.5))


def test_balanced_threshold_is_chosen_on_validation_and_scored_on_test():
    from benchmarks.nlu.runner import _Outcome, _score

    gold = ["a", "a", "b", None, None]
    best = [("a", 0.9), ("a", 0.4), ("b", 0.7), ("a", 0.5), ("b", 0.2)]
    # 0.7 declines both out-of-scope messages and the in-scope one at 0.4: balance (2/3 + 1) / 2; 0.4 and 0.5
    # keep the out-of-scope one at 0.5: (1 + 1/2) / 2 and (2/3 + 1/2) / 2; 0.9 declines two in-scope ones
    assert metrics.balanced_threshold(gold, best) == 0.7
    assert metrics.declined_below(best, 0.7) == ["a", None, "b", None, None]
    assert metrics.balanced_threshold(["a", None], [("a", 0.8), ("a", 0.8)]) == 0.0  # a tie: the lower one

    def prediction(intent: str | None, confidence: float) -> dict:
        shown = intent if confidence >= 0.95 else "nlu_fallback"  # the pipeline's own, stricter threshold
        return {"intent": shown, "entities": [], "best": [intent, confidence]}

    outcome = _Outcome(gold=[Example("t1", "a"), Example("t2", "b"), Example("t3", None)],
                       predictions=[prediction("a", 0.8), prediction("b", 0.9), prediction("oos", 0.99)],
                       validation_gold=[Example(f"v{n}", g) for n, g in enumerate(gold)],
                       validation_predictions=[prediction(i, c) for i, c in best],
                       latencies=[0.01], train_seconds=[1.0], model_bytes=[1], peak_rss_bytes=[1])
    scores = _score(outcome, "oos", has_entities=False)
    assert scores["in_scope_accuracy"] == 0.0 and scores["oos_recall"] == 1.0  # everything fell back
    assert scores["threshold_tuned"] == 0.7  # the trained oos class counts as declined at any threshold
    assert scores["in_scope_accuracy_tuned"] == 1.0 and scores["oos_recall_tuned"] == 1.0
    assert scores["in_scope_accuracy_any"] == 1.0
    # OOS recall 60 % on validation: 0.5 declines only the out-of-scope one at 0.2 (50 %), 0.7 both
    assert scores["threshold_at_recall"] == 0.7 and scores["oos_recall_at_recall"] == 1.0
    # in-scope 95 % on validation: 0.4 keeps both in-scope "a"s and "b" (3 of 3); 0.5 would decline the "a" at 0.4
    assert scores["threshold_at_accuracy"] == 0.4 and scores["in_scope_accuracy_at_accuracy"] == 1.0


def test_threshold_for_recall_keeps_the_most_in_scope_answers_that_reach_the_recall():
    gold = ["a", "b", None, None, None]
    best = [("a", 0.9), ("b", 0.6), ("a", 0.3), ("b", 0.5), ("a", 0.8)]
    # 0.6 declines the out-of-scope ones at 0.3 and 0.5 (2 of 3) and still keeps b at 0.6; 0.5 would keep 0.5
    assert metrics.threshold_for_recall(gold, best, 0.6) == 0.6
    assert metrics.threshold_for_recall(gold, best, 0.0) == 0.0
    assert metrics.threshold_for_recall(gold, best, 1.0) == 0.9  # the out-of-scope one at 0.8 needs more than 0.8
    assert metrics.threshold_for_recall(["a"], [("a", 0.4)], 0.5) > 0.4  # no out-of-scope at all: nan never reaches


def test_threshold_for_accuracy_declines_the_most_that_keeps_the_in_scope_bar():
    gold = ["a", "b", "a", None, None]
    best = [("a", 0.9), ("b", 0.6), ("b", 0.7), ("a", 0.3), ("b", 0.5)]  # the "b" at 0.7 is wrong whatever happens
    # 2 of 3 in scope right at most: 0.6 keeps both right ones and declines the out-of-scope ones at 0.3 and 0.5
    assert metrics.threshold_for_accuracy(gold, best, 2 / 3) == 0.6
    assert metrics.threshold_for_accuracy(gold, best, 1 / 3) == 0.9  # one right answer is enough: decline the rest
    assert metrics.threshold_for_accuracy(gold, best, 0.9) == 0.0  # out of reach: decline nothing


def test_worker_keeps_the_best_real_intent_behind_a_fallback():
    from benchmarks.nlu.worker import _prediction

    parsed = {"intent": {"name": "nlu_fallback", "confidence": 0.5},
              "intent_ranking": [{"name": "nlu_fallback", "confidence": 0.5}, {"name": "book", "confidence": 0.31},
                                 {"name": "weather", "confidence": 0.2}], "entities": []}
    assert _prediction(parsed) == {"intent": "nlu_fallback", "entities": [], "best": ["book", 0.31]}
    assert _prediction({"intent": None, "entities": []})["best"] == [None, 0.0]


def test_fallback_and_the_trained_oos_class_both_count_as_out_of_scope():
    assert predicted_label("nlu_fallback", "oos") is None
    assert predicted_label("oos", "oos") is None
    assert predicted_label("book", "oos") == "book"
    assert predicted_label("oos", None) == "oos"


def test_only_steps_that_declare_the_key_get_the_oos_label():
    config = {"pipeline": [{"name": "Ours", "out_of_scope_intent": None}, {"name": "DIETClassifier"}]}
    assert with_oos_label(config, "oos")["pipeline"] == [{"name": "Ours", "out_of_scope_intent": "oos"},
                                                         {"name": "DIETClassifier"}]


# --- report -----------------------------------------------------------------------------------------------------

def test_table_shows_only_columns_that_apply_and_marks_missing_numbers():
    results = [PipelineResult("ours", {"intent_accuracy": 0.987, "train_seconds": 12.34}),
               PipelineResult("diet", {"intent_accuracy": math.nan})]
    lines = report.table(results).splitlines()
    assert lines[0] == "| pipeline | intent acc % | train s |"
    assert lines[2:] == ["| ours | 98.7 | 12.3 |", "| diet | - | - |"]


def test_entity_table_has_a_row_per_type_and_a_column_per_pipeline():
    results = [PipelineResult("ours", {}, {"brand": (0.8, 10), "spec": (0.5, 4)}),
               PipelineResult("diet", {}, {"brand": (0.75, 10)}),
               PipelineResult("intent_only", {})]
    assert report.entity_table(results).splitlines() == [
        "| entity type | gold spans | ours F1 % | diet F1 % |", "|---|---:|---:|---:|",
        "| brand | 10 | 80.0 | 75.0 |", "| spec | 4 | 50.0 | - |"]
    assert report.entity_table([PipelineResult("intent_only", {})]) == ""


def test_rerun_replaces_only_its_own_section(tmp_path: Path):
    path = tmp_path / "benchmarks.md"
    report.write_section(path, "snips", report.section("snips", "snips", "first"))
    report.write_section(path, "clinc", report.section("clinc", "clinc", "other"))
    report.write_section(path, "snips", report.section("snips", "snips", "second"))
    text = path.read_text()
    assert "second" in text and "first" not in text and "other" in text
    assert text.count("benchmark:snips:start") == 1 and text.index("snips") < text.index("clinc")


def test_published_numbers_are_quoted_from_source_md(tmp_path: Path):
    (tmp_path / "SOURCE.md").write_text("# Data\n\n- notes\n\nPublished reference numbers (test):\n"
                                        "| model | acc |\n|---|---|\n| BERT | 98.6 |\n\nMore text.\n")
    assert report.references(tmp_path) == ("Published reference numbers (test):\n\n| model | acc |\n|---|---|\n"
                                           "| BERT | 98.6 |")
    assert report.references(tmp_path / "missing") is None


# --- Rasa -------------------------------------------------------------------------------------------------------

@pytest.mark.rasa
def test_our_component_trains_the_configured_oos_intent_as_out_of_scope(tmp_path: Path, monkeypatch):
    pytest.importorskip("rasa")
    from rasa.engine.graph import ExecutionContext, GraphSchema
    from rasa.engine.storage.local_model_storage import LocalModelStorage
    from rasa.engine.storage.resource import Resource
    from rasa.shared.nlu.training_data.message import Message
    from rasa.shared.nlu.training_data.training_data import TrainingData

    from components import transformer_nlu

    seen: list[Example] = []

    class _Saved:
        def save(self, directory: Path) -> None:
            (Path(directory) / "model").write_text("stub")

    def fake_train(examples, config):
        seen.extend(examples)
        return _Saved(), "stub report"

    monkeypatch.setattr(transformer_nlu, "train_joint", fake_train)
    config = {**transformer_nlu.TransformerNLU.get_default_config(), "out_of_scope_intent": "oos"}
    component = transformer_nlu.TransformerNLU.create(config, LocalModelStorage(tmp_path), Resource("nlu"),
                                                      ExecutionContext(GraphSchema({}), "test"))
    component.train(TrainingData([Message.build("hi", "greet"), Message.build("what is pi", "oos")]))
    assert [(e.text, e.intent) for e in seen] == [("hi", "greet"), ("what is pi", None)]


def tiny_encoder(directory: Path) -> Path:
    """A one-layer BERT with the real tokenizer: the plumbing is under test here, not the model."""
    from transformers import AutoTokenizer, BertConfig, BertModel

    from assistant.nlu.joint_model import default_base_model

    tokenizer = AutoTokenizer.from_pretrained(default_base_model())
    BertModel(BertConfig(vocab_size=tokenizer.vocab_size, hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                         intermediate_size=64, max_position_embeddings=64)).save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return directory


def shrunk_pipeline(name: str, step_name: str, override: dict, directory: Path) -> str:
    """A shipped pipeline with its learning step cut down to a quick run, written to `directory`."""
    import yaml

    config = yaml.safe_load((ROOT / "benchmarks" / "pipelines" / f"{name}.yml").read_text())
    next(step for step in config["pipeline"] if step["name"].endswith(step_name)).update(override)
    (directory / f"{name}.yml").write_text(yaml.safe_dump(config))
    return str(directory / f"{name}.yml")


def test_a_stopped_run_keeps_the_pipelines_it_finished(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A run stopped while the second pipeline trains has already written the first one's row, marked
    incomplete; no comparison is claimed."""
    from benchmarks.nlu import cli

    def stopped_during_diet(source, runs, pipelines, oos_label, workdir, on_done):
        on_done([PipelineResult("ours", {"intent_accuracy": 0.975, "macro_f1": 0.97, "train_seconds": 60.0})])
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "run_benchmark", stopped_during_diet)
    write_bio(tmp_path / "data" / "train", BIO_ROWS * 3)
    write_bio(tmp_path / "data" / "test", BIO_ROWS)
    out = tmp_path / "benchmarks.md"
    with pytest.raises(KeyboardInterrupt):
        cli.main(["--data", str(tmp_path / "data"), "--pipelines", "ours,diet", "--out", str(out)])
    text = out.read_text()
    assert "| ours | 97.5 | 97.0 |" in text and "| diet |" not in text
    assert "Incomplete: diet still running" in text


@pytest.mark.rasa
def test_one_tiny_run_scores_both_pipelines(tmp_path: Path):
    """Both shipped pipelines, cut to one epoch, on a few examples with entities and out-of-scope ones."""
    pytest.importorskip("rasa")
    from benchmarks.nlu.cli import main

    rows = BIO_ROWS * 3 + [("tell me a joke about cats", "O O O O O O", "oos"),
                           ("what is the meaning of life", "O O O O O O", "oos")] * 2
    write_bio(tmp_path / "tiny" / "train", rows)
    write_bio(tmp_path / "tiny" / "test", rows[:4] + rows[-2:])
    ours = {"epochs": 1, "batch_size": 8, "max_length": 16, "base_model": str(tiny_encoder(tmp_path / "bert"))}
    diet = {"epochs": 1, "number_of_transformer_layers": 0}
    pipelines = [shrunk_pipeline("ours", "TransformerNLU", ours, tmp_path),
                 shrunk_pipeline("diet", "DIETClassifier", diet, tmp_path)]
    out = tmp_path / "benchmarks.md"
    results = main(["--data", str(tmp_path / "tiny"), "--pipelines", ",".join(pipelines), "--oos-label", "oos",
                    "--out", str(out)])
    assert [r.name for r in results] == ["ours", "diet"]
    for result in results:
        for key in ("intent_accuracy", "macro_f1", "entity_f1", "in_scope_accuracy", "oos_recall"):
            assert 0.0 <= result.scores[key] <= 1.0
        assert result.scores["train_seconds"] > 0 and 0 < result.scores["p50_ms"] <= result.scores["p95_ms"]
        assert result.scores["model_mib"] > 0 and result.scores["peak_rss_mib"] > 0
    text = out.read_text()
    assert "| ours |" in text and "| diet |" in text and "--oos-label oos" in text
    assert "Entity F1 by type" in text and all(set(r.entity_types) <= {"artist", "city", "genre", "date"}
                                                 and r.entity_types for r in results)


def test_speed_benchmark_reads_exported_examples_and_bio_folders(tmp_path):
    import json

    from assistant.nlu.examples import Example, Span
    from benchmarks.nlu.speed import read_examples

    exported = tmp_path / "examples.json"
    exported.write_text(json.dumps([{"text": "red shoes", "intent": "search", "entities": [
        {"start": 0, "end": 3, "entity": "color", "value": "red"}]}]))
    assert read_examples(exported) == [Example("red shoes", "search", [Span(0, 3, "color", "red")])]
    train = tmp_path / "snips" / "train"
    train.mkdir(parents=True)
    (train / "seq.in").write_text("play jazz\n")
    (train / "seq.out").write_text("O B-genre\n")
    (train / "label").write_text("PlayMusic\n")
    assert read_examples(tmp_path / "snips") == [Example("play jazz", "PlayMusic", [Span(5, 9, "genre", "jazz")])]


def test_sweep_grid_is_every_combination_typed_like_the_training_config():
    from benchmarks.nlu.sweep import settings_grid

    grid = settings_grid(["learning_rate=5e-5,1e-4", "max_steps=3000,6000", "base_model=/models/x", "progress=false"])
    assert len(grid) == 4
    assert grid[0] == {"learning_rate": 5e-5, "max_steps": 3000, "base_model": "/models/x", "progress": False}
    assert {(g["learning_rate"], g["max_steps"]) for g in grid} == {(5e-5, 3000), (5e-5, 6000), (1e-4, 3000),
                                                                     (1e-4, 6000)}
    assert isinstance(grid[0]["max_steps"], int)
    assert settings_grid([]) == [{}]  # no --set: the defaults, once
    for wrong in (["learn_rate=1e-4"], ["learning_rate"], ["max_steps=many"], ["progress=maybe"]):
        with pytest.raises(ValueError):
            settings_grid(wrong)


def test_sweep_scores_intents_entities_and_thresholds_placed_on_validation():
    from assistant.nlu.joint_model import Prediction
    from benchmarks.nlu.sweep import score

    answers = {"play jazz": Prediction([("play", 0.9), ("weather", 0.1)], [Span(5, 9, "genre", "jazz")], [0.9]),
               "rain?": Prediction([("weather", 0.6), ("play", 0.4)], [], []),
               "blah": Prediction([("play", 0.55), ("weather", 0.45)], [], []),
               "v1": Prediction([("play", 0.8), ("weather", 0.2)], [], []),
               "v2": Prediction([("play", 0.5), ("weather", 0.5)], [], [])}

    class Model:
        def predict(self, texts):
            return [answers[text] for text in texts]

    test = [Example("play jazz", "play", [Span(5, 9, "genre", "jazz")]), Example("rain?", "weather"),
            Example("blah", None)]
    scores = score(Model(), test, [Example("v1", "play"), Example("v2", None)])
    assert scores["intent_accuracy"] == pytest.approx(2 / 3)  # nothing declined: the out-of-scope one is wrong
    assert scores["entity_f1"] == 1.0
    assert scores["in_scope_accuracy_any"] == 1.0
    # the highest threshold keeping validation in-scope accuracy at 95 % is 0.8; on test it declines "rain?" too
    assert scores["threshold_at_accuracy"] == 0.8
    assert scores["in_scope_accuracy_at_accuracy"] == 0.5 and scores["oos_recall_at_accuracy"] == 1.0
    assert "in_scope_accuracy_any" not in score(Model(), test[:2], None)  # no validation split: no thresholds


def test_published_numbers_under_a_heading_quote_every_table_of_that_section(tmp_path: Path):
    (tmp_path / "SOURCE.md").write_text("## Published reference numbers\nSource: the paper.\n\nSampled:\n"
                                        "| model | HR |\n|---|---|\n| A | 0.1 |\n\nFull:\n| model | HR |\n|---|---|\n"
                                        "| A | 0.01 |\n\nNot evaluated elsewhere.\n\n## Related\n| x | y |\n")
    assert report.references(tmp_path) == ("Published reference numbers\nSource: the paper.\n\nSampled:\n\n"
                                           "| model | HR |\n|---|---|\n| A | 0.1 |\n\nFull:\n\n| model | HR |\n"
                                           "|---|---|\n| A | 0.01 |")
    (tmp_path / "SOURCE.md").write_text("## Published reference numbers\nNone yet.\n")
    assert report.references(tmp_path) is None


def test_sweep_table_shows_the_benchmark_columns_it_has_scores_for_in_the_benchmark_format():
    from assistant.nlu.training import TrainingReport
    from benchmarks.nlu.sweep import Trial, table

    fitted = TrainingReport(epochs_run=7, best_epoch=5, seconds=129.4)
    trial = Trial({"learning_rate": 1e-4}, fitted, {"intent_accuracy": 0.785, "threshold_at_accuracy": 0.5123,
                                                    "in_scope_accuracy_at_accuracy": 0.948})
    head, rule, row = table([trial]).splitlines()
    assert head == ("| settings | epochs (best) | train s | intent acc % | threshold for in-scope 95 % "
                    "| in-scope acc % (in-scope 95 %) |")
    assert rule.count("|") == head.count("|")
    assert row == "| learning_rate=0.0001 | 7 (5) | 129 | 78.5 | 0.51 | 94.8 |"
