"""Reports for the store owner: how the assistant is doing, computed from its own records."""
