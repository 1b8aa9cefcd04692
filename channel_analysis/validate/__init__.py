"""Judging a source against the contract: value rules, the rules between rows, quarantine, data quality."""
