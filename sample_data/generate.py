"""Generate the bundled sample CRM export (deterministic: same seed, same files).

Run with ``make sample``. Writes, next to this script:

- ``opportunities.csv``: 5,000 deals over 18 months, homemade snake_case headers, ISO dates;
- ``activities.csv``: ~60,000 calls, emails, meetings and demos;
- ``stage_history.csv``: the date each deal entered each stage;
- ``salesforce_opportunities.csv`` and ``hubspot_deals.csv``: the same deals as those CRMs export
  them (their header names, ``$1,234.00`` amounts, ``MM/DD/YYYY`` dates; the HubSpot file also has
  its "Date entered <stage>" columns, which carry the stage history).

The data is shaped to be worth looking at: Demo → Trial is the weak step and got worse in the last
quarter; reps fall in every quadrant (busy closers, busy reps who do not close, quiet reps, one
quiet rep with a suspiciously high close ratio), and three recent hires have too few closed deals to
judge. About one deal in 23 skips Discovery, so the strict and any-stage counting rules differ.
Names and values are clean: hostile ones (formula-looking names and the like) live in the test
fixtures under ``tests/fixtures/``, not in the demo.
"""

from __future__ import annotations

import csv
import datetime as dt
import random
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
SEED = 20260630
START = dt.date(2025, 1, 1)
END = dt.date(2026, 6, 30)  # "today" in the sample
N_OPPORTUNITIES = 5_000
N_ACTIVITIES = 60_000

STAGES = ("Lead", "Discovery", "Demo", "Trial", "Proposal", "Negotiation")
# Chance of moving on from each stage for an average rep; Demo → Trial is the weak step.
ADVANCE = {"Lead": 0.86, "Discovery": 0.80, "Demo": 0.52, "Trial": 0.84, "Proposal": 0.74,
           "Negotiation": 0.80}
# Steps where a rep's closing skill shows; early steps depend more on lead quality.
SKILLED_STEPS = ("Trial", "Proposal", "Negotiation")
DAYS_IN_STAGE = {"Lead": 6, "Discovery": 10, "Demo": 12, "Trial": 18, "Proposal": 12,
                 "Negotiation": 10}
PROBABILITY = {"Lead": 5, "Discovery": 10, "Demo": 20, "Trial": 40, "Proposal": 60,
               "Negotiation": 80}
SEGMENTS = {"SMB": (8_000, 0.5), "Mid-Market": (24_000, 0.45), "Enterprise": (80_000, 0.5)}
PRODUCTS = ("Core", "Analytics", "Platform")
REGIONS = ("North America", "EMEA", "APAC")
TEAMS = ("Atlas", "Borealis", "Cascade", "Delta")
LEAD_SOURCES = ("Inbound", "Outbound", "Partner", "Event")
ACTIVITY_TYPES = (("Call", 0.45), ("Email", 0.33), ("Meeting", 0.14), ("Demo", 0.08))

FIRST = ("Avery", "Blake", "Casey", "Dana", "Eli", "Farah", "Gabe", "Hana", "Ivan", "Jade",
         "Kai", "Lena", "Marco", "Nia", "Omar", "Priya", "Quinn", "Rosa", "Sami", "Tara",
         "Uma", "Victor", "Wen", "Ximena", "Yusuf", "Zoe", "Arjun", "Bea", "Chloe", "Diego",
         "Erin", "Felix", "Grace", "Hugo", "Iris", "Jonas", "Kira", "Luis", "Maya", "Noah")
LAST = ("Reyes", "Okafor", "Lindqvist", "Moreau", "Tanaka", "Haddad", "Novak", "Silva",
        "Brennan", "Kowalski", "Mensah", "Ortiz", "Patel", "Quist", "Rossi", "Schmidt",
        "Torres", "Ueda", "Varga", "Walsh")


@dataclass(frozen=True)
class Rep:
    name: str
    team: str
    engagement: float  # activities per working day
    skill: float  # multiplies the chance of advancing at each step
    start: dt.date  # first day in the seat
    volume: float  # relative share of new deals


def _reps(rng: random.Random) -> list[Rep]:
    # (count, engagement range, skill range): stars, needs coaching, performance plan, check data.
    profiles = [(11, (5.0, 7.0), (1.12, 1.28)), (11, (5.0, 7.0), (0.62, 0.80)),
                (11, (1.5, 3.0), (0.62, 0.80)), (4, (1.5, 2.6), (1.15, 1.28))]
    names = [f"{f} {LAST[i % len(LAST)]}" for i, f in enumerate(FIRST)]
    reps: list[Rep] = []
    i = 0
    for count, (e_lo, e_hi), (s_lo, s_hi) in profiles:
        for _ in range(count):
            reps.append(Rep(names[i], TEAMS[i % len(TEAMS)], rng.uniform(e_lo, e_hi),
                            rng.uniform(s_lo, s_hi), START, rng.uniform(0.8, 1.2)))
            i += 1
    for _ in range(3):  # recent hires: a few weeks of deals, too few closed to judge
        reps.append(Rep(names[i], TEAMS[i % len(TEAMS)], rng.uniform(3.0, 5.0),
                        rng.uniform(0.8, 1.1), END - dt.timedelta(days=rng.randint(30, 50)), 0.04))
        i += 1
    return reps


def _working_days(start: dt.date, end: dt.date) -> list[dt.date]:
    days = (end - start).days + 1
    return [d for d in (start + dt.timedelta(n) for n in range(days)) if d.weekday() < 5]


def _activities(rng: random.Random, reps: list[Rep],
                opportunities: list[dict[str, object]]) -> list[dict[str, object]]:
    """Return the activity log: each rep's share follows their engagement and days employed."""
    by_rep: dict[str, list[str]] = {}
    for o in opportunities:
        by_rep.setdefault(str(o["sales_agent"]), []).append(str(o["opportunity_id"]))
    days_all = _working_days(START, END)
    total_weight = sum(r.engagement * len([d for d in days_all if d >= r.start]) for r in reps)
    activities: list[dict[str, object]] = []
    types, type_weights = zip(*ACTIVITY_TYPES, strict=True)
    for rep in reps:
        days = [d for d in days_all if d >= rep.start]
        count = round(N_ACTIVITIES * rep.engagement * len(days) / total_weight)
        for _ in range(count):
            deals = by_rep.get(rep.name, [])
            activities.append({
                "sales_agent": rep.name,
                "activity_type": rng.choices(types, type_weights)[0],
                "activity_date": rng.choice(days),
                "opportunity_id": rng.choice(deals) if deals and rng.random() < 0.6 else "",
            })
    activities.sort(key=lambda a: (a["activity_date"], a["sales_agent"]))  # type: ignore[arg-type,return-value]
    for i, a in enumerate(activities, start=1):
        a["activity_id"] = f"ACT-{i:06d}"
    return activities


def generate(rng: random.Random) -> tuple[list[dict[str, object]], list[dict[str, object]],
                                          list[dict[str, object]], list[Rep]]:
    """Return (opportunities, stage history, activities, reps) as plain rows."""
    reps = _reps(rng)
    total_days = (END - START).days
    recent = END - dt.timedelta(days=91)
    opportunities: list[dict[str, object]] = []
    history: list[dict[str, object]] = []
    weights = [r.volume for r in reps]
    for n in range(1, N_OPPORTUNITIES + 1):
        rep = rng.choices(reps, weights)[0]
        first_day = max(rep.start, START)
        created = first_day + dt.timedelta(rng.randint(0, (END - first_day).days))
        if rep.start == START and rng.random() < 0.25:  # a little growth over time
            created = START + dt.timedelta(int(total_days * rng.random() ** 0.8))
        segment = rng.choices(list(SEGMENTS), (0.5, 0.35, 0.15))[0]
        median, sigma = SEGMENTS[segment]
        amount = round(median * rng.lognormvariate(0, sigma) / 50) * 50
        day = created
        reached = [("Lead", created)]
        outcome = "open"
        for stage in STAGES:
            day = day + dt.timedelta(max(1, int(rng.expovariate(1 / DAYS_IN_STAGE[stage]))))
            if day > END:
                break
            chance = ADVANCE[stage] * (rep.skill if stage in SKILLED_STEPS else 1.0)
            if stage == "Demo" and created >= recent:
                chance *= 0.70  # the breakage got worse this quarter
            if rng.random() >= min(chance, 0.97):
                outcome = "lost" if rng.random() < 0.9 or stage == "Lead" else "open"
                if outcome == "open":  # parked rather than lost
                    reached.append(("On hold", day))
                break
            if stage == "Negotiation":
                outcome = "won"
            else:
                reached.append((STAGES[STAGES.index(stage) + 1], day))
        close_date = day if outcome in ("won", "lost") else None
        if outcome == "won":
            history_tail = [("Won", day)]
            stage_now = "Won"
        elif outcome == "lost":
            history_tail = [("Lost", day)]
            stage_now = "Lost"
        else:
            history_tail = []
            stage_now = reached[-1][0]
            close_date = reached[-1][1] + dt.timedelta(rng.randint(20, 75))
        opp_id = f"OPP-{n:05d}"
        if n % 23 == 0 and len(reached) > 2:  # a few deals jump a stage (Discovery skipped)
            reached = [r for r in reached if r[0] != "Discovery"]
        for stage, entered in reached + history_tail:
            history.append({"opportunity_id": opp_id, "stage": stage, "entered_date": entered})
        opportunities.append({
            "opportunity_id": opp_id,
            "account": f"Account {rng.randint(1, 1800):04d}",
            "sales_agent": rep.name,
            "team": rep.team,
            "segment": segment,
            "product": rng.choices(PRODUCTS, (0.5, 0.3, 0.2))[0],
            "region": rng.choices(REGIONS, (0.55, 0.3, 0.15))[0],
            "deal_stage": stage_now,
            "amount": float(amount),
            "created_date": created,
            "close_date": close_date,
            "lead_source": rng.choice(LEAD_SOURCES),
            "last_stage": reached[-1][0],
        })

    activities = _activities(rng, reps, opportunities)
    return opportunities, history, activities, reps


def _write(path: Path, rows: list[dict[str, object]], columns: list[str],
           rename: dict[str, str] | None = None) -> None:
    rename = rename or {}
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow([rename.get(c, c) for c in columns])
        for row in rows:
            writer.writerow(["" if row[c] is None else row[c] for c in columns])


def _money(value: object) -> str:
    return f"${float(value):,.2f}"  # type: ignore[arg-type]


def _us_date(value: object) -> str:
    return "" if value is None else f"{value:%m/%d/%Y}"


def main() -> None:
    """Write every sample file next to this script."""
    rng = random.Random(SEED)
    opportunities, history, activities, _ = generate(rng)
    _write(HERE / "opportunities.csv", opportunities,
           ["opportunity_id", "account", "sales_agent", "team", "segment", "product", "region",
            "deal_stage", "amount", "created_date", "close_date"])
    _write(HERE / "stage_history.csv", history, ["opportunity_id", "stage", "entered_date"])
    _write(HERE / "activities.csv", activities,
           ["activity_id", "sales_agent", "activity_type", "activity_date", "opportunity_id"])

    def crm_stage(o: dict[str, object]) -> str:
        return {"Won": "Closed Won", "Lost": "Closed Lost"}.get(str(o["deal_stage"]),
                                                                 str(o["deal_stage"]))

    salesforce = [{
        "Opportunity ID": o["opportunity_id"],
        "Opportunity Name": f"{o['account']} - {o['product']}",
        "Account Name": o["account"],
        "Opportunity Owner": o["sales_agent"],
        "Stage": crm_stage(o),
        "Amount": _money(o["amount"]),
        "Close Date": _us_date(o["close_date"]),
        "Created Date": _us_date(o["created_date"]),
        "Type": "New Business",
        "Lead Source": o["lead_source"],
        "Probability (%)": {"Won": 100, "Lost": 0}.get(str(o["deal_stage"]),
                                                       PROBABILITY.get(str(o["deal_stage"]), 10)),
        "Segment": o["segment"],
        "Region": o["region"],
    } for o in opportunities]
    _write(HERE / "salesforce_opportunities.csv", salesforce, list(salesforce[0]))

    entered: dict[str, dict[str, object]] = {}
    for h in history:
        entered.setdefault(str(h["opportunity_id"]), {})[str(h["stage"])] = h["entered_date"]
    hubspot_stages = [*STAGES, "Won", "Lost"]
    hubspot = [{
        "Record ID": 9_000_000 + i,
        "Deal Name": f"{o['account']} - {o['product']}",
        "Deal Stage": crm_stage(o),
        "Deal owner": o["sales_agent"],
        "Amount": _money(o["amount"]),
        "Close Date": _us_date(o["close_date"]),
        "Create Date": _us_date(o["created_date"]),
        "Pipeline": "Sales Pipeline",
        "Deal Type": "newbusiness",
        "Segment": o["segment"],
        "Product": o["product"],
        # HubSpot exports carry one "Date entered" column per stage: stage history, wide.
        **{f'Date entered "{crm_stage({"deal_stage": s})} (Sales Pipeline)"':
           _us_date(entered[str(o["opportunity_id"])].get(s)) for s in hubspot_stages},
    } for i, o in enumerate(opportunities, start=1)]
    _write(HERE / "hubspot_deals.csv", hubspot, list(hubspot[0]))
    print(f"wrote {len(opportunities)} opportunities, {len(activities)} activities, "
          f"{len(history)} stage changes to {HERE}")


if __name__ == "__main__":
    main()
