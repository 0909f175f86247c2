"""Recommendations: who likes what next (sequential model), what goes together (co-occurrence), what is popular.

Items are dense integer ids 1..n (0 pads a sequence); `ItemSpace` maps them to catalog product ids. Nothing here
knows about Rasa or the conversation: `service.Recommender` is what the dialogue core calls.
"""
