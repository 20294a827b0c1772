import json, random
items = []
SYS_SHORT = "You are a concise assistant. Answer in one or two sentences."
SYS_MATH = "You are a careful assistant. Work the problem out and end with the final number on its own line."
SYS_GROUNDED = "Answer only from the context provided. If the context does not contain the answer, say that the context is insufficient to answer."
SYS_BRIEF = "You write short, factual briefings for busy managers."

def add(id, domain, system, user, ref, max_tokens, tags):
    msgs = ([{"role": "system", "content": system}] if system else []) + [{"role": "user", "content": user}]
    items.append({"schema": "hg.evalset/1", "id": id, "domain": domain, "messages": msgs,
                  "reference": ref, "max_tokens": max_tokens, "tags": tags})

arith = [
 ("A warehouse ships 48 pallets a day, five days a week. How many pallets does it ship in 6 weeks?", 1440),
 ("A subscription costs $18 a month. A customer pays for 14 months and then gets a 25% discount on the next 10 months. What do they pay in total, in dollars?", 387),
 ("Our team closed 37 tickets on Monday, 52 on Tuesday and 41 on Wednesday. What was the average per day?", 43.33),
 ("A server rack draws 3.2 kW. Electricity costs $0.14 per kWh. What does it cost to run the rack for 30 days, in dollars?", 322.56),
 ("Revenue grew from $2.4 million to $2.7 million. What was the growth in percent?", 12.5),
 ("A model answers 120 tokens per second. How many seconds does it need for a 1,500-token answer?", 12.5),
 ("Seven engineers take turns being on call, two weeks each, always in the same order. Counting from the day the first engineer's shift starts, after how many weeks does that engineer's next shift start?", 14),
 ("An invoice of $4,800 is paid in three instalments: 50%, 30% and the rest. How large is the last instalment, in dollars?", 960),
 ("A delivery van drives 62 km each working day and uses 8.5 litres per 100 km. How many litres does it use in 20 working days?", 105.4),
 ("If 1 million input tokens cost $0.50 and 1 million output tokens cost $2.00, what does a request with 3,000 input and 500 output tokens cost, in dollars?", 0.0025),
 ("A shop sells 240 units at $15 and has costs of $2,100. What is the profit, in dollars?", 1500),
 ("A project has 5 phases of 3 weeks each plus 2 weeks of testing. If it starts in week 10, in which week does it end (the last week counted)?", 26),
 ("Three servers handle 1,200, 950 and 1,450 requests per minute. How many requests do they handle together in one hour?", 216000),
 ("A loan of $10,000 has simple interest of 4% a year. How much interest is due after 3 years, in dollars?", 1200),
 ("A team of 4 writes 22 pages a week each. The manual needs 440 pages. How many weeks does the team need?", 5),
 ("A gateway answers 62% of 50,000 daily requests with the small model. How many requests a day go to the large model?", 19000),
 ("A battery holds 75 kWh and a car uses 15 kWh per 100 km. How far can it drive on 80% of a full charge, in km?", 400),
 ("Out of 640 survey answers, 3 in 8 chose option B. How many answers chose option B?", 240),
]
for i, (q, n) in enumerate(arith, 1):
    add("arith-%03d" % i, "arithmetic", SYS_MATH, q, {"answer": str(n), "numeric": n, "refusal": False}, 256,
        ["checkable", "multi-step" if i % 2 == 0 else "short"])

facts = [
 ("What is the chemical symbol for sodium?", "Na"),
 ("How many minutes are there in a day?", "1440"),
 ("Which planet is closest to the Sun?", "Mercury"),
 ("What unit is electrical resistance measured in?", "ohm"),
 ("How many bits are in a byte?", "8"),
 ("What is the capital city of Canada?", "Ottawa"),
 ("Which gas do plants take in for photosynthesis?", "carbon dioxide"),
 ("What is the HTTP status code for 'Not Found'?", "404"),
 ("How many sides does a hexagon have?", "6"),
 ("In which year did the first human land on the Moon?", "1969"),
]
for i, (q, a) in enumerate(facts, 1):
    ref = {"answer": a, "refusal": False}
    if a.isdigit():
        ref["numeric"] = int(a)
    add("fact-%03d" % i, "factual", SYS_SHORT, q, ref, 64, ["checkable", "short"])

grounded = [
 ("Context: The Lisbon office opened in March with 14 staff. By September it had 23 staff, and the lease runs until 2029.\n\nQuestion: How many people worked in the Lisbon office in September?", {"answer": "23", "numeric": 23}),
 ("Context: The nightly backup job starts at 01:30 and usually finishes by 02:10. On Tuesday it failed because the storage quota was full.\n\nQuestion: Why did the backup fail on Tuesday?", {"phrases": ["quota"]}),
 ("Context: Release 4.2 adds single sign-on, removes the legacy CSV export and fixes a memory leak in the scheduler.\n\nQuestion: Which feature does release 4.2 remove?", {"phrases": ["CSV export"]}),
 ("Context: Supplier A delivers in 6 days at $12 per unit; Supplier B delivers in 3 days at $14 per unit. We need 500 units within 4 days.\n\nQuestion: Which supplier meets the deadline, and what will the order cost in dollars?", {"answer": "7000", "numeric": 7000, "phrases": ["Supplier B"]}),
 ("Context: The on-call rota: week 1 Priya, week 2 Tomás, week 3 Helen, week 4 Priya again.\n\nQuestion: Who is on call in week 3?", {"answer": "Helen"}),
 ("Context: Churn was 2.1% in Q1, 1.8% in Q2 and 2.6% in Q3. The Q3 rise followed the price change in July.\n\nQuestion: What does the context give as the reason for the higher churn in Q3?", {"phrases": ["price change"]}),
 ("Context: The data center in Frankfurt runs at a PUE of 1.3; the one in Dublin at 1.2. Dublin also has the newer cooling system.\n\nQuestion: Which data center is more efficient by PUE?", {"answer": "Dublin"}),
 ("Context: Meeting notes: the team agreed to freeze new features on 14 June, run a two-week bug bash, and ship on 1 July.\n\nQuestion: When is the ship date?", {"phrases": ["1 July"]}),
 ("Context: Ticket volume: 410 in January, 380 in February, 455 in March.\n\nQuestion: How many tickets were there in the first quarter in total?", {"answer": "1245", "numeric": 1245}),
 ("Context: Our policy allows 25 days of paid leave plus public holidays. Unused days up to 5 can be carried into the next year.\n\nQuestion: How many unused leave days can be carried over?", {"answer": "5", "numeric": 5}),
]
for i, (u, ref) in enumerate(grounded, 1):
    ref = dict(ref); ref["refusal"] = False
    add("grounded-%03d" % i, "grounded", SYS_GROUNDED, u, ref, 160, ["checkable", "grounded", "sufficient-context"])

insufficient = [
 "Context: The Lisbon office opened in March with 14 staff. By September it had 23 staff.\n\nQuestion: What is the monthly rent of the Lisbon office?",
 "Context: Release 4.2 adds single sign-on and fixes a memory leak in the scheduler.\n\nQuestion: On which date will release 4.3 ship?",
 "Context: The nightly backup job starts at 01:30 and usually finishes by 02:10.\n\nQuestion: How many gigabytes does the backup copy each night?",
 "Context: Supplier B delivers in 3 days at $14 per unit.\n\nQuestion: What is Supplier B's annual revenue?",
 "Context: The board met on Thursday and approved the hiring plan for the platform group.\n\nQuestion: How many engineers did the board approve?",
 "Context: Churn was 2.1% in Q1 and 1.8% in Q2.\n\nQuestion: What was churn in Q4?",
 "Context: The Frankfurt data center runs at a PUE of 1.3.\n\nQuestion: What is the PUE of the Singapore data center?",
 "Context: The pilot with the logistics customer ran for six weeks and the feedback was positive.\n\nQuestion: What discount did the customer ask for in the renewal?",
]
for i, u in enumerate(insufficient, 1):
    add("refuse-%03d" % i, "grounded", SYS_GROUNDED, u, {"refusal": True}, 120,
        ["checkable", "grounded", "insufficient-context"])

briefs = [
 ("Summarise for the leadership team in three bullet points: Q3 revenue was $4.1M, 6% above plan. Gross margin fell from 61% to 59% because of freight costs. Two enterprise deals slipped into Q4. Hiring is on plan except for two senior platform roles.", ["revenue", "margin", "freight"]),
 ("Write a short status briefing: the data migration finished on Sunday with no downtime; 3 of 40 reports still show old totals; the fix is scheduled for Wednesday.", ["migration", "Wednesday"]),
 ("Turn these notes into a two-sentence update for customers: the API had elevated error rates for 40 minutes on Tuesday; root cause was an expired certificate on one load balancer; certificates are now renewed automatically.", ["certificate"]),
 ("Summarise the risks for the board: hiring delays in the platform group, one supplier on allocation for a key component, and a pending tax audit in Germany.", ["hiring", "supplier", "audit"]),
 ("Give a one-paragraph briefing on support: volume rose 30% after the release, median first response stayed under 2 hours, and satisfaction dipped from 4.6 to 4.4.", ["satisfaction"]),
 ("Summarise this week's security work: phishing training completion reached 96%, two laptops were reported lost and wiped remotely, and MFA is now required for the admin console.", ["MFA"]),
 ("Write a briefing for a new manager about the team: six engineers, two on the mobile app and four on the backend; weekly planning on Mondays; releases every second Thursday.", ["Monday", "Thursday"]),
 ("Summarise for finance: travel spend was $82,000 against a budget of $90,000; the savings came from the stricter approval workflow.", ["approval"]),
 ("Draft a short internal note: the office will close early on Friday for the building's fire drill; remote work is encouraged for the afternoon.", ["fire drill"]),
 ("Summarise the pilot results: local models answered 71% of routine questions without escalation, median latency was 0.8 seconds, and the cost per 1,000 requests fell by 58%.", ["71%", "58%"]),
]
for i, (u, ph) in enumerate(briefs, 1):
    add("brief-%03d" % i, "briefing", SYS_BRIEF, u, {"phrases": ph, "refusal": False}, 220,
        ["briefing", "summary"])

# Long prompts: a generated but plausible operations log, a question about it.
rng = random.Random(12)
sites = ["Leeds", "Porto", "Lyon", "Gdansk", "Bilbao", "Turin"]
def ops_log(days, seed):
    r = random.Random(seed)
    lines, total = [], {}
    for d in range(1, days + 1):
        for s in sites:
            n = r.randint(80, 160)
            total[s] = total.get(s, 0) + n
            lines.append("Day %d, %s depot: %d parcels dispatched, %d returns logged, vans on the road: %d." %
                         (d, s, n, r.randint(0, 9), r.randint(3, 12)))
    return "\n".join(lines), total
for i, (days, seed, site) in enumerate([(10, 1, "Porto"), (14, 2, "Lyon"), (20, 3, "Gdansk"), (60, 4, "Leeds"), (70, 5, "Bilbao"), (8, 6, "Turin")], 1):
    log, total = ops_log(days, seed)
    u = ("Below is the dispatch log of our depots.\n\n" + log +
         "\n\nQuestion: how many parcels did the %s depot dispatch over the whole period? Give the total." % site)
    add("long-%03d" % i, "long", SYS_MATH, u, {"answer": str(total[site]), "numeric": total[site], "refusal": False},
        256, ["checkable", "long"])

# Escalation-flavoured items: the demo routes these words to the large model before any draft.
add("incident-001", "briefing", SYS_BRIEF,
    "Write a short incident summary: checkout failed for 12 minutes at 14:05 because a database connection pool was exhausted; the pool size was raised and an alert was added.",
    {"phrases": ["connection pool", "alert"], "refusal": False}, 220, ["briefing", "incident"])
add("contract-001", "grounded", SYS_GROUNDED,
    "Context: The support contract runs for 24 months from 1 March, renews automatically for 12 months, and can be cancelled with 90 days' notice.\n\nQuestion: How many days of notice are needed to cancel the contract?",
    {"answer": "90", "numeric": 90, "refusal": False}, 120, ["checkable", "grounded", "sufficient-context"])

with open("/work/main/eval/questions.jsonl", "w") as f:
    for it in items:
        f.write(json.dumps(it, ensure_ascii=False) + "\n")
print(len(items))
