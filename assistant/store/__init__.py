"""The store's transactional data (carts now; orders, returns and tickets later), kept apart from the catalog."""
