"""A small valid source in the contract's shape, as CSV texts: the base the bad-input
cases and the property tests damage one change at a time."""

BASE = {
    "sales_managers": """sales_manager_id,name,region,hired_date,left_date
SM1,张伟,山东,2020-01-01,
SM2,李娜,江苏,2021-03-01,
""",
    "dealers": """dealer_id,dealer_name,region,tier,sales_manager_id,signed_date,terminated_date
D001,山东鲁起工程机械有限公司,山东,A,SM1,2024-01-05,
D002,苏州吊装设备,江苏,B,SM2,2024-03-01,
00123,广州起重,广东,C,,2024-06-01,2025-06-30
""",
    "orders": """order_id,dealer_id,order_date,amount,quantity,product_line
O1,D001,2024-01-20,1200000,1,crane
O2,D001,2024-05-03,35000.5,10,parts
O3,D002,2024-02-15,80000,2,parts
O4,00123,2024-07-01,-5000,0,parts
O5,00123,2024-06-10,250000,1,crane
""",
    "interactions": """interaction_id,dealer_id,sales_manager_id,occurred_at,kind,direction,duration_minutes
I1,D001,SM1,2024-02-01 10:30,phone,outbound,12
I2,D002,,2024-03-05 09:00,phone,inbound,5
I3,D001,SM1,2024-04-10,visit,outbound,90
""",
    "service_requests": """request_id,dealer_id,process,opened_at,closed_at,department,via_sales_manager,satisfaction
R1,D001,order,2024-02-01 09:00,2024-02-01 15:00,销售部,false,5
R2,D002,complaint,2024-03-10 10:00,,质量部,true,
""",
    "expenses": """expense_id,spent_on,amount,purpose,category,region,dealer_id,sales_manager_id
E1,2024-01-10,50000,acquisition,advertising,山东,,
E2,2024-02-10,3000,retention,travel,江苏,D002,SM2
""",
    "prospects": """prospect_id,region,sales_manager_id,first_contact_date,stage_reached,status,closed_date,dealer_id,touches,hours_spent
P1,山东,SM1,2023-10-01,signed,signed,2024-01-05,D001,12,30
P2,江苏,SM2,2024-01-01,visited,lost,2024-03-01,,3,6
P3,广东,,2024-05-01,contacted,open,,,1,0.5
""",
    "events": """event_id,held_on,kind,name,region,cost
EV1,2024-04-20,annual_meeting,2024年会,,200000
""",
    "event_attendance": """event_id,dealer_id
EV1,D001
EV1,D002
""",
}
