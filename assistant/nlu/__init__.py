"""Natural-language understanding: our joint intent + entity model and the data it learns from."""
