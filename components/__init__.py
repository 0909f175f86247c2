"""Rasa graph components that adapt the project's Rasa-free ML core to Rasa's pipeline.

Rasa imports this package in every process that loads a model trained from config.yml (for our NLU component),
so this is also where the server gets `action_replies`: each action server reply checked by a validator built once.
"""
from components import action_replies

action_replies.install()
