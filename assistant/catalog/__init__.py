"""The product catalog: the store's vocabulary, the seeded demo generator, the SQLite builder and the importer.

Modules are imported directly (`assistant.catalog.build`, ...) so that reading the vocabulary never pulls in
the database code.
"""
