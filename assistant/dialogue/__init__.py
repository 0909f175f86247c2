"""Conversation-level logic that sits between Rasa's actions and the core: references, answers, replies."""
