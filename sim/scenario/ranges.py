"""Plausible ranges of every scenario parameter and government-profile field, as data.

`PARAMETER_RANGES` names each field of `Parameters`; `GOVERNMENT_RANGES` each numeric field of a
`GovernmentProfile` (`theatre_priority.<theatre>` for the nested weights). A range is the span an
experiment (`run.py explore`) varies a value over unless the experiment file narrows it. Unless the
basis says otherwise, a range is half to one and a half times the default in `Parameters` (the
bundled scenarios' values, see docs/ODD.md), clipped to the bounds documented beside the value in
scenarios/baseline.yaml; the words after the semicolon are the default's own source or
"assumption". Thresholds that must stay ordered (the partnership ladder, the escalation thresholds)
have ranges that do not overlap, so any combination is a valid scenario.
"""

from typing import NamedTuple

from ..world import THEATRES


class ParameterRange(NamedTuple):
    """The plausible span of one value: `low` to `high`, and where that span comes from."""

    low: float
    high: float
    basis: str


PARAMETER_RANGES = {
    "opinion_weight": ParameterRange(0.15, 0.45, 'x0.5-x1.5 of the default 0.3 (documented 0-1); assumption'),
    "opinion_rate": ParameterRange(0.01, 0.03, "x0.5-x1.5 of the default 0.02 (documented 0-1); assumption: about a year's half-life"),
    "opinion_threat_rally": ParameterRange(0.15, 0.45, 'x0.5-x1.5 of the default 0.3 (documented 0-1); assumption: rally effect'),
    "opinion_burden_backlash": ParameterRange(0.15, 0.45, 'x0.5-x1.5 of the default 0.3 (documented 0-1); assumption'),
    "election_opinion_weight": ParameterRange(2.0, 6.0, 'x0.5-x1.5 of the default 4 (documented 0-10); assumption: elections are partly referendums'),
    "dispute_base_hazard": ParameterRange(0.005, 0.015, 'x0.5-x1.5 of the default 0.01 (documented 0-0.05); assumption: about one dispute in 2017-2019 under Abe and Moon, timeline'),
    "dispute_severity": ParameterRange(0.15, 0.45, 'x0.5-x1.5 of the default 0.3 (documented 0-1); assumption'),
    "burden_dispute_hazard": ParameterRange(0.005, 0.015, 'x0.5-x1.5 of the default 0.01 (documented 0-0.05); assumption'),
    "burden_dispute_severity": ParameterRange(0.075, 0.225, 'x0.5-x1.5 of the default 0.15 (documented 0-1); assumption'),
    "grievance_decay": ParameterRange(0.0071, 0.049, "5%-95% of the 33 parameter sets that pass P1-P10 (docs/calibration.md), constrained by P2, P3; the default is their median"),
    "threat_perception_rate": ParameterRange(0.05, 0.15, 'x0.5-x1.5 of the default 0.1 (documented 0-1); assumption'),
    "reliability_rate": ParameterRange(0.028, 0.058, "5%-95% of the 33 parameter sets that pass P1-P10 (docs/calibration.md), constrained by P6, P1; the default is their median"),
    "effectiveness_floor": ParameterRange(0.3, 0.9, 'x0.5-x1.5 of the default 0.6 (documented 0-1); assumption'),
    "overstretch_penalty": ParameterRange(0.25, 0.75, 'x0.5-x1.5 of the default 0.5 (documented 0-2); assumption'),
    "ncg_credibility_bonus": ParameterRange(0.05, 0.15, 'x0.5-x1.5 of the default 0.1 (documented 0-0.3); assumption: Washington Declaration aimed at ROK assurance'),
    "gsomia_tie_support": ParameterRange(0.025, 0.075, 'x0.5-x1.5 of the default 0.05 (documented 0-0.2); assumption'),
    "tie_rate": ParameterRange(0.022, 0.059, "5%-95% of the 33 parameter sets that pass P1-P10 (docs/calibration.md), constrained by P4, P2; the default is their median"),
    "institutional_inertia": ParameterRange(0.3, 0.9, 'x0.5-x1.5 of the default 0.6 (documented 0-1); seed: Camp David aimed to be hard to reverse'),
    "shock_damping": ParameterRange(0.3, 0.9, 'x0.5-x1.5 of the default 0.6 (documented 0-1); assumption'),
    "burden_friction": ParameterRange(0.15, 0.45, 'x0.5-x1.5 of the default 0.3 (documented 0-1); assumption'),
    "history_friction": ParameterRange(0.27, 0.59, "5%-95% of the 33 parameter sets that pass P1-P10 (docs/calibration.md), constrained by P3, P4; the default is their median"),
    "grievance_weight": ParameterRange(0.25, 0.75, 'x0.5-x1.5 of the default 0.5 (documented 0-1); assumption'),
    "common_threat_gain": ParameterRange(0.1, 0.3, 'x0.5-x1.5 of the default 0.2 (documented 0-1); seed: intertwined security interests'),
    "hedge_reference_commitment": ParameterRange(0.35, 1.0, 'x0.5-x1.5 of the default 0.7 (documented 0-1, clipped to it); assumption'),
    "hedge_gain": ParameterRange(0.25, 0.75, 'x0.5-x1.5 of the default 0.5 (documented 0-2); seed: Seoul and Tokyo do more together'),
    "hedge_cap": ParameterRange(0.05, 0.15, 'x0.5-x1.5 of the default 0.1 (documented 0-0.3); assumption: not without limit'),
    "alignment_rate": ParameterRange(0.01, 0.03, 'x0.5-x1.5 of the default 0.02 (documented 0-0.1); assumption'),
    "alignment_tension_gain": ParameterRange(0.1, 0.3, 'x0.5-x1.5 of the default 0.2 (documented 0-1); assumption'),
    "coherence_alignment_weight": ParameterRange(0.25, 0.75, 'x0.5-x1.5 of the default 0.5 (documented 0-1); assumption: equal'),
    "credibility_us_weight": ParameterRange(0.3, 0.9, 'x0.5-x1.5 of the default 0.6 (documented 0-1); seed: US extended deterrence above all'),
    "consistency_recovery": ParameterRange(0.01, 0.03, 'x0.5-x1.5 of the default 0.02 (documented 0-0.1); assumption'),
    "consistency_floor": ParameterRange(0.2, 0.6, 'x0.5-x1.5 of the default 0.4 (documented 0-1); assumption'),
    "consistency_shock_weight": ParameterRange(0.17, 0.4, "5%-95% of the 33 parameter sets that pass P1-P10 (docs/calibration.md), constrained by P1; the default is their median"),
    "cohesion_weight_consistency": ParameterRange(0.2, 0.47, 'relative weight, rescaled with the other two to sum to 1; equal weights in the middle (assumption)'),
    "cohesion_weight_coherence": ParameterRange(0.2, 0.47, 'relative weight, rescaled with the other two to sum to 1; equal weights in the middle (assumption)'),
    "cohesion_weight_credibility": ParameterRange(0.2, 0.47, 'relative weight, rescaled with the other two to sum to 1; equal weights in the middle (assumption)'),
    "partnership_institutionalised_cohesion": ParameterRange(0.64, 0.74, "kept above partnership_functioning_cohesion's range so the ladder stays ordered (assumption)"),
    "partnership_institutionalised_level": ParameterRange(0.25, 0.75, 'x0.5-x1.5 of the default 0.5 (documented 0-1); assumption: above the pre-Camp David stock'),
    "partnership_functioning_cohesion": ParameterRange(0.54, 0.62, 'between the strained and institutionalised ranges, so the ladder stays ordered (assumption)'),
    "partnership_strained_cohesion": ParameterRange(0.44, 0.52, 'between the rupture and functioning ranges, so the ladder stays ordered (assumption)'),
    "partnership_rupture_cohesion": ParameterRange(0.27, 0.38, "5%-95% of the 33 parameter sets that pass P1-P10 (docs/calibration.md), constrained by P1; the default is their median"),
    "partnership_recovery_margin": ParameterRange(0.01, 0.03, 'x0.5-x1.5 of the default 0.02 (documented 0-0.1); assumption'),
    "partnership_downgrade_weeks": ParameterRange(7, 26, 'half a quarter to half a year around the quarter default (assumption)'),
    "partnership_upgrade_weeks": ParameterRange(13, 52, 'a quarter to a year around the half-year default (assumption)'),
    "institution_growth": ParameterRange(0.015, 0.045, 'x0.5-x1.5 of the default 0.03 (documented 0-0.1); assumption'),
    "institution_erosion": ParameterRange(0.0081, 0.026, "5%-95% of the 33 parameter sets that pass P1-P10 (docs/calibration.md), constrained by P1; the default is their median"),
    "institution_depth_resistance": ParameterRange(0.35, 1.0, 'x0.5-x1.5 of the default 0.7 (documented 0-1, clipped to it); seed: institutionalised to outlast leaders'),
    "routine_activity": ParameterRange(0.2, 0.6, 'x0.5-x1.5 of the default 0.4 (documented 0-1); assumption'),
    "missile_warning_activity": ParameterRange(0.05, 0.15, 'x0.5-x1.5 of the default 0.1 (documented 0-0.3); assumption'),
    "secretariat_activity": ParameterRange(0.05, 0.15, 'x0.5-x1.5 of the default 0.1 (documented 0-0.3); assumption'),
    "ncg_activity": ParameterRange(0.05, 0.15, 'x0.5-x1.5 of the default 0.1 (documented 0-0.3); assumption'),
    "institution_break_shock": ParameterRange(0.15, 0.45, 'x0.5-x1.5 of the default 0.3 (documented 0-1); assumption'),
    "routine_exercise_tempo": ParameterRange(0.25, 0.75, 'x0.5-x1.5 of the default 0.5 (documented 0-1); assumption'),
    "interop_growth": ParameterRange(0.01, 0.03, 'x0.5-x1.5 of the default 0.02 (documented 0-0.1); assumption'),
    "interop_decay": ParameterRange(0.005, 0.015, 'x0.5-x1.5 of the default 0.01 (documented 0-0.05); assumption: skills fade within two years'),
    "exercise_pulse_gain": ParameterRange(0.15, 0.45, 'x0.5-x1.5 of the default 0.3 (documented 0-1); assumption'),
    "missile_warning_bonus": ParameterRange(0.25, 0.75, 'x0.5-x1.5 of the default 0.5 (documented 0-1); assumption'),
    "us_force_pool": ParameterRange(1.0, 2.4, 'documented 0.9-3; peacetime presence in the bundled scenarios uses 0.9 (assumption)'),
    "grey_zone_surge": ParameterRange(0.0125, 0.0375, 'x0.5-x1.5 of the default 0.025 (documented 0-0.1); assumption'),
    "crisis_surge": ParameterRange(0.15, 0.45, 'x0.5-x1.5 of the default 0.3 (documented 0-1); assumption'),
    "conflict_surge_multiplier": ParameterRange(1.0, 2.25, "documented 1-3: a conflict needs at least a crisis's forces (assumption)"),
    "coalition_support": ParameterRange(0.15, 0.45, 'x0.5-x1.5 of the default 0.3 (documented 0-1); assumption'),
    "opportunity_balance_weight": ParameterRange(0.2, 0.6, 'x0.5-x1.5 of the default 0.4 (documented 0-1); assumption'),
    "opportunity_shortfall_weight": ParameterRange(0.175, 0.525, 'x0.5-x1.5 of the default 0.35 (documented 0-1); seed: opportunism when the US is committed elsewhere'),
    "opportunity_disunity_weight": ParameterRange(0.075, 0.225, 'x0.5-x1.5 of the default 0.15 (documented 0-1); assumption'),
    "opportunity_coordination_weight": ParameterRange(0.075, 0.225, 'x0.5-x1.5 of the default 0.15 (documented 0-1); seed: adversaries coordinate'),
    "opportunity_credibility_weight": ParameterRange(0.05, 0.15, 'x0.5-x1.5 of the default 0.1 (documented 0-1); assumption: extended deterrence'),
    "escalation_gain": ParameterRange(1.1, 2.5, "5%-95% of the 33 parameter sets that pass P1-P10 (docs/calibration.md), constrained by P9, P8; the default is their median"),
    "pressure_decay": ParameterRange(0.01, 0.03, 'x0.5-x1.5 of the default 0.02 (documented 0-0.1); assumption: campaigns lose steam within a year'),
    "tension_rate": ParameterRange(0.046, 0.096, "5%-95% of the 33 parameter sets that pass P1-P10 (docs/calibration.md), constrained by P8; the default is their median"),
    "tension_noise": ParameterRange(0.01, 0.03, 'x0.5-x1.5 of the default 0.02 (documented 0-0.1); assumption'),
    "grey_zone_threshold": ParameterRange(0.2, 0.4, "below crisis_threshold's range, so thresholds stay ordered (assumption)"),
    "crisis_threshold": ParameterRange(0.5, 0.7, 'between the grey-zone and conflict ranges, so thresholds stay ordered (assumption)'),
    "conflict_threshold": ParameterRange(0.72, 0.9, "above crisis_threshold's range, so thresholds stay ordered (assumption)"),
    "escalation_width": ParameterRange(0.04, 0.12, 'x0.5-x1.5 of the default 0.08 (documented 0.01-0.2); assumption: onset stays uncertain near a threshold'),
    "hysteresis": ParameterRange(0.025, 0.075, 'x0.5-x1.5 of the default 0.05 (documented 0-0.1); assumption'),
    "crisis_hazard": ParameterRange(0.015, 0.045, 'x0.5-x1.5 of the default 0.03 (documented 0-1); assumption'),
    "conflict_hazard": ParameterRange(0.075, 0.225, 'x0.5-x1.5 of the default 0.15 (documented 0-1); assumption'),
    "crisis_min_weeks": ParameterRange(2, 8, 'x0.5-x2 of 4 weeks (documented 1-26); a crisis is a multi-week episode, e.g. August 2022'),
    "conflict_duration_weeks": ParameterRange(4, 26, 'x0.5 of 8 weeks to half a year (documented 1-520) (assumption)'),
    "contingency_tension_margin": ParameterRange(0.05, 0.15, 'x0.5-x1.5 of the default 0.1 (documented 0-0.2); assumption'),
    "adjudication_balance_weight": ParameterRange(3.0, 9.0, 'x0.5-x1.5 of the default 6 (documented 0-10); assumption'),
    "adjudication_credibility_weight": ParameterRange(1.0, 3.0, 'x0.5-x1.5 of the default 2 (documented 0-5); assumption'),
    "adjudication_cohesion_weight": ParameterRange(1.0, 3.0, 'x0.5-x1.5 of the default 2 (documented 0-5); assumption'),
    "adjudication_defender_advantage": ParameterRange(0.5, 1.5, 'x0.5-x1.5 of the default 1 (documented 0-3); CSIS 2023 Taiwan wargame: the invasion failed in most of 24 iterations'),
    "adjudication_cutoff": ParameterRange(0.5, 1.5, 'x0.5-x1.5 of the default 1 (documented 0-3); assumption: about a third of wars end without a decision'),
    "post_conflict_tension": ParameterRange(0.25, 0.75, 'x0.5-x1.5 of the default 0.5 (documented 0-1); assumption: exhaustion'),
    "conflict_resolve_cost": ParameterRange(0.15, 0.45, 'x0.5-x1.5 of the default 0.3 (documented 0-1); assumption: costs of war'),
    "war_credibility_effect": ParameterRange(0.075, 0.225, 'x0.5-x1.5 of the default 0.15 (documented 0-0.3); assumption: rally or fracture'),
    "coercion_tie_effect": ParameterRange(0.14, 0.45, "5%-95% of the 33 parameter sets that pass P1-P10 (docs/calibration.md), constrained by P3; the default is their median"),
    "war_tie_effect": ParameterRange(0.05, 0.15, 'x0.5-x1.5 of the default 0.1 (documented 0-0.3); assumption: rally or fracture'),
    "provocation_gain": ParameterRange(0.15, 0.45, 'x0.5-x1.5 of the default 0.3 (documented 0-1); assumption'),
    "sovereignty_reference": ParameterRange(0.3, 0.5, 'around the DPP profile (0.4) that held office through the calibration period (assumption)'),
    "signal_tension_gain": ParameterRange(0.025, 0.075, 'x0.5-x1.5 of the default 0.05 (documented 0-0.2); assumption'),
    "signal_deterrence": ParameterRange(0.1, 0.3, 'x0.5-x1.5 of the default 0.2 (documented 0-0.5); assumption'),
    "signal_provocation": ParameterRange(0.1, 0.3, 'x0.5-x1.5 of the default 0.2 (documented 0-0.5); assumption'),
    "coercion_opinion_effect": ParameterRange(0.1, 0.3, 'x0.5-x1.5 of the default 0.2 (documented 0-0.5); assumption: 2019 boycott, timeline'),
}
"""Every field of `sim.scenario.schema.Parameters` -> its plausible range."""

_PROFILES = "the bundled profiles (scenarios/baseline.yaml) span"
GOVERNMENT_RANGES = {
    "alliance_commitment": ParameterRange(0.3, 0.95, f"{_PROFILES} 0.5-0.85, widened by about 0.1 each way (assumption)"),
    "burden_sharing_demand": ParameterRange(0.0, 0.9, f"{_PROFILES} 0-0.7, widened to 0.9 (assumption)"),
    "history_assertiveness": ParameterRange(0.0, 0.8, f"{_PROFILES} 0-0.6, widened to 0.8 (assumption)"),
    "resolve": ParameterRange(0.2, 0.9, f"{_PROFILES} 0.4-0.75, widened by about 0.15 each way (assumption)"),
    "sovereignty_assertiveness": ParameterRange(0.0, 0.9, f"{_PROFILES} 0.15-0.8 (Taiwan), widened (assumption)"),
    **{f"theatre_priority.{theatre}": ParameterRange(0.05, 0.6, f"{_PROFILES} 0.15-0.45, widened (assumption)")
       for theatre in (t.value for t in THEATRES)},
}
"""Every numeric field of a government profile (by its path inside the profile) -> its plausible range."""

COHESION_WEIGHTS = ("cohesion_weight_consistency", "cohesion_weight_coherence", "cohesion_weight_credibility")
"""Parameters sampled as relative weights: an experiment rescales the three to sum to 1, as the schema requires."""


def range_for(path):
    """The documented range of a dotted scenario path (`parameters.tie_rate`, `tie_rate`,
    `governments.us_transactional.alliance_commitment`), or None if it has none."""
    parts = path.split(".")
    if len(parts) == 1 or (len(parts) == 2 and parts[0] == "parameters"):
        return PARAMETER_RANGES.get(parts[-1])
    if parts[0] == "governments" and len(parts) >= 3:
        return GOVERNMENT_RANGES.get(".".join(parts[2:]))
    return None
