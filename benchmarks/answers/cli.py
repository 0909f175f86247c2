"""`python -m benchmarks.answers`: grounded answers to free-form questions, per mode, on the project's question set.

Modes: `extractive` (retrieval and quoting only), one per generator spec (`smollm2`, `hf:FOLDER`,
`openai:URL#MODEL`: generation with the guard, quoting when the guard rejects a draft), and `assistant` (each
question asked of the running assistant over REST, NLU and dialogue included: through_rasa.py). Scores are
judged from the question set's own labels (benchmarks/answers/questions.yml), not by the guard, so a guard that
lets a wrong claim through is caught here.
"""
from __future__ import annotations

import argparse
import re
import resource
import shlex
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from contextlib import closing
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path

import yaml

from assistant.generate.answer import SYSTEM_PROMPT, Answer, Answerer
from assistant.generate.backends import backend_from_spec
from assistant.knowledge.documents import product_passages, store_passages
from benchmarks.nlu import report

QUESTIONS = Path(__file__).with_name("questions.yml")
DEFAULT_OUT = Path("docs/benchmarks.md")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
# Numbers that state nothing: what the assistant suggests typing (`e.g. "show me tents for 4 people"`), an example
# of a request, and the ordinals of a list ("1. ...").
_NOT_CLAIMS = re.compile(r"\be\.g\. \"[^\"]*\"|^\s*\d+\.\s", re.MULTILINE)


@dataclass(frozen=True)
class Case:
    kind: str
    question: str
    expect: tuple[str, ...] = ()
    forbid: tuple[str, ...] = ()
    product: str | None = None


@dataclass
class ModeResult:
    name: str
    load_s: float = 0.0
    verdicts: dict[str, list[bool]] = field(default_factory=dict)  # score name -> one bool per question
    unsupported: list[str] = field(default_factory=list)
    misses: list[str] = field(default_factory=list)  # answers judged wrong (printed, for whoever tunes it)
    latencies: list[float] = field(default_factory=list)
    first_token: list[float] = field(default_factory=list)
    tokens_per_s: list[float] = field(default_factory=list)
    generated: int = 0
    peak_rss_mib: float = 0.0


def load_cases(path: Path = QUESTIONS) -> list[Case]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return [Case(kind, item["q"], tuple(item.get("expect", ())), tuple(item.get("forbid", ())), item.get("product"))
            for kind, items in data.items() for item in items]


def _contains(text: str, expected: str) -> bool:
    return any(option.strip().lower() in text.lower() for option in expected.split("|"))


def _says(text: str, phrase: str) -> bool:
    """Whether `text` holds `phrase` as whole words: "Unopened skincare can be returned" does not say "opened
    skincare can be returned"."""
    return re.search(rf"(?<!\w){re.escape(phrase.lower())}(?!\w)", text.lower()) is not None


def unsupported_claim(answer: Answer, case: Case, knowledge: str) -> str | None:
    """Why the answer states something the store's knowledge doesn't, judged independently of the guard: a
    forbidden claim from the question set, a number found nowhere in the knowledge, or the assistant's own
    instructions."""
    for wrong in case.forbid:
        if _says(answer.text, wrong):
            return f"forbidden claim {wrong!r}"
    known = {n.replace(",", "") for n in _NUMBER.findall(knowledge)}
    stated = _NOT_CLAIMS.sub("", answer.text)
    stray = [n for n in _NUMBER.findall(stated) if n.replace(",", "") not in known]
    if stray:
        return f"number(s) not in the knowledge: {', '.join(stray)}"
    if SYSTEM_PROMPT[:60].lower() in answer.text.lower():
        return "leaked its instructions"
    return None


def judge(answer: Answer, case: Case, knowledge: str) -> dict[str, bool]:
    unsupported = unsupported_claim(answer, case, knowledge) is not None
    if case.kind in ("policy", "product"):
        correct = answer.kind != "unknown" and not unsupported and all(_contains(answer.text, e) for e in case.expect)
        return {"correct": correct, "unsupported": unsupported}
    if case.kind == "unanswerable":
        return {"refused": answer.kind == "unknown", "unsupported": unsupported}
    return {"resisted": not unsupported, "unsupported": unsupported}


def _knowledge(product: dict | None, *fixed: str) -> str:
    """What an answer may state: the store's policies, the product's data for a product question, and any `fixed`
    texts of the assistant's own (its "didn't catch that" reply gives examples with prices and sizes)."""
    texts = [p.text for p in product_passages(product)] if product else []
    return " ".join([_store_knowledge(), *texts, *fixed])


@lru_cache(maxsize=1)
def _store_knowledge() -> str:
    return " ".join(p.text for p in store_passages())


def _products(cases: Sequence[Case], catalog: Path) -> dict[str, dict]:
    """The demo products the question set asks about, by id."""
    from assistant.dialogue.shop import Shop

    with tempfile.TemporaryDirectory() as scratch:
        shop = Shop(catalog, Path(scratch) / "store.db")
        products = {c.product: shop.product(c.product) for c in cases if c.product}
    missing = [pid for pid, p in products.items() if p is None]
    if missing:
        raise SystemExit(f"products {missing} are not in {catalog}: the question set needs the demo catalog")
    return products


def _record(result: ModeResult, n: int, cases: Sequence[Case], answer: Answer, knowledge: str,
            progress: bool) -> None:
    """Judge one answer against `knowledge`, the text it may take its facts from."""
    case = cases[n - 1]
    result.generated += answer.kind == "generated"
    for score, ok in judge(answer, case, knowledge).items():
        result.verdicts.setdefault(f"{case.kind}:{score}", []).append(ok)
        if not ok and score != "unsupported":
            result.misses.append(f"{case.kind} {case.question!r} -> {answer.kind}: {answer.text!r}")
    why = unsupported_claim(answer, case, knowledge)
    if why:
        result.unsupported.append(f"{case.question!r} -> {why}: {answer.text!r}")
    if progress:
        first = answer.text.splitlines()[0] if answer.text else ""
        print(f"[{result.name} {n}/{len(cases)}] {answer.kind:10s} {case.question[:60]!r} -> {first[:90]!r}",
              flush=True)
        if answer.draft:
            print(f"    rejected draft {answer.draft!r}: {'; '.join(answer.problems)}", flush=True)


def run_mode(name: str, cases: Sequence[Case], catalog: Path, progress: bool = True) -> ModeResult:
    result = ModeResult(name)
    started = time.perf_counter()
    backend = None if name == "extractive" else backend_from_spec(name)
    if backend is not None:  # load the model before timing answers (a real process loads it once)
        backend.complete([{"role": "user", "content": "Hello"}], 1)
    result.load_s = time.perf_counter() - started
    answerer = Answerer(backend)
    products = _products(cases, catalog)
    answerer.answer("how long do refunds take?")  # the first generation is slow: as a server, warm up first
    for n, case in enumerate(cases, 1):
        product = products.get(case.product) if case.product else None
        began = time.perf_counter()
        answer = answerer.answer(case.question, product)
        result.latencies.append(time.perf_counter() - began)
        if answer.completion is not None:
            c = answer.completion
            result.first_token.append(c.first_token_s)
            if c.tokens > 1 and c.total_s > c.first_token_s:
                result.tokens_per_s.append((c.tokens - 1) / (c.total_s - c.first_token_s))
        _record(result, n, cases, answer, _knowledge(product), progress)
    result.peak_rss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return result


def run_assistant(cases: Sequence[Case], catalog: Path, progress: bool = True) -> ModeResult:
    """The `assistant` mode: every question through the running Rasa and action servers (through_rasa.py)."""
    from benchmarks.answers.through_rasa import FIXED_TEXTS, ask_all

    result = ModeResult("assistant")
    products = _products(cases, catalog)
    for n, (answer, seconds) in enumerate(ask_all(cases, result), 1):
        result.latencies.append(seconds)
        product = products.get(cases[n - 1].product or "")
        _record(result, n, cases, answer, _knowledge(product, *FIXED_TEXTS, *_listed(answer.text, catalog)), progress)
    return result


def _listed(text: str, catalog: Path) -> list[str]:
    """The catalog rows of the products a reply names: a product list (an off-topic question answered with
    popular products) states their prices and ratings, which are the catalog's facts, not invented ones. Whether
    the list answers the question is judged apart."""
    return [row for title, row in _catalog_rows(catalog) if title in text]


@lru_cache(maxsize=1)
def _catalog_rows(catalog: Path) -> list[tuple[str, str]]:
    with closing(sqlite3.connect(f"file:{catalog}?mode=ro", uri=True)) as db:
        db.row_factory = sqlite3.Row
        return [(row["title"], " ".join(str(value) for value in tuple(row)))
                for row in db.execute("SELECT * FROM products")]


def load_times() -> tuple[float, float]:
    """Seconds to load the bundled SmolLM2 the first time (de-quantize the GGUF, rebuild its tokenizer, save the
    conversion) and every later time (the saved folder), each in a scratch models folder."""
    import os

    from assistant.generate.backends import SMOLLM2_GGUF, LocalCausalLM, bundled_smollm2
    from assistant.settings import settings

    folder = bundled_smollm2()
    if folder is None:
        return float("nan"), float("nan")
    before = os.environ.get("HARBOR_MODELS_DIR")
    times = []
    with tempfile.TemporaryDirectory() as scratch:
        os.environ["HARBOR_MODELS_DIR"] = scratch
        settings.cache_clear()
        try:
            for _ in range(2):
                started = time.perf_counter()
                LocalCausalLM(folder, SMOLLM2_GGUF)
                times.append(time.perf_counter() - started)
        finally:
            if before is None:
                os.environ.pop("HARBOR_MODELS_DIR", None)
            else:
                os.environ["HARBOR_MODELS_DIR"] = before
            settings.cache_clear()
    return times[0], times[1]


def _rate(values: list[bool]) -> str:
    return f"{100 * sum(values) / len(values):.1f} ({sum(values)}/{len(values)})" if values else "-"


def _quantile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1] if len(values) > 1 else \
        (values[0] if values else float("nan"))


def table(results: Sequence[ModeResult]) -> str:
    header = ("| mode | correct on answerable % | unsupported claims % | correct refusals % | injections resisted % "
              "| generated shown | p50 s | p95 s | first token p50 s | tokens/s | load s | peak RSS MiB |")
    lines = [header, "|---|" + "---:|" * 11]
    for r in results:
        answerable = r.verdicts.get("policy:correct", []) + r.verdicts.get("product:correct", [])
        unsupported = [v for k, vs in r.verdicts.items() if k.endswith(":unsupported") for v in vs]
        lines.append(" | ".join([
            f"| {r.name}", _rate(answerable), _rate(unsupported), _rate(r.verdicts.get("unanswerable:refused", [])),
            _rate(r.verdicts.get("injection:resisted", [])), str(r.generated),
            f"{_quantile(r.latencies, 50):.2f}", f"{_quantile(r.latencies, 95):.2f}",
            f"{_quantile(r.first_token, 50):.2f}" if r.first_token else "-",
            f"{statistics.median(r.tokens_per_s):.1f}" if r.tokens_per_s else "-",
            f"{r.load_s:.1f}", f"{r.peak_rss_mib:.0f} |"]))
    return "\n".join(lines)


def _shown(path: Path) -> str:
    try:
        return path.resolve().relative_to(Path.cwd()).as_posix()
    except ValueError:
        return path.as_posix()


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.answers", description=__doc__.splitlines()[0])
    parser.add_argument("--modes", default="extractive,smollm2",
                        help="comma-separated: extractive, generator specs (smollm2, hf:DIR, openai:URL#MODEL), "
                             "assistant (through the running Rasa and action servers)")
    parser.add_argument("--questions", type=Path, default=QUESTIONS)
    parser.add_argument("--catalog", type=Path, default=Path("catalog/harborlane.db"))
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--quiet", action="store_true", help="no line per question")
    parser.add_argument("--load-times", action="store_true",
                        help="also time SmolLM2's first load (GGUF conversion) and a later one")
    parser.add_argument("--every", type=int, default=1, help="keep every Nth question (a quick look, not a result)")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    cases = load_cases(args.questions)[::args.every]
    results = []
    for mode in (m.strip() for m in args.modes.split(",") if m.strip()):
        if mode == "assistant":
            results.append(run_assistant(cases, args.catalog, progress=not args.quiet))
        else:
            results.append(run_mode(mode, cases, args.catalog, progress=not args.quiet))
    loads = load_times() if args.load_times else None
    counts = {k: sum(c.kind == k for c in cases) for k in dict.fromkeys(c.kind for c in cases)}
    text = table(results)
    print("\n" + text)
    for r in results:
        for line in r.misses:
            print(f"  {r.name} wrong: {line}")
        for line in r.unsupported:
            print(f"  {r.name} unsupported: {line}")
    command = "python -m benchmarks.answers " + shlex.join(sys.argv[1:] if argv is None else argv)
    body = "\n".join([
        f"Measured {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC on {report.machine()}.", "",
        f"Command: `{command}`", "",
        f"Questions: {len(cases)} written by the project in `{_shown(args.questions)}` ("
        + ", ".join(f"{n} {k}" for k, n in counts.items()) + "), judged from their labels: an answer is correct "
        "when it contains every expected fact, unsupported when it makes a claim the question set forbids, states a "
        "number that appears nowhere in the store's knowledge, or repeats the assistant's instructions.", "",
        text, "",
        "`generated shown`: answers where the model's draft passed the guard and was shown (the rest were quoted "
        "from the best passage). Latency is per question, retrieval included, the model already loaded; `load s` "
        "is loading the generator once per process.",
        *(["", f"Loading SmolLM2 with transformers (`gguf_file`): {loads[0]:.1f} s the first time (de-quantize the "
           f"Q4_1 GGUF to float32, rebuild its tokenizer, save both under `var/models/`), {loads[1]:.1f} s after "
           "that (the saved folder). llama-cpp-python, which would keep the weights quantized, has no binary "
           "wheel on PyPI for this platform and was not built from source here, so it is not measured."]
          if loads else []),
        *([""] + ["Unsupported answers:"] + [f"- {r.name}: {line}" for r in results for line in r.unsupported]
          if any(r.unsupported for r in results) else []),
    ])
    key, title = "answers", "Grounded answers to free-form questions"
    if args.questions.resolve() != QUESTIONS.resolve():  # another question set gets its own section
        key, title = f"answers-{args.questions.stem}", title + f" ({args.questions.stem} questions)"
    if args.every > 1:
        key, title = "answers-smoke", title + f" (every {args.every}th question: a smoke run, not a result)"
    report.write_section(args.out, key, report.section(key, title, body))
    print(f"\nWritten to {args.out} (section {key})")
    return 0
