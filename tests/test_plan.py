"""implementation_plan on a hand-made comparison: ranks, phases and the 90-day checklist."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from transitmile.errors import StudyError
from transitmile.scenarios import implementation_plan


def comparison() -> pd.DataFrame:
    columns = ["scenario", "error", "benefit_cost_ratio", "cost_per_new_resident_served",
               "gap_residents_closed", "time_saved_person_min_per_weekday",
               "jobs_within_45_min_mean_change"]  # fmt: skip
    rows = [
        ["baseline", None, np.nan, np.nan, np.nan, np.nan, np.nan],
        ["bikes", None, 3.0, 400.0, 1200.0, 5000.0, 150.0],
        ["shuttle", None, 1.5, 900.0, 800.0, 2500.0, 90.0],
        ["bridge", None, 1.5, 300.0, 300.0, 900.0, 20.0],
        ["broken", "StudyError: no such stop", np.nan, np.nan, np.nan, np.nan, np.nan],
    ]
    table = pd.DataFrame(rows, columns=columns)

    def item(scenario, name, kind, lead_time):
        return {"scenario": scenario, "intervention": name, "type": kind, "lead_time": lead_time,
                "owner_role": "someone", "what": f"{kind} {name}", "where": "here",
                "capital_cost": 10.0, "annual_operating_cost": 1.0, "life_years": 10.0,
                "annualised_cost": 2.0, "cost_source": "assumption"}  # fmt: skip

    table.attrs["interventions"] = [
        item("bikes", "cluster", "bike_share", "quick_win"),
        item("shuttle", "loop", "shuttle", "medium"),
        item("bridge", "passarela", "walking_links", "capital"),
    ]
    return table


def test_plan_ranks_by_benefit_cost_then_cost_per_resident_and_phases_by_lead_time():
    plan = implementation_plan(comparison())
    # bikes first (BCR 3); bridge and shuttle tie on BCR 1.5, the bridge is cheaper per
    # resident served (300 < 900); the failed scenario is left out
    assert plan[["phase", "rank", "scenario"]].values.tolist() == [
        ["90 days", 1, "bikes"],
        ["3-12 months", 3, "shuttle"],
        ["1-3 years", 2, "bridge"],
    ]
    checklist = plan[plan["phase"] == "90 days"].iloc[0]
    assert checklist["expected_effect"] == (
        "1,200 residents newly within reach of frequent transit; 5,000 person-minutes saved "
        "per weekday; +150 jobs within 45 min (mean per resident)"
    )
    assert {"what", "where", "capital_cost", "owner_role"} <= set(plan.columns)


def test_plan_needs_a_comparison():
    with pytest.raises(StudyError, match="needs the table compare_scenarios returns"):
        implementation_plan(pd.DataFrame({"scenario": ["x"]}))
