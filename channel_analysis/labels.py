"""Words shown to readers, in English and Simplified Chinese: ``label("revenue", "zh")`` → "销售额".

Keys are the project's own names (column names, metric names, status, alert and
severity codes), so a report can label a column or a value by passing it through
:func:`label`. An unknown key comes back unchanged, which keeps a new column
readable until it is given a label here.
"""

from __future__ import annotations

LANGS = ("en", "zh")

# key: (English, Simplified Chinese)
_LABELS: dict[str, tuple[str, str]] = {
    # time and scope
    "month": ("Month", "月份"),
    "quarter": ("Quarter", "季度"),
    "year": ("Year", "年份"),
    "network": ("Network", "全网"),
    "region": ("Region", "区域"),
    "tier": ("Tier", "等级"),
    "scope": ("Scope", "范围"),
    # people and dealers
    "dealer": ("Dealer", "经销商"),
    "dealers": ("Dealers", "经销商数"),
    "dealer_id": ("Dealer ID", "经销商编号"),
    "dealer_name": ("Dealer", "经销商"),
    "sales_manager": ("Sales manager", "业务经理"),
    "sales_managers": ("Sales managers", "业务经理"),
    "sales_manager_id": ("Sales manager", "业务经理"),
    "signed_date": ("Signed", "签约日期"),
    "terminated_date": ("Left", "终止日期"),
    "prospects": ("Prospects", "意向客户"),
    # money and orders
    "revenue": ("Revenue", "销售额"),
    "revenue_t12": ("Revenue, last 12 months", "近12个月销售额"),
    "amount": ("Amount", "金额"),
    "orders": ("Orders", "订单数"),
    "quantity": ("Quantity", "数量"),
    "expenses": ("Expenses", "费用"),
    "cost": ("Cost", "成本"),
    "spend": ("Spend", "支出"),
    "acquisition": ("Acquisition", "渠道开发"),
    "retention": ("Retention", "渠道维护"),
    "cac": ("CAC", "单个经销商开发成本"),
    "cac_t12": ("Cost to acquire a dealer, last 12 months", "近12个月单个经销商开发成本"),
    "acquisition_spend_t12": ("Acquisition spend, last 12 months", "近12个月渠道开发费用"),
    "retention_spend_t12": ("Retention spend, last 12 months", "近12个月渠道维护费用"),
    "retention_cost_per_dealer_t12": ("Retention cost per dealer, last 12 months", "近12个月单个经销商维护成本"),
    "payback_month": ("Payback month", "回本月份"),
    # sales-manager rules
    "callback_coverage": ("Callback coverage", "电话回访覆盖率"),
    "visit_coverage": ("Visit coverage", "上门拜访覆盖率"),
    "visit_coverage_2m": ("Visit coverage (2 months)", "上门拜访覆盖率（两个月）"),
    "first_order_only_share": ("First-order-only share", "仅首单经销商占比"),
    # health and status
    "health_score": ("Health score", "健康度得分"),
    "status": ("Status", "状态"),
    "new": ("New", "新签"),
    "active": ("Active", "活跃"),
    "at_risk": ("At risk", "有风险"),
    "dormant": ("Dormant", "休眠"),
    "lost": ("Lost", "流失"),
    # alerts
    "alert": ("Alert", "预警"),
    "alerts": ("Alerts", "预警"),
    "purchase_drop": ("Purchases dropped", "进货大幅下降"),
    "purchase_stop": ("Purchases stopped", "停止进货"),
    "calls_spike": ("Calls spiked", "来电激增"),
    "calls_drop": ("Calls dropped", "来电骤减"),
    "below_peers": ("Below peers", "低于同类经销商"),
    "no_reorder": ("No reorder", "首单后未复购"),
    "severity": ("Severity", "严重程度"),
    "high": ("High", "高"),
    "medium": ("Medium", "中"),
    "low": ("Low", "低"),
    "score": ("Score", "分值"),
    "reason": ("Reason", "原因"),
    # KPI table
    "metric": ("Metric", "指标"),
    "value": ("Value", "数值"),
    "target": ("Target", "目标"),
    "meets_target": ("Meets target", "是否达标"),
    "actual": ("Actual", "实际"),
    "expected": ("Expected", "预期"),
    "expected_range": ("Expected range", "预期范围"),
    "share": ("Share", "占比"),
    "dealers_in_network": ("Dealers in the network", "在网经销商数"),
    "dealers_signed_t12": ("Dealers signed, last 12 months", "近12个月新签经销商"),
    "dealers_lost_t12": ("Dealers lost, last 12 months", "近12个月流失经销商"),
    "prospect_conversion_t12": ("Prospect conversion, last 12 months", "近12个月意向客户转化率"),
    "sla_compliance": ("Within time limit", "按时办结率"),
    "via_sales_manager_share": ("Requests via sales manager", "经业务经理转达占比"),
    "complaints": ("Complaints", "投诉"),
    "event_cost_per_attendee_t12": ("Event cost per attendee, last 12 months", "近12个月活动人均成本"),
    # service flow and interactions
    "service_requests": ("Service requests", "业务请求"),
    "process": ("Process", "流程"),
    "order": ("Order", "订单"),
    "payment": ("Payment", "付款"),
    "logistics": ("Logistics", "物流"),
    "support": ("Support", "技术支持"),
    "complaint": ("Complaint", "投诉"),
    "interactions": ("Interactions", "联络记录"),
    "phone": ("Phone", "电话"),
    "visit": ("Visit", "拜访"),
    "message": ("Message", "消息"),
    "inbound_calls": ("Inbound calls", "来电次数"),
    # events
    "events": ("Events", "经销商活动"),
    "attendees": ("Attendees", "参会人数"),
    # data quality
    "data_quality": ("Data quality", "数据质量"),
    "table": ("Table", "数据表"),
    "rows_read": ("Rows read", "读取行数"),
    "rows_accepted": ("Rows accepted", "接受行数"),
    "rows_quarantined": ("Rows quarantined", "隔离行数"),
    "rows_after_month": ("Rows after the month", "报告月之后的行数"),
    # report furniture
    "contents": ("Contents", "目录"),
    "chart": ("Chart", "图表"),
    "what_changed": ("What changed since last month", "与上月相比的变化"),
    "search": ("Search", "搜索"),
    "table_length_menu": ("_MENU_ rows per page", "每页 _MENU_ 行"),
    "table_info": ("Rows _START_ to _END_ of _TOTAL_", "第 _START_–_END_ 行，共 _TOTAL_ 行"),
    "table_info_empty": ("No rows", "无数据"),
    "table_info_filtered": ("(filtered from _MAX_)", "（从 _MAX_ 行中筛选）"),
    "table_zero_records": ("No matching rows", "没有匹配的行"),
    "no_data": ("No data for this section.", "本节无数据。"),
    "yes": ("yes", "是"),
    "no": ("no", "否"),
}


def check_lang(lang: str) -> str:
    """Return ``lang`` if it is a supported report language, else raise ``ValueError``."""
    if lang not in LANGS:
        raise ValueError(f"language '{lang}' is not supported: use one of {', '.join(LANGS)}")
    return lang


def label(key: str, lang: str = "en") -> str:
    """The reader-facing word for ``key`` in ``lang`` ("en" or "zh"); an unknown key is returned as is."""
    index = LANGS.index(check_lang(lang))
    pair = _LABELS.get(key)
    return key if pair is None else pair[index]
