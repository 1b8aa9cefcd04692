"""Defaults and thresholds from the domain, in one place; every one is overridable per run."""

from __future__ import annotations

from dataclasses import dataclass, field

# Rules the article sets for a sales manager (DOMAIN.md §2.2).
CALLBACK_TARGET = 1.0  # share of established dealers called at least once a month
VISIT_TARGET = 1.0  # share of dealers visited at least once in two months
FIRST_ORDER_ONLY_MAX = 0.04  # at most 4% of dealers with a first order and no reorder
FIRST_ORDER_ONLY_AGE_DAYS = 180  # a first order must be this old before "no reorder" counts
SLA_TARGET = 0.95

# Time limit of each step of the order-to-complaint process, in hours.
SLA_HOURS: dict[str, float] = {
    "order": 24,
    "payment": 48,
    "logistics": 72,
    "support": 48,
    "complaint": 72,
}

# Orders may come a little before the agreement is signed (a first batch placed
# while the paperwork is finishing); earlier than this is an impossible date.
ORDER_BEFORE_SIGNING_DAYS = 30


@dataclass(frozen=True)
class Settings:
    """Run-time overridable thresholds; ``Settings()`` gives the domain defaults."""

    callback_target: float = CALLBACK_TARGET
    visit_target: float = VISIT_TARGET
    first_order_only_max: float = FIRST_ORDER_ONLY_MAX
    first_order_only_age_days: int = FIRST_ORDER_ONLY_AGE_DAYS
    sla_target: float = SLA_TARGET
    sla_hours: dict[str, float] = field(default_factory=lambda: dict(SLA_HOURS))
