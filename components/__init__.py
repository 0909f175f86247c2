"""Rasa graph components that adapt the project's Rasa-free ML core to Rasa's pipeline."""
