"""Product search: budgets and catalog words from free text, a structured query, and SQL/FTS5 search."""
from assistant.search.engine import Relaxation, SearchResult, search, suggest_relaxation
from assistant.search.prices import PriceRange, parse_price
from assistant.search.query import SearchQuery, build_query, refine
from assistant.search.vocab import Mention, Mentions, Vocabulary

__all__ = ["Mention", "Mentions", "PriceRange", "Relaxation", "SearchQuery", "SearchResult", "Vocabulary",
           "build_query", "parse_price", "refine", "search", "suggest_relaxation"]
