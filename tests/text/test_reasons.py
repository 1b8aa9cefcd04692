"""The early warning's sentences rendered from codes and figures (channel_analysis.text.reasons):
the English one as alerts.csv carries it, the Chinese one with the same figures; nothing parsed."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from channel_analysis.early_warning.detect import ALERT_COLUMNS
from channel_analysis.text.reasons import CODES, alert_reason, alert_reasons, why_changed, why_changed_code

# (code, figures, region, English as alerts.csv writes it, Chinese)
SENTENCES = [
    ("purchase_stop",
     {"last_order_month": "2025-02", "months_silent": 20, "ordering_share": 1.0, "rhythm_months": 12,
      "p_silence": 1e-6, "market": 0.07}, "黑龙江",
     "no order since 2025-02 (20 months); it ordered in 100% of the 12 months before, so a gap this long had "
     "under a 0.01% chance; dealers in 黑龙江 +7% over the last 3 months",
     "自2025-02起未再进货（已20个月）；此前12个月中有100%的月份进货，出现这么长空档的概率不足0.01%；黑龙江经销商近3个月进货+7%"),
    ("purchase_stop",
     {"last_order_month": "2025-08", "months_silent": 4, "ordering_share": 0.5, "rhythm_months": 12,
      "p_silence": 0.0013, "market": -0.0004}, "湖南",
     "no order since 2025-08 (4 months); it ordered in 50% of the 12 months before, so a gap this long had "
     "a 0.13% chance; dealers in 湖南 ±0% over the last 3 months",
     "自2025-08起未再进货（已4个月）；此前12个月中有50%的月份进货，出现这么长空档的概率仅为0.13%；湖南经销商近3个月进货±0%"),
    ("purchase_drop",
     {"orders": 24, "amount": 1.4e6, "window": 6, "expected_orders": 68, "expected_amount": 3.7e6, "market": -0.05},
     "四川",
     "24 orders for ¥1.4M in the last 6 months against 68 for ¥3.7M expected from its own history; dealers in 四川 "
     "-5% over the same months",
     "近6个月进货24笔、¥140万，按其自身历史预计68笔、¥370万；同期四川经销商进货-5%"),
    ("purchase_drop",
     {"orders": 3, "amount": 350_000, "window": 1, "expected_orders": 9, "expected_amount": 900_000, "market": 0.01},
     "山东",
     "3 orders for ¥350k in the last month against 9 for ¥900k expected from its own history; dealers in 山东 +1% "
     "over the same months",
     "近1个月进货3笔、¥35万，按其自身历史预计9笔、¥90万；同期山东经销商进货+1%"),
    ("calls_spike", {"calls": 12, "window": 2, "usual": 3.2}, "山东",
     "12 calls from the dealer in the last 2 months against about 3.2 usual: find out what it needs",
     "近2个月该经销商来电12次，平时约3.2次：请了解其需求"),
    ("calls_drop", {"calls": 1, "usual": 9}, "山东",
     "1 call from the dealer in the last 3 months against about 9 usual: it has gone quiet",
     "近3个月该经销商来电1次，平时约9次：已明显沉寂"),
    ("below_peers", {"change": -0.97, "z": -8.2}, "山东",
     "orders in the last 6 months -97% against its own baseline, far below dealers of the same region and tier "
     "(z = -8.2)",
     "近6个月订单较自身基线-97%，远低于同区域、同等级的经销商（z = -8.2）"),
    ("no_reorder", {"months": 22}, "山东",
     "only the first order, 22 months ago, and no reorder since: visit and find out why",
     "仅有22个月前的首单，此后未再复购：请上门了解原因"),
]  # fmt: skip


@pytest.mark.parametrize(("code", "figures", "region", "en", "zh"), SENTENCES)
def test_every_reason_is_said_from_its_figures_in_both_languages(code, figures, region, en, zh):
    assert alert_reason(code, figures, "en", region=region) == en
    assert alert_reason(code, figures, "zh", region=region) == zh
    assert alert_reason(code, json.dumps(figures), "zh", region=region) == zh  # as the alerts frame holds them


def test_a_frame_of_alerts_gets_one_sentence_per_row_in_its_order():
    frame = pd.DataFrame([{"alert": code, "figures": json.dumps(figures), "region": region}
                          for code, figures, region, _, _ in SENTENCES])  # fmt: skip
    assert alert_reasons(frame, "en").tolist() == [en for *_, en, _ in SENTENCES]
    assert alert_reasons(frame.iloc[::-1], "zh").tolist() == [zh for *_, zh in SENTENCES][::-1]


def test_every_alert_the_detectors_raise_has_its_sentence():
    assert set(CODES) == {"purchase_drop", "purchase_stop", "calls_spike", "calls_drop", "below_peers", "no_reorder"}
    assert "figures" in ALERT_COLUMNS and "reason" not in ALERT_COLUMNS  # the detectors say no words


def test_what_moved_a_score_is_named_in_each_language_and_in_the_csv_code_form():
    moved = json.dumps([["recency", -12], ["level", 3]])
    assert why_changed(moved, "en") == "Recency -12, Level +3"
    assert why_changed(moved, "zh") == "最近进货 -12、进货水平 +3"
    assert why_changed_code(moved) == "recency -12, level +3"  # dealer_health.csv's why_changed
    assert why_changed(json.dumps("new"), "zh") == "本月新增" and why_changed_code(json.dumps("new")) == "new this month"
    assert why_changed(json.dumps("left"), "en") == "Left the network"
    assert why_changed("", "zh") == "" and why_changed_code("") == ""


def test_the_demo_worlds_alerts_all_read_in_both_languages(demo_figures):
    alerts = pd.concat([demo_figures.alerts, demo_figures.previous.alerts])
    assert len(alerts) > 0 and set(alerts["alert"]) <= set(CODES)
    for lang in ("en", "zh"):
        texts = alert_reasons(alerts, lang)
        assert texts.str.len().gt(20).all() and not texts.str.contains("{", regex=False).any()
