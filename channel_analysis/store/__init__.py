"""The prepared folder a run writes once and every report reads, and the partial reads of its large tables."""
