"""Words shown to readers, in English and Simplified Chinese: ``label("revenue", "zh")`` → "销售额".

Keys are the project's own names (column names, metric names, status, alert and
severity codes), so a report can label a column or a value by passing it through
:func:`label`. An unknown key comes back unchanged, which keeps a new column
readable until it is given a label here.
"""

from __future__ import annotations

from collections.abc import Sequence

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
    # prospect stages and event kinds
    "contacted": ("Contacted", "已接触"),
    "visited": ("Visited", "已拜访"),
    "negotiating": ("Negotiating", "洽谈中"),
    "signed": ("Signed", "已签约"),
    "conference": ("Dealer conference", "经销商大会"),
    "annual_meeting": ("Annual meeting", "年会"),
    "forum": ("Forum", "恳谈会"),
    "social": ("Social gathering", "联谊会"),
    "training": ("Training", "培训会"),
    # management deck
    "deck_title": ("Dealer network review", "经销商网络管理月报"),
    "deck_subtitle": ("Monthly management review", "管理层月度回顾"),
    "deck_as_of": ("Figures as of", "数据截至"),
    "deck_source_rows": ("Rows used per table", "各数据表使用行数"),
    "deck_glance": ("The network at a glance", "经销商网络概况"),
    "deck_vs_year_ago": ("a year ago: {v} ({c})", "去年同期：{v}（{c}）"),
    "deck_revenue_chart": ("Revenue per month: last 12 months vs a year earlier (¥)", "月度销售额：近12个月与去年同期（¥）"),
    "deck_this_year": ("Last 12 months", "近12个月"),
    "deck_year_earlier": ("A year earlier", "去年同期"),
    "deck_status_chart": ("Dealers by status", "经销商状态分布"),
    "deck_kpi_moves": ("Key figures against last month", "关键指标环比"),
    "deck_change": ("Change", "变化"),
    "deck_new_at_risk": ("Newly at risk", "新增风险经销商"),
    "deck_more": ("more", "家其他"),
    "deck_status_moves": ("Status moves", "状态变化"),
    "deck_not_listed": ("Not listed", "上月未列入"),
    "deck_no_moves": ("No dealer changed status", "无经销商状态变化"),
    "deck_new_alerts": ("New alerts this month", "本月新增预警"),
    "deck_at_risk": ("Most urgent dealers at risk", "最紧急的风险经销商"),
    "deck_owner": ("Owner", "负责人"),
    "deck_at_risk_note": (
        "The {n} most urgent of {total} alerts this month (high before medium before low, then by score); "
        "the full list is in alerts.xlsx.",
        "本月共{total}条预警，此处列出最紧急的{n}条（按严重程度、再按分值排序）；完整清单见 alerts.xlsx。",
    ),
    "deck_no_alerts": ("No alerts this month.", "本月无预警。"),
    "deck_costs": ("Acquisition vs retention: what a dealer costs", "渠道开发与渠道维护：每家经销商的成本"),
    "deck_signed": ("signed", "家新签"),
    "deck_per_year": ("spent in 12 months", "（近12个月支出）"),
    "deck_ratio": ("One new dealer costs as much as retaining this many for a year", "开发一家新经销商的成本相当于维护几家经销商一年"),
    "deck_month_n": ("Month {n}", "第{n}个月"),
    "deck_cohort": ("median of the {n} signing years paid back", "已回本的{n}个签约年份的中位数"),
    "deck_cost_chart": ("Cost per dealer, last 12 months (¥)", "单个经销商成本，近12个月（¥）"),
    "deck_acquire_one": ("Acquire one dealer", "开发一家经销商"),
    "deck_retain_one": ("Retain one dealer for a year", "维护一家经销商一年"),
    "deck_payback_table": ("When a new dealer pays back its acquisition cost", "新经销商何时收回开发成本"),
    "deck_cohort_col": ("Signed in", "签约年份"),
    "deck_paid_back": ("Paid back", "已回本占比"),
    "deck_payback_note": (
        "Payback month: months after signing until the cohort's mean cumulative gross margin ({gm} of "
        "revenue, an assumption) reaches today's cost to acquire a dealer; empty: not yet.",
        "回本月份：签约后，该批经销商平均累计毛利（按销售额的{gm}估算）达到当前单个经销商开发成本所需的月数；空白表示尚未回本。",
    ),
    "deck_funnel": ("Prospect funnel: many visits for each signing", "意向客户漏斗：跑一百个客户，不一定发展一个"),
    "deck_funnel_chart": ("Prospects closed in the last 12 months, by the furthest stage reached", "近12个月结案的意向客户（按达到的最远阶段）"),
    "deck_stage": ("Stage", "阶段"),
    "deck_closed": ("Closed", "已结案"),
    "deck_step": ("Step rate", "环节转化率"),
    "deck_overall": ("Overall", "总转化率"),
    "deck_open": ("Still open", "仍在跟进"),
    "deck_days": ("{n} days", "{n}天"),
    "deck_days_to_sign": ("Median time from first contact to signing", "从首次接触到签约的中位天数"),
    "deck_effort_signed": ("Touches / hours per dealer signed", "每签约一家经销商的接触次数/小时"),
    "deck_effort_retained": ("Touches / hours per retained dealer a year", "每家存量经销商每年的接触次数/小时"),
    "deck_scorecard": ("Sales managers against the three rules", "业务经理维护三项规定考核"),
    "deck_scorecard_chart": ("Dealers called this month and visited in two months, per manager", "各业务经理本月电话回访、两个月内上门拜访覆盖率"),
    "deck_rule_call": ("Call", "电话回访"),
    "deck_rule_visit": ("Visit", "上门拜访"),
    "deck_rule_first": ("First order only", "仅首单"),
    "deck_rules_met": ("Rules met", "达标项"),
    "deck_rules_note": (
        "Rules: a follow-up call to every dealer each month (target {call}), a visit at least every two "
        "months ({visit}), at most {first} of dealers with only their first order. Green: met; red: not met.",
        "规定：每月电话回访每家经销商（目标{call}），至少每两个月上门拜访一次（目标{visit}），仅首单未复购的经销商不超过{first}。绿色达标，红色未达标。",
    ),
    "deck_weakest": ("Showing the {n} lowest-ranked of {total} managers.", "此处显示{total}位业务经理中排名最后的{n}位。"),
    "deck_service": ("Service flow: requests within their time limit", "业务衔接流程：按时办结情况"),
    "deck_backlog": ("Backlog", "积压"),
    "deck_sla_chart": ("On time by process (dashed line: target {t})", "各流程按时办结率（虚线：目标{t}）"),
    "deck_limit": ("Limit", "时限"),
    "deck_due": ("Due", "到期"),
    "deck_within": ("On time", "按时"),
    "deck_median": ("Median", "中位用时"),
    "deck_sla_note": (
        "Requests whose time limit ended this month; backlog: still open at month end; median: hours to close.",
        "统计时限在本月到期的请求；积压为月末仍未办结的请求；中位用时为办结所需小时数。",
    ),
    "deck_events": ("Dealer events: what they cost and what they bring", "经销商活动：成本与效果"),
    "deck_events_chart": ("Cost per attendee by kind of event, last 12 months (¥)", "近12个月各类活动人均成本（¥）"),
    "deck_cost_per_attendee": ("Cost per attendee", "人均成本"),
    "deck_events_held": ("Events held, last 12 months", "近12个月举办活动"),
    "deck_attendance": ("Attendances, last 12 months", "近12个月参会人次"),
    "deck_effect_title": ("Estimated effect of attending", "参会效果估计"),
    "deck_effect_basis": (
        "{t} attending dealers against {c} similar dealers who stayed away, around {e} events "
        "(change from the months before to the months after).",
        "比较{e}场活动前后，{t}家参会经销商与{c}家条件相近但未参会的经销商的变化。",
    ),
    "deck_effect_monthly_revenue": ("Monthly revenue per dealer", "每家经销商月销售额"),
    "deck_effect_active": ("Dealers still ordering", "仍在进货的经销商占比"),
    "deck_missing": ("No data for this section: the source has no {table} table.", "本节无数据：数据源中没有{table}表。"),
    "deck_pts": (" pp", "个百分点"),
    "deck_effect_line": ("{what}: {est} (95% CI {lo} to {hi}) — {verdict}", "{what}：{est}（95%置信区间 {lo} 至 {hi}）——{verdict}"),
    "deck_cpa_card": ("Cost per attendee, 12 months", "近12个月人均成本"),
    "deck_effect_none": ("too few dealers to estimate", "样本太少，无法估计"),
    "deck_effect_unclear": ("cannot be told apart from no effect", "与零无显著差异"),
    "deck_effect_clear": ("clearly different from no effect", "显著不为零"),
    "deck_caveat_title": ("Caveat", "注意"),
    "deck_caveat": (
        "Dealers choose to attend, and the healthier ones come more often. The estimate adjusts for "
        "differences before each event but is an association, not proof that the events caused it.",
        "是否参会由经销商自行决定，经营状况较好的经销商更常参会。该估计已调整活动前的差异，但只反映相关性，不能证明活动带来了这些变化。",
    ),
    "deck_actions": ("Actions for next month: who does what", "下月行动：谁做什么"),
    "deck_do_urgent": ("Visit now: find the cause (alert)", "立即拜访、查明原因（预警）"),
    "deck_do_call": ("Call: no follow-up call this month", "电话回访：本月未回访"),
    "deck_do_visit": ("Visit: none in two months", "上门拜访：两个月未拜访"),
    "deck_do_reorder": ("Win a reorder: first order only", "争取复购：仅有首单"),
    "deck_no_owner": ("No sales manager", "无业务经理"),
    "deck_nothing_to_do": ("No alerts and no broken rules: nothing urgent.", "无预警、无违规：暂无紧急事项。"),
    "deck_more_owners": ("{n} more sales managers have tasks: see the notes.", "另有{n}位业务经理有待办事项，见备注。"),
    "deck_do_service": (
        "Service process owners: {steps} within the time limit, under the {target} target; clear the backlog of {backlog}.",
        "流程负责人：{steps}按时办结，低于{target}目标；清理{backlog}件积压。",
    ),
    "deck_actions_note": (
        "Each sales manager reports back on these dealers at next month's review; the full lists are in the speaker notes and alerts.xlsx.",
        "各业务经理在下月例会上汇报上述经销商的处理结果；完整名单见备注及 alerts.xlsx。",
    ),
    # ---- report notebooks (channel_analysis.sections): titles, headings h.*, explanations t.*, notes n.*
    "dealer_health": ("Dealer health", "经销商健康度"),
    "acquisition_vs_retention": ("Acquisition vs retention", "渠道开发与渠道维护"),
    "service_flow": ("Service flow", "业务衔接流程"),
    "no_table": ("No {table} data in the source: this section is left out.", "数据源中没有{table}数据，本节略过。"),
    # the contract's tables as a note names them (label("dealers") is a count: 经销商数)
    "table.dealers": ("Dealers", "经销商"),
    "table.orders": ("Orders", "订单"),
    "table.sales_managers": ("Sales managers", "业务经理"),
    "table.interactions": ("Interactions", "联络记录"),
    "table.service_requests": ("Service requests", "业务请求"),
    "table.expenses": ("Expenses", "费用"),
    "table.prospects": ("Prospects", "意向客户"),
    "table.events": ("Events", "经销商活动"),
    "table.event_attendance": ("Event attendance", "活动出席记录"),
    "or": (" or ", "或"),
    "why.too_few_dealers": (
        "only {n} dealers can be observed (established, with {horizon} months of orders after a window); at "
        "least {needed} are needed.",
        "仅有{n}家经销商可供观察（已签约且窗口后有{horizon}个月的订单），至少需要{needed}家。",
    ),
    "why.no_activity_varies": (
        "no retention activity (outbound calls, visits, retention spend booked to dealers) differs between "
        "dealers.",
        "各经销商的维护活动（回访电话、上门拜访、计入经销商的维护费用）没有差异。",
    ),
    "no_column": ("The source has no {column} column.", "数据源中没有{column}列。"),
    "cannot_compute": ("Cannot be computed on these data: {reason}", "无法基于现有数据计算：{reason}"),
    "no_alerts": ("No alerts this month.", "本月没有预警。"),
    "no_previous_month": ("No data for last month to compare with.", "没有上月数据可供比较。"),
    "pts": (" pts", "个百分点"),
    "pts_value": ("{v} pts", "{v}个百分点"),
    "this_month": ("This month", "本月"),
    "last_month": ("Last month", "上月"),
    "change_vs_last_month": ("vs last month", "较上月"),
    "same_month_last_year": ("Same month last year", "去年同期"),
    "change_vs_last_year": ("vs last year", "较去年同期"),
    # what changed since last month (report_data.MonthData.changes_summary)
    "n.never_closed": ("No request of these months has a closing time (closed_at): every request counts as still "
                       "open, so none is within its time limit and the backlog only grows. Add closed_at to "
                       "service_requests to measure them.",
                       "这些月份的请求都没有办结时间（closed_at）：所有请求都按未办结计算，因此无一按时办结，积压只增不减。"
                       "请在 service_requests 中加入 closed_at 以计量这些指标。"),
    "n.no_expense_region": ("Expenses carry no region, so their spend counts for the network only: no cost to "
                            "acquire a dealer per region.",
                            "费用没有区域信息，只计入全网：无法按区域计算单个经销商的开发成本。"),
    "all_dealers": ("All dealers", "全部经销商"),
    "n.survival_pooled": ("Fewer than {n} dealers signed in any one year: one curve for all dealers.",
                          "每年签约的经销商均少于{n}家：全部经销商合为一条曲线。"),
    "n.survival_too_few": ("Fewer than {n} dealers in the network: too few for a curve.",
                           "网络中的经销商少于{n}家，无法绘制曲线。"),
    "n.churn_short_history": ("Orders in the source begin in {first}: for a dealer that left before {until}, the "
                              "revenue covers less than its last year.",
                              "数据源中的订单始于{first}：{until}之前退出的经销商，其销售额不足一整年。"),
    "sum.no_orders_in_month": ("No order in the source is dated in {month} (the last is dated {last}). If the "
                               "month's orders are not loaded yet, every figure of the month reads as a fall: load "
                               "them and run the month again.",
                               "数据源中没有{month}的订单（最后一笔订单日期为{last}）。如果本月订单尚未导入，本月各项指标都会"
                               "显示为下降：请导入后重新运行本月。"),
    "sum.short_history": ("Orders in the source begin in {first}: figures over the last 12 months cover only {n} "
                          "months.",
                          "数据源中的订单始于{first}：近12个月的指标仅涵盖{n}个月。"),
    "sum.not_judged": ("The early warning judges a dealer against its own history after {need} months of orders, so "
                       "none can be judged that way yet: most alerts cannot be raised, and a health score of 100 only "
                       "means that nothing is known against a dealer.",
                       "预警需要经销商{need}个月的订单才能以其自身历史作判断，目前尚无经销商可如此判断：多数预警无法发出，"
                       "健康分100仅表示尚无不利信息。"),
    "sum.nothing": ("Nothing to compare yet.", "暂无可比较的数据。"),
    "sum.at_risk": ("Dealers at risk: {now} ({prev} last month), {new} of them newly at risk",
                    "{now}家经销商有风险（上月{prev}家），其中{new}家为本月新增"),
    "sum.at_risk_first": ("Dealers at risk: {now}", "{now}家经销商有风险"),
    "sum.alerts": ("Alerts on the action list: {n}, {high} of them high severity ({prev} last month)",
                   "行动清单共{n}条预警，其中{high}条为高严重度（上月{prev}条）"),
    "sum.revenue": ("Network revenue {value}: {vs_prev} vs {prev_month}, {vs_year} vs the same month last year",
                    "全网销售额{value}：较{prev_month}{vs_prev}，较去年同期{vs_year}"),
    "sum.network": ("Dealers in the network: {n} ({delta} since last month); {lost} left in the last 12 months",
                    "在网经销商{n}家（较上月{delta}）；近12个月流失{lost}家"),
    "sum.health_median": ("Median health score {now} ({prev} last month)", "健康度得分中位数{now}（上月{prev}）"),
    "sum.cac": ("Cost to acquire a dealer (last 12 months): {value}, {vs_prev} vs last month",
                "单个经销商开发成本（近12个月）：{value}，较上月{vs_prev}"),
    "sum.retention_cost": ("Cost to keep a dealer for a year: {value}, {vs_prev} vs last month",
                           "单个经销商年维护成本：{value}，较上月{vs_prev}"),
    "sum.ratio": ("Acquiring one dealer costs as much as keeping {ratio} dealers for a year",
                  "开发一家经销商的成本，相当于维护{ratio}家经销商一年"),
    "sum.signed": ("Dealers signed in the last 12 months: {n} ({prev} a month earlier)",
                   "近12个月新签经销商{n}家（上月为{prev}家）"),
    "sum.conversion": ("; prospect conversion {value} ({pts} vs last month)", "；意向客户转化率{value}（较上月{pts}）"),
    "sum.rule": ("{metric}: {value} (target {target}), {pts} vs last month", "{metric}：{value}（目标{target}），较上月{pts}"),
    "sum.all_rules": ("Sales managers meeting all three rules: {k} of {n} ({prev} last month)",
                      "{n}位业务经理中有{k}位三项规则全部达标（上月{prev}位）"),
    "sum.breakers": ("Dealers breaking at least one rule: {n}", "{n}家经销商至少违反一项规则"),
    "sum.sla": ("Requests closed within their time limit: {value} (target {target}), {pts} vs last month",
                "按时办结率：{value}（目标{target}），较上月{pts}"),
    "sum.requests": ("Service requests opened: {n} ({vs_prev} vs last month); {backlog} still open at month end",
                     "本月新开业务请求{n}件（较上月{vs_prev}）；月末仍有{backlog}件未办结"),
    "sum.complaints": ("Complaints: {n} ({prev} last month)", "投诉：{n}件（上月{prev}件）"),
    "sum.via": ("{value} of requests came through the sales manager instead of the process, {pts} vs last month",
                "{value}的请求经业务经理转达而非走标准流程，较上月{pts}"),
    "sum.slowest": ("Slowest department: {dept}, {value} closed within the time limit", "办理最慢的部门：{dept}，按时办结率{value}"),
    "sum.event_cost": ("Event cost per attendee (last 12 months): {value}, {vs_prev} vs last month",
                       "活动人均成本（近12个月）：{value}，较上月{vs_prev}"),
    "sum.events_held": ("Events in the last 12 months: {events}, with {attendees} attendances; {month_events} held "
                        "this month",
                        "近12个月举办活动{events}场、参会{attendees}人次；本月举办{month_events}场"),
    "sum.priciest_kind": ("Most expensive per attendee: {kind}, {value}", "人均成本最高：{kind}，{value}"),
    # dealer health
    "h.at_a_glance": ("The network at a glance", "全网概览"),
    "t.at_a_glance": ("The month's figures against last month and the same month last year; shares change in "
                      "percentage points, everything else in percent.",
                      "本月各项指标与上月及去年同期对比；占比类指标的变化以百分点表示，其余以百分比表示。"),
    "chart.revenue_by_month": ("Revenue per month", "月度销售额"),
    # the landing page
    "index_title": ("Dealer network", "经销商网络月报"),
    "h.index_reports": ("Reports", "报告"),
    "h.index_glance": ("The network at a glance", "网络概况"),
    "h.index_urgent": ("The most urgent alerts", "最紧急的预警"),
    "t.index_urgent": ("The ten most urgent; every alert is in the dealer-health report and in alerts.xlsx.",
                       "最紧急的十条；全部预警见经销商健康度报告和 alerts.xlsx。"),
    "h.index_files": ("Files of the month", "本月文件"),
    "h.index_quality": ("Data quality", "数据质量"),
    "t.index_quality": ("Rows read, accepted and set aside (quarantined) per table; quarantined rows are listed "
                        "with their reason in quarantine/.",
                        "各表读取、接受与隔离的行数；被隔离的行及原因见 quarantine/ 文件夹。"),
    "about.dealer_health": ("status, health scores, the action list, survival and churn",
                            "状态、健康分、行动清单、存续与流失"),
    "about.acquisition_vs_retention": ("what a dealer costs to win and to keep, the funnel, cohorts",
                                       "开发与维护成本、意向客户漏斗、签约批次"),
    "about.sales_managers": ("the scorecard against the three rules", "业务经理三项规定考核"),
    "about.service_flow": ("orders to complaints: time limits, backlog, satisfaction",
                           "从订单到投诉：时限、积压、满意度"),
    "about.events": ("what events cost and what they bring", "活动的成本与效果"),
    "file.deck": ("the management review deck", "管理层月度汇报"),
    "file.alerts_xlsx": ("the action list for the sales managers (Excel)", "业务经理行动清单（Excel）"),
    "file.alerts_csv": ("the action list (CSV)", "行动清单（CSV）"),
    "file.dealer_health_csv": ("one row per dealer: status and health score", "每个经销商一行：状态与健康分"),
    "file.kpis_csv": ("the month's figures per network, region and sales manager", "本月指标：全网、区域、业务经理"),
    "file.data_quality_csv": ("rows read, accepted, quarantined per table", "各表读取、接受、隔离行数"),
    "file.manifest": ("parameters, input checksums, versions, times", "参数、输入校验和、版本、时间"),
    "file.quarantine": ("the rows set aside, with their reasons", "被隔离的行及原因"),
    "h.status": ("Dealers by status", "经销商状态分布"),
    "t.status": ("New: signed in the last 6 months. Active: ordering as usual. At risk: an urgent alert or a health "
                 "score below 60. Dormant: no order for 6 months. Lost: left the network this month.",
                 "新签：近6个月内签约；活跃：正常进货；有风险：有高或中严重度预警，或健康度得分低于60；"
                 "休眠：连续6个月未进货；流失：本月退出经销网络。"),
    "h.health_scores": ("Health scores", "健康度得分分布"),
    "t.health_scores": ("Each dealer's health from 0 (alarming) to 100 (as expected): how recent and how large its "
                        "orders are against its own history and its region, against its peers, its calls to us, "
                        "reorders and complaints. A score below 60 counts as at risk.",
                        "每家经销商的健康度从0（警示）到100（正常）：综合其进货的时间与数量（对比自身历史与所在区域）、"
                        "与同类经销商的比较、来电、复购和投诉。得分低于60即为有风险。"),
    "score_band": ("Health score", "健康度得分"),
    "below_range": ("Below the range", "低于正常范围"),
    "h.action_list": ("Action list", "行动清单"),
    "t.action_list": ("Every alert of the month, most urgent first, with the sales manager who should act and the "
                      "reason in figures. Search by dealer, region or manager; click a column to sort.",
                      "本月全部预警，按紧急程度排序，列出负责跟进的业务经理及具体原因。可按经销商、区域或业务经理搜索，"
                      "点击列标题排序。"),
    "h.health_falls": ("Largest falls in health since last month", "健康度下降最多的经销商"),
    "t.health_falls": ("Dealers still in the network whose health score fell by 5 points or more, and the "
                       "components that moved it most.",
                       "仍在网、健康度较上月下降5分及以上的经销商，以及变动最大的构成项。"),
    "no_health_falls": ("No dealer's health fell by 5 points or more.", "没有经销商的健康度下降5分及以上。"),
    "health_change": ("Change", "变化"),
    "why_changed": ("What moved it", "主要变动项"),
    "component_recency": ("Recency", "最近进货"),
    "component_volume": ("Volume", "进货量"),
    "component_level": ("Level", "进货水平"),
    "component_peers": ("Peers", "同类比较"),
    "component_calls": ("Calls", "来电"),
    "component_reorder": ("Reorder", "复购"),
    "component_service": ("Complaints", "投诉"),
    "new_this_month": ("New this month", "本月新增"),
    "left_the_network": ("Left the network", "已退出经销网络"),
    "h.control_charts": ("The most urgent dealers: orders against expectation", "重点经销商：实际进货与预期对比"),
    "t.control_charts": ("Orders in the 3 months to each month (black) against what the dealer's own reference year "
                         "and its region's trend lead one to expect (dashed), with the range its orders kept to in "
                         "that year (band). Red points fall below the band.",
                         "每月前3个月的订单数（黑线）与按其自身参考年度及所在区域走势得出的预期（虚线）对比；"
                         "阴影带为参考年度内其订单的正常波动范围，红点表示低于该范围。"),
    "n.control_charts": ("Grey background: the reference year. Orders are counted, not valued, so one large crane "
                         "order weighs as much as a parts order.",
                         "灰色背景为参考年度。按订单笔数统计而非金额，一笔大额整机订单与一笔配件订单同等计数。"),
    "orders_3m": ("Orders in 3 months", "近3个月订单数"),
    "h.survival": ("How long dealers stay", "经销商留存情况"),
    "t.survival": ("Share of each signing year's dealers still in the network, by months since signing "
                   "(Kaplan–Meier), with its 95% interval.",
                   "按签约年份统计、签约后各月仍在网的经销商占比（Kaplan–Meier估计），阴影为95%置信区间。"),
    "months_since_signed": ("Months since signing", "签约后月数"),
    "still_in_network": ("Still in the network", "仍在网比例"),
    "signing_year": ("Signed in", "签约年份"),
    "h.churn": ("Revenue lost to churn", "流失造成的销售额损失"),
    "t.churn": ("Dealers that left in the last 12 months and what they bought in their last 12 months: the yearly "
                "revenue the network lost, unless someone replaced it.",
                "近12个月退出的经销商及其退出前12个月的进货额：若无人替代，即为全网每年损失的销售额。"),
    "churn_total": ("{n} dealers left in the last 12 months; they had bought {value} in their last year, {share} of "
                    "the network's revenue over the last 12 months.",
                    "近12个月共有{n}家经销商退出，其退出前一年进货{value}，相当于全网近12个月销售额的{share}。"),
    "no_churn": ("No dealer left the network in the last 12 months.", "近12个月没有经销商退出。"),
    "revenue_t12_before_leaving": ("Revenue in its last 12 months", "退出前12个月进货额"),
    # acquisition vs retention
    "h.acquire_vs_keep": ("Acquiring a dealer against keeping one", "开发一家经销商与维护一家经销商的成本对比"),
    "t.acquire_vs_keep": ("Acquisition spend of the last 12 months per dealer signed, against retention spend per "
                          "dealer in the network over the same year.",
                          "近12个月渠道开发费用除以新签经销商数，对比同期渠道维护费用除以在网经销商数。"),
    "h.cac_by_quarter": ("Cost to acquire a dealer, by quarter", "各季度单个经销商开发成本"),
    "t.cac_by_quarter": ("Acquisition spend of the quarter per dealer signed in it, split by what the money went to. "
                         "Spending comes before the signings it wins, so a single quarter is noisy.",
                         "当季渠道开发费用除以当季新签经销商数，按费用类别拆分。费用往往先于签约发生，因此单个季度波动较大。"),
    "n.incomplete_quarter": ("* The quarter is not over yet.", "* 该季度尚未结束。"),
    "chart.cac_by_region": ("By region, last 12 months", "各区域（近12个月）"),
    "category": ("Category", "费用类别"),
    "cat.setup": ("Set-up", "软硬件配套"),
    "cat.recruiting_training": ("Recruiting and training", "招聘培训"),
    "cat.advertising": ("Advertising", "广告"),
    "cat.travel": ("Travel and lodging", "差旅食宿"),
    "cat.events": ("Events", "活动"),
    "cat.support": ("Support", "渠道支持"),
    "cat.incentives": ("Incentives", "激励返利"),
    "cat.other": ("Other", "其他"),
    "h.retention_cost": ("Retention cost per dealer and year", "单个经销商年维护成本"),
    "t.retention_cost": ("Retention spend of each 12-month window per dealer in the network, by category.",
                         "每12个月的渠道维护费用除以在网经销商数，按费用类别拆分。"),
    "year_ending": ("12 months to", "截至（12个月）"),
    "cost_per_dealer": ("Cost per dealer", "单个经销商成本"),
    "h.funnel": ("Prospect funnel", "意向客户转化漏斗"),
    "t.funnel": ("Prospects closed (signed or lost) in the last 12 months, by the furthest stage they reached, and "
                 "the share of each stage that got to the next.",
                 "近12个月已结案（签约或放弃）的意向客户按所达最远阶段统计，以及各阶段进入下一阶段的比例。"),
    "closed": ("Prospects closed", "已结案意向客户"),
    "of_stage_before": ("{share} of the stage before", "上一阶段的{share}"),
    "funnel_open": ("Still open: {contacted} prospects, of which {visited} were visited and {negotiating} reached "
                    "negotiation.",
                    "仍在跟进的意向客户{contacted}家，其中已拜访{visited}家、进入洽谈{negotiating}家。"),
    "h.time_to_signing": ("Time from first contact to signing", "从首次接触到签约的时间"),
    "signing_days": ("The {n} prospects signed in the last 12 months took {median} days from first contact to "
                     "signing (middle half: {q1} to {q3} days).",
                     "近12个月签约的{n}家意向客户，从首次接触到签约的中位时间为{median}天（中间一半为{q1}至{q3}天）。"),
    "days_q1": ("25th percentile", "25%分位"),
    "days_median": ("Median", "中位数"),
    "days_q3": ("75th percentile", "75%分位"),
    "days_to_signing": ("Days from first contact to signing", "从首次接触到签约天数"),
    "h.effort": ("Effort per signed dealer against per retained dealer", "签约一家与维护一家经销商的投入对比"),
    "t.effort": ("Calls, visits and hours spent on the prospects closed in the last 12 months, per dealer signed, "
                 "against the calls and visits an established dealer received over the year.",
                 "近12个月已结案意向客户所花费的电话、拜访次数和工时（按每签约一家计），"
                 "对比一年内维护一家成熟经销商的电话与拜访投入。"),
    "n.effort": ("Touches and hours that were not recorded count as 0, so both are lower bounds.",
                 "未记录的次数与工时按0计，因此两者均为下限。"),
    "effort": ("Effort", "投入"),
    "per_dealer_signed": ("Per dealer signed", "每签约一家"),
    "per_retained_dealer_year": ("Per retained dealer, per year", "每维护一家/年"),
    "touches": ("Calls and visits", "电话与拜访次数"),
    "hours": ("Hours", "工时"),
    "h.ramp_up": ("How new dealers ramp up", "新经销商的成长曲线"),
    "t.ramp_up": ("Monthly revenue per dealer by months since signing, for each signing year: the median (line) and "
                  "the middle half of dealers (band). Month 0 holds the first batch order.",
                  "按签约年份统计、签约后各月单个经销商的月销售额：线为中位数，阴影为中间一半经销商的范围。第0个月为首批订单。"),
    "n.ramp_up": ("Dealers that left count with 0, so a curve is what a signed dealer brought, churn included.",
                  "已退出的经销商按0计入，因此曲线反映的是签约经销商的实际贡献（含流失）。"),
    "revenue_per_dealer_month": ("Revenue per dealer and month", "单个经销商月销售额"),
    "first_batch": ("The first batch (month 0) is left out of the chart, it dwarfs the months after; median per "
                    "dealer by signing year — {batches}.",
                    "首批订单（第0个月）金额远高于之后各月，未画入图中；各签约年份单个经销商首批订单中位数：{batches}。"),
    "h.payback": ("When a new dealer pays back its acquisition cost", "新经销商何时收回开发成本"),
    "t.payback": ("For each quarter's new dealers: that quarter's cost to acquire a dealer, the month since signing "
                  "at which their average cumulative gross margin reached it, and the share of dealers that have paid "
                  "it back so far.",
                  "每季度新签经销商：当季单个经销商开发成本、其平均累计毛利达到该成本的签约后月份，以及截至目前已收回成本的经销商占比。"),
    "n.payback": ("Assumption: a gross margin of {margin} of revenue pays back the acquisition cost. An empty payback "
                  "month means not yet.",
                  "假设：以销售额的{margin}作为毛利收回开发成本。回本月份为空表示尚未收回。"),
    "cohort": ("Signed in", "签约期"),
    "months_observed": ("Months observed", "已观察月数"),
    "dealers_paid_back_share": ("Paid back so far", "已回本占比"),
    "h.retained_value": ("What a retained dealer is worth", "留住一家经销商的价值"),
    "t.retained_value": ("The discounted gross margin of keeping one established dealer over the horizon, and the "
                         "assumptions it rests on.",
                         "在给定期限内留住一家成熟经销商所带来的折现毛利，以及所依据的假设。"),
    "retained_vs_cac": ("Keeping an established dealer is worth about {value} of margin over {horizon} months; "
                        "acquiring a new one costs {cac} before it earns anything.",
                        "留住一家成熟经销商在{horizon}个月内约带来{value}毛利；而开发一家新经销商在产生任何收益前就要花费{cac}。"),
    "assumption": ("Figure", "项目"),
    "monthly_revenue_per_dealer": ("Revenue per established dealer and month (last 12 months)",
                                   "成熟经销商月均销售额（近12个月）"),
    "monthly_churn": ("Monthly churn", "月流失率"),
    "gross_margin": ("Gross margin", "毛利率"),
    "annual_discount_rate": ("Discount rate per year", "年折现率"),
    "horizon_months": ("Horizon (months)", "期限（月）"),
    "retained_value": ("Value of a retained dealer", "留住一家经销商的价值"),
    "chart.roi": ("Revenue of established dealers per ¥1 of retention spend", "每1元维护费用对应的成熟经销商销售额"),
    "n.roi": ("Revenue per unit of spend, not a return caused by the spend: established dealers would bring much of "
              "it with no retention spend at all.",
              "这是每单位费用对应的销售额，并非费用带来的回报：即使没有维护费用，成熟经销商也会带来其中大部分销售额。"),
    "retention_spend": ("Retention spend", "维护费用"),
    "established_revenue": ("Revenue of established dealers", "成熟经销商销售额"),
    "revenue_per_retention_spend": ("Revenue per ¥1 of retention spend", "每1元维护费用对应销售额"),
    "h.activity_model": ("Which retention activities go with higher later orders", "哪些维护活动与后续订单增长相关"),
    "t.activity_model": ("A regression of each dealer's orders in the 3 months after a 3-month window on the calls, "
                         "visits and retention spend it received in the window, controlling for its past orders, "
                         "age, region, tier and period. Dots: the change in later orders that goes with one more "
                         "unit; bars: 95% intervals.",
                         "以每家经销商在3个月窗口内获得的电话回访、上门拜访和维护费用，对其后3个月的订单做回归，"
                         "控制其过往订单、签约时长、区域、等级和时期。圆点为每增加一个单位所对应的后续订单变化，横线为95%置信区间。"),
    "n.activity_limits": ("Association, not causation: sales managers choose whom to call, visit and spend on — "
                          "often dealers already doing well, or already in trouble — so an estimate mixes any effect "
                          "of the activity with the reasons it was done. An interval that crosses 0 means the data "
                          "cannot tell. {n_dealers} dealers observed.",
                          "这是相关关系而非因果关系：业务经理会自行选择回访、拜访和投入的对象——往往是本就经营良好或已陷入困境的"
                          "经销商——因此估计值混合了活动本身的效果与开展活动的原因。置信区间跨过0表示数据无法判断方向。"
                          "共观察{n_dealers}家经销商。"),
    "activity": ("Activity", "活动"),
    "unit": ("Per", "单位"),
    "act.calls_out": ("Follow-up call", "电话回访"),
    "act.visits": ("On-site visit", "上门拜访"),
    "act.retention_spend": ("Retention spend", "维护费用"),
    "unit.calls_out": ("per call in the 3 months", "3个月内每次回访"),
    "unit.visits": ("per visit in the 3 months", "3个月内每次拜访"),
    "unit.retention_spend": ("per ¥1,000 booked to the dealer in the 3 months", "3个月内每1000元计入该经销商的费用"),
    "change_in_later_orders": ("Change in orders of the next 3 months", "后3个月订单变化"),
    "relative_change": ("Change in later orders", "后续订单变化"),
    "estimate": ("Estimate", "估计值"),
    "ci_95": ("95% interval", "95%置信区间"),
    "ci_low": ("95% interval, low", "95%区间下限"),
    "ci_high": ("95% interval, high", "95%区间上限"),
    "p_value": ("p-value", "p值"),
    "n_obs": ("Observations", "观测数"),
    # sales managers
    "h.scorecard": ("Scorecard", "业务经理考核表"),
    "t.scorecard": ("Each sales manager against the article's three rules: a follow-up call to every established "
                    "dealer every month (target 100%), a visit to every dealer at least every two months (100%), and "
                    "at most 4% of dealers that placed only their first order. Compliance is the average share of the "
                    "manager's dealers that keep the rules.",
                    "按三条规则考核每位业务经理：每月对每家成熟经销商至少电话回访一次（目标100%），每两个月至少上门拜访一次"
                    "（100%），仅下首单未复购的经销商不超过4%。合规度为其名下经销商遵守各项规则比例的平均值。"),
    "no_managers": ("No sales managers are named in the data.", "数据中没有业务经理信息。"),
    "rank": ("Rank", "排名"),
    "rules_met": ("Rules met", "达标规则数"),
    "compliance": ("Compliance", "合规度"),
    "rules_met_3": ("All 3 rules met", "三项全部达标"),
    "rules_met_2": ("2 rules met", "达标两项"),
    "rules_met_1": ("1 rule met", "达标一项"),
    "rules_met_0": ("No rule met", "均未达标"),
    "h.ranking": ("Ranking", "排名"),
    "t.ranking": ("Most rules met first, then higher compliance, then higher revenue over 12 months.",
                  "先按达标规则数，再按合规度，最后按近12个月销售额排序。"),
    "chart.ranking_top": ("The first {n}", "排名前{n}位"),
    "chart.ranking_bottom": ("The last {n}", "排名后{n}位"),
    "ranking_ends": ("The chart shows the first and the last {n} of {total} sales managers; the scorecard above "
                     "ranks every one.",
                     "图中为{total}位业务经理中排名前{n}位和后{n}位；上方考核表列出全部排名。"),
    "h.rule_breakers": ("Dealers that break a rule", "违反规则的经销商"),
    "t.rule_breakers": ("The month's to-do list per sales manager: call, visit, or find out why a dealer never "
                        "reordered.",
                        "各业务经理本月待办：电话回访、上门拜访，或了解经销商为何未复购。"),
    "breaker_counts": ("{callback} dealers had no follow-up call this month, {visit} no visit in two months, {first} "
                       "only their first order.",
                       "本月{callback}家经销商未获电话回访，{visit}家两个月内未获上门拜访，{first}家仅下首单未复购。"),
    "breaker_counts_orders_only": (
        "{first} dealers placed only their first order. Follow-up calls and visits cannot be checked: the source "
        "has no {table} data.",
        "{first}家经销商仅下首单未复购。数据源中没有{table}数据，无法检查电话回访与上门拜访。",
    ),
    "no_coverage": ("No {table} data in the source: call and visit coverage is left out.",
                    "数据源中没有{table}数据，回访与拜访覆盖率略过。"),
    "no_breakers": ("No dealer breaks a rule this month.", "本月没有经销商违反规则。"),
    "rule": ("Rule broken", "违反规则"),
    "rule.no_callback": ("No call this month", "本月未回访"),
    "rule.no_visit_2m": ("No visit in 2 months", "两月未拜访"),
    "rule.first_order_only": ("Only the first order", "仅首单未复购"),
    "last_call_date": ("Last call", "最近回访"),
    "days_since_last_call": ("Days since call", "距上次回访天数"),
    "last_visit_date": ("Last visit", "最近拜访"),
    "days_since_last_visit": ("Days since visit", "距上次拜访天数"),
    "first_order_date": ("First order", "首单日期"),
    "h.rule_trend": ("12-month trend", "近12个月趋势"),
    "t.rule_trend": ("The network's coverage of the three rules month by month, and how many sales managers keep "
                     "each rule.",
                     "全网三项规则的月度表现，以及每项规则达标的业务经理人数。"),
    "chart.coverage": ("Call and visit coverage", "回访与拜访覆盖率"),
    "chart.managers_meeting": ("Sales managers meeting each rule", "各规则达标的业务经理人数"),
    "managers_meeting_rule": ("Sales managers meeting the rule", "达标业务经理人数"),
    # service flow
    "h.volume": ("Requests per process step", "各流程环节业务量"),
    "t.volume": ("Service requests opened this month and last month, per step of the order-to-complaint process.",
                 "本月与上月各流程环节（订单、付款、物流、支持、投诉）新开业务请求数。"),
    "opened": ("Requests opened", "新开请求数"),
    "h.time_to_close": ("Time to close", "办结时长"),
    "t.time_to_close": ("Hours from opening to closing of the requests closed this month: median, 75th and 90th "
                        "percentile, against each step's time limit (red).",
                        "本月办结请求从受理到办结的小时数：中位数、75%分位和90%分位，红色竖线为各环节时限。"),
    "median_hours": ("Median", "中位数"),
    "p75_hours": ("75th percentile", "75%分位"),
    "p90_hours": ("90th percentile", "90%分位"),
    "sla_hours": ("Time limit", "时限"),
    "hours_to_close": ("Hours to close", "办结小时数"),
    "h.sla": ("Closed within the time limit", "按时办结率"),
    "t.sla": ("Of the requests whose time limit ended in the month, the share closed in time, per step, against the "
              "95% target.",
              "在当月到期的请求中，按时办结的比例（分环节），目标为95%。"),
    "sla_due": ("Due", "到期数"),
    "sla_within": ("Within limit", "按时办结数"),
    "backlog": ("Open at month end", "月末积压"),
    "satisfaction_mean": ("Satisfaction (1–5)", "满意度（1–5）"),
    "h.backlog": ("Backlog, complaints and satisfaction", "积压、投诉与满意度"),
    "t.backlog": ("Month by month: requests still open at month end, complaints received, and the mean satisfaction "
                  "score of the requests closed.",
                  "逐月：月末仍未办结的请求、收到的投诉数，以及已办结请求的平均满意度。"),
    "h.via_sales_manager": ("Requests through the sales manager", "经业务经理转达的请求"),
    "t.via_sales_manager": ("Share of requests that reached us through the dealer's sales manager instead of the "
                            "process. The process guide should make it fall.",
                            "经销商通过业务经理而非标准流程提交的请求占比。流程指引应使该比例下降。"),
    "chart.via_by_manager": ("Highest shares by sales manager this month (at least 5 requests)",
                             "本月占比最高的业务经理（至少5件请求）"),
    "h.slowest_departments": ("Slowest departments", "办理最慢的部门"),
    "t.slowest_departments": ("Departments by share closed in time this month, lowest first.",
                              "按本月按时办结率从低到高排列的部门。"),
    "department": ("Department", "部门"),
    # events
    "h.cost_by_kind": ("Cost per attendee by kind of event", "各类活动人均成本"),
    "t.cost_by_kind": ("Events held in the last 12 months: total cost per attendance, by kind.",
                       "近12个月举办的活动：按类型统计的人均成本（总成本÷参会人次）。"),
    "kind": ("Kind", "类型"),
    "cost_per_attendee": ("Cost per attendee", "人均成本"),
    "event_count": ("Events", "场次"),
    "no_events": ("No events in the last 12 months.", "近12个月没有举办活动。"),
    "h.event_list": ("Every event of the last 12 months", "近12个月所有活动"),
    "t.event_list": ("Each dot is an event: how many dealers came against what it cost per attendee.",
                     "每个点代表一场活动：参会经销商数与人均成本。"),
    "held_on": ("Held on", "举办日期"),
    "name": ("Name", "名称"),
    "h.event_effect": ("Do attendees order more afterwards?", "参会经销商之后进货更多吗？"),
    "t.event_effect": ("Attendees against dealers of the same region and tier that were in the network but stayed "
                       "away: the change in their orders from the 6 months before an event to the 6 months after "
                       "(difference in differences), with its 95% interval.",
                       "将参会经销商与同区域、同等级但未参会的在网经销商对比：活动前6个月到活动后6个月订单变化之差"
                       "（双重差分），并给出95%置信区间。"),
    "outcome": ("Outcome", "指标"),
    "outcome.monthly_revenue": ("Monthly revenue", "月均销售额"),
    "outcome.active": ("Share still ordering", "仍在进货的比例"),
    "n_treated_dealers": ("Attending dealers", "参会经销商数"),
    "n_control_dealers": ("Comparison dealers", "对照经销商数"),
    "n_events": ("Events", "活动场次"),
    "did_revenue": ("Extra change in monthly revenue of attendees", "参会者月均销售额的额外变化"),
    "did_active": ("Extra change in the share still ordering", "参会者仍进货比例的额外变化"),
    "effect_pre": ("Before the events, attendees bought {treated} a month on average and comparison dealers "
                   "{control}; {active_treated} against {active_control} were ordering. The groups differed before "
                   "any event, which is why only changes are compared.",
                   "活动前，参会经销商月均进货{treated}，对照经销商为{control}；仍在进货的比例分别为{active_treated}和"
                   "{active_control}。两组在活动前就存在差异，因此只比较变化。"),
    "n.effect_limits": ("Attendance is self-selected: healthier, more engaged dealers are the ones who come. The "
                        "comparison removes differences that stay constant, not those that change; it assumes both "
                        "groups would have moved alike without the event. An association, not proof that the events "
                        "caused it.",
                        "参会是自愿选择的：经营更好、更积极的经销商更可能参会。该比较只消除了固定不变的差异，"
                        "无法消除随时间变化的差异；它假设没有活动时两组的变化相同。这只是相关性，并不能证明活动带来了变化。"),
    "n.effect_too_few": ("Too few attendees or comparison dealers to estimate an effect.",
                         "参会或对照经销商太少，无法估计效果。"),
}


def list_separator(lang: str) -> str:
    """What separates the items of a list in a sentence: ", " in English, "、" in Chinese."""
    return "、" if check_lang(lang) == "zh" else ", "


def table_names(tables: Sequence[str], lang: str = "en") -> str:
    """Contract tables as a reader names them, the last joined by "or": "Prospects or
    Interactions", "意向客户或联络记录"; "A, B or C" for more."""
    names = [label(f"table.{t}", lang) for t in tables]
    if len(names) < 2:
        return "".join(names)
    return list_separator(lang).join(names[:-1]) + label("or", lang) + names[-1]


def has_label(key: str) -> bool:
    """True when ``key`` has words of its own (``label`` returns an unknown key unchanged)."""
    return key in _LABELS


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
