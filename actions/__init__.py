"""Rasa SDK actions: thin adapters from Rasa trackers to assistant.dialogue.shop."""
