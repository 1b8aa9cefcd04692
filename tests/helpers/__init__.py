"""What the tests share: hand-made tables, the throw-away PostgreSQL server, stand-in notebooks, helpers."""
