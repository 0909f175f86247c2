"""Whether a held-out question set is really new: its questions that nearly repeat one of another set's.

    python -m benchmarks.answers.overlap benchmarks/answers/heldout3.yml

compares the set with every other question set in this folder and lists each pair at or above the threshold
(rapidfuzz token_sort_ratio, 0-100, case-folded: word order aside, how much of the text two questions share).
Run it before committing a new held-out set: a repeated question measures the tuning, not how the answers carry
to new wording. Exits 1 when a pair is found.
"""
from __future__ import annotations

import argparse
from pathlib import Path

from rapidfuzz import fuzz

from benchmarks.answers.cli import load_cases

THRESHOLD = 75.0


def near_repeats(path: Path, others: list[Path], threshold: float = THRESHOLD) -> list[tuple[float, str, str, str]]:
    """(score, question, the other set's name, its question) for each question of `path` at or above threshold."""
    theirs = [(other.name, case.question) for other in others for case in load_cases(other)]
    found = []
    for case in load_cases(path):
        score, name, question = max((fuzz.token_sort_ratio(case.question.lower(), q.lower()), n, q) for n, q in theirs)
        if score >= threshold:
            found.append((score, case.question, name, question))
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("questions", type=Path)
    parser.add_argument("--threshold", type=float, default=THRESHOLD)
    args = parser.parse_args(argv)
    others = sorted(p for p in args.questions.parent.glob("*.yml") if p.resolve() != args.questions.resolve())
    found = near_repeats(args.questions, others, args.threshold)
    for score, question, name, other in found:
        print(f"{score:5.1f}  {question!r}  ~  {name}: {other!r}")
    print(f"{len(found)} of {len(load_cases(args.questions))} questions in {args.questions} are at or above "
          f"{args.threshold:g} against {', '.join(p.name for p in others)}")
    return 1 if found else 0


if __name__ == "__main__":
    raise SystemExit(main())
