"""Scores for NLU predictions, independent of Rasa, so any predictor (Rasa pipeline or bare model) is measured alike.

Labels are intent names, with `None` for out of scope: a gold `None` is an out-of-scope example, a predicted `None`
means the predictor declined (fallback or a trained out-of-scope class, mapped by the caller). Entities are
compared as exact (start, end, type) spans, as conlleval does: a span that is one character off counts as wrong.
"""
from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence

from assistant.nlu.examples import Span

Label = str | None


def accuracy(gold: Sequence[Label], predicted: Sequence[Label]) -> float:
    """Share of predictions equal to the gold label; out-of-scope predicted as out of scope counts as right."""
    _same_length(gold, predicted)
    return sum(g == p for g, p in zip(gold, predicted)) / len(gold) if gold else math.nan


def macro_f1(gold: Sequence[Label], predicted: Sequence[Label]) -> float:
    """Unweighted mean of per-label F1 over the labels that occur in `gold` (so rare intents weigh as much as
    common ones); predictions of any other label still cost those labels recall."""
    _same_length(gold, predicted)
    labels = set(gold)
    if not labels:
        return math.nan
    hits = Counter(g for g, p in zip(gold, predicted) if g == p)
    gold_counts, predicted_counts = Counter(gold), Counter(predicted)
    return sum(_f1(hits[label], predicted_counts[label], gold_counts[label]) for label in labels) / len(labels)


def in_scope_accuracy(gold: Sequence[Label], predicted: Sequence[Label]) -> float:
    """Accuracy over the in-scope gold examples only; declining one of them counts as wrong."""
    _same_length(gold, predicted)
    pairs = [(g, p) for g, p in zip(gold, predicted) if g is not None]
    return sum(g == p for g, p in pairs) / len(pairs) if pairs else math.nan


def oos_recall(gold: Sequence[Label], predicted: Sequence[Label]) -> float:
    """Share of the out-of-scope gold examples that the predictor declined."""
    _same_length(gold, predicted)
    declined = [p is None for g, p in zip(gold, predicted) if g is None]
    return sum(declined) / len(declined) if declined else math.nan


def declined_below(best: Sequence[tuple[Label, float]], threshold: float) -> list[Label]:
    """Predictions at a confidence threshold: each (best intent, its confidence) declined (None) below it."""
    return [label if confidence >= threshold else None for label, confidence in best]


def _candidates(best: Sequence[tuple[Label, float]]) -> list[float]:
    """The thresholds worth trying, lowest first: 0 (decline nothing) and each confidence (decline below it)."""
    return sorted({0.0, *(confidence for _, confidence in best)})


def balanced_threshold(gold: Sequence[Label], best: Sequence[tuple[Label, float]]) -> float:
    """The confidence threshold that maximises the mean of in-scope accuracy and OOS recall on (`gold`, `best`):
    chosen on a validation split, it is one threshold for the test set that favours neither side. Candidates are
    the confidences themselves (and 0); a tie goes to the lower threshold, which declines less."""
    _same_length(gold, best)

    def balance(threshold: float) -> float:
        predicted = declined_below(best, threshold)
        return (in_scope_accuracy(gold, predicted) + oos_recall(gold, predicted)) / 2

    return max(_candidates(best), key=lambda t: (balance(t), -t))


def threshold_for_recall(gold: Sequence[Label], best: Sequence[tuple[Label, float]], min_recall: float) -> float:
    """The lowest confidence threshold at which OOS recall on (`gold`, `best`) reaches `min_recall`: the operating
    point that keeps the most in-scope answers while declining at least that share of out-of-scope messages.
    Chosen on a validation split, like `balanced_threshold`; above every confidence when no threshold reaches it."""
    _same_length(gold, best)
    for threshold in _candidates(best):
        if oos_recall(gold, declined_below(best, threshold)) >= min_recall:
            return threshold
    return math.nextafter(max((c for _, c in best), default=0.0), math.inf)


def threshold_for_accuracy(gold: Sequence[Label], best: Sequence[tuple[Label, float]], min_accuracy: float) -> float:
    """The highest confidence threshold at which in-scope accuracy on (`gold`, `best`) stays at `min_accuracy`:
    the other side of `threshold_for_recall`, declining as many out-of-scope messages as that accuracy allows.
    Chosen on a validation split; 0 (decline nothing) when even that misses the bar."""
    _same_length(gold, best)
    reached = [t for t in _candidates(best)
               if in_scope_accuracy(gold, declined_below(best, t)) >= min_accuracy]
    return max(reached, default=0.0)


def entity_micro_f1(gold: Sequence[Iterable[Span]], predicted: Sequence[Iterable[Span]]) -> float:
    """Micro-averaged F1 over all entity spans of all examples; type, start and end must all match (not value)."""
    _same_length(gold, predicted)
    gold_set = _span_keys(gold)
    predicted_set = _span_keys(predicted)
    return _f1(len(gold_set & predicted_set), len(predicted_set), len(gold_set))


def entity_f1_by_type(gold: Sequence[Iterable[Span]], predicted: Sequence[Iterable[Span]]
                      ) -> dict[str, tuple[float, int]]:
    """Exact-span F1 and the number of gold spans of each entity type found in the gold or the predictions: where
    a micro-average hides which types a pipeline misses (a rare type weighs little in it)."""
    _same_length(gold, predicted)
    gold_set, predicted_set = _span_keys(gold), _span_keys(predicted)
    scores = {}
    for entity in sorted({key[3] for key in gold_set | predicted_set}):
        expected = {key for key in gold_set if key[3] == entity}
        found = {key for key in predicted_set if key[3] == entity}
        scores[entity] = (_f1(len(expected & found), len(found), len(expected)), len(expected))
    return scores


def percentile(values: Sequence[float], share: float) -> float:
    """The `share` (0..1) percentile with linear interpolation between the closest ranks (numpy's default)."""
    if not values:
        return math.nan
    ordered = sorted(values)
    position = share * (len(ordered) - 1)
    below = math.floor(position)
    above = min(below + 1, len(ordered) - 1)
    return ordered[below] + (ordered[above] - ordered[below]) * (position - below)


def _span_keys(examples: Sequence[Iterable[Span]]) -> set[tuple[int, int, int, str]]:
    return {(index, span.start, span.end, span.entity) for index, spans in enumerate(examples) for span in spans}


def _f1(hits: int, predicted: int, gold: int) -> float:
    """F1 from counts; 1.0 when there was nothing to find and nothing was found, as both lists agree."""
    if predicted == gold == 0:
        return 1.0
    return 2 * hits / (predicted + gold)


def _same_length(gold: Sequence[object], predicted: Sequence[object]) -> None:
    if len(gold) != len(predicted):
        raise ValueError(f"{len(gold)} gold labels but {len(predicted)} predictions")
