"""The monthly run and the backtest: lock, staging, the month's outputs, manifest and atomic publication."""
