"""Finding and reading the contract's tables before validation: files, Parquet parts, Excel, databases, a PostgreSQL snapshot."""
