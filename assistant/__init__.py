"""Harbor Lane conversational shopping assistant."""
