"""Observation models: how each measured series is produced from the model's variables (docs/ODD.md, "Observation").

Declared once, in OBSERVATION_MODELS. An observation model names the recorded variable a series
measures, how a year's value is taken from the weekly series (the mean over the survey's fieldwork
months, or the sum over the year for counts) and its measurement equation:

- `logit` (survey percentages): logit(y / 100) = a_s + b_g x + e, e ~ N(0, s_g);
- `log` (large counts on a ratio scale): log y = a_s + b_g x + e;
- `count` (counts of model events: launches, incursions, meetings): y ~ NegBin(mean x, dispersion k_s).

Series in one group share the slope b_g and the noise s_g (several polls of one relationship, or
favourability across relationships, so that a tie's level means the same thing in every pair); each
series has its own offset a_s (question wording, the house), and a method change (a survey moving
from interviews to mail) starts a new offset. The coefficients are not set by hand: they are fitted
with the model's parameters, by least squares on each parameter set's runs (`fit`), inside the
likelihood-free fit and again for the posterior predictive check.
"""

import enum
import math
import zlib
from dataclasses import dataclass

import numpy as np
from scipy import optimize, special, stats


class Link(str, enum.Enum):
    """The form of a measurement equation."""

    LOGIT = "logit"
    LOG = "log"
    COUNT = "count"


@dataclass(frozen=True)
class ObservationModel:
    """How one measured series is produced from one recorded variable of the model."""

    series: str
    variable: str                 # recorded column (docs/ODD.md 7.13)
    link: Link
    group: str                    # series of a group share slope and noise
    months: tuple = (1, 12)       # months of the year whose weekly values are aggregated (fieldwork, or the whole year)
    breaks: tuple = ()            # years from which a method change gives the series a new offset
    what: str = ""                # what the series measures, in the model's terms

    @property
    def aggregate(self):
        """'sum' for counts of model events over the year, else 'mean' over the fieldwork months."""
        return "sum" if self.link is Link.COUNT else "mean"

    def offset_key(self, year):
        """The offset a point of `year` takes: the series', or the one of the method in use that year."""
        started = [b for b in self.breaks if year >= b]
        return f"{self.series}@{max(started)}" if started else self.series


_FIELDWORK_GENRON = (5, 9)   # Genron NPO / EAI joint poll: May-June (2017-2019), August-September (2020-2023)
_FIELDWORK_CAO = (10, 11)    # Cabinet Office survey on diplomacy: October-November
_FIELDWORK_PEW = (3, 5)      # Pew Global Attitudes: spring

OBSERVATION_MODELS = (
    ObservationModel("genron_jp_good_impression_of_rok", "tie_japan_rok", Link.LOGIT, "favourability", _FIELDWORK_GENRON,
                     what="Japanese with a good impression of the ROK: the Japan-ROK tie"),
    ObservationModel("genron_kr_good_impression_of_jp", "tie_japan_rok", Link.LOGIT, "favourability", _FIELDWORK_GENRON,
                     breaks=(2024,), what="Koreans with a good impression of Japan: the Japan-ROK tie (EAI alone, online, from 2024)"),
    ObservationModel("jp_cao_affinity_rok", "tie_japan_rok", Link.LOGIT, "favourability", _FIELDWORK_CAO, breaks=(2020,),
                     what="Japanese who feel affinity for the ROK: the Japan-ROK tie (mail survey from FY2020)"),
    ObservationModel("gallupkorea_kr_favorable_japan", "tie_japan_rok", Link.LOGIT, "favourability", (8, 8),
                     what="Koreans favourable to Japan: the Japan-ROK tie"),
    ObservationModel("pew_jp_favorable_us", "tie_us_japan", Link.LOGIT, "favourability", _FIELDWORK_PEW,
                     what="Japanese favourable to the US: the US-Japan tie"),
    ObservationModel("pew_kr_favorable_us", "tie_us_rok", Link.LOGIT, "favourability", _FIELDWORK_PEW,
                     what="Koreans favourable to the US: the US-ROK tie"),
    ObservationModel("jp_cao_affinity_us", "tie_us_japan", Link.LOGIT, "favourability", _FIELDWORK_CAO, breaks=(2020,),
                     what="Japanese who feel affinity for the US: the US-Japan tie (mail survey from FY2020)"),
    ObservationModel("pew_jp_confidence_us_president", "japan_view_of_us", Link.LOGIT, "confidence", _FIELDWORK_PEW,
                     what="Japanese confident in the US president: Japan's view of US reliability"),
    ObservationModel("pew_kr_confidence_us_president", "rok_view_of_us", Link.LOGIT, "confidence", _FIELDWORK_PEW,
                     what="Koreans confident in the US president: the ROK's view of US reliability"),
    ObservationModel("dprk_launch_days", "incidents_korea", Link.COUNT, "dprk_launch_days",
                     what="days with DPRK ballistic-missile launches: the Korean Peninsula's incidents (each is a launch day)"),
    ObservationModel("senkaku_territorial_sea_days", "incidents_east_china_sea", Link.COUNT, "senkaku_territorial_sea_days",
                     what="days with Chinese government vessels in the Senkaku territorial sea: the East China Sea's incidents"),
    ObservationModel("trilateral_leaders_meetings", "trilateral_meetings_leaders", Link.COUNT, "trilateral_leaders_meetings",
                     what="trilateral leaders' meetings held in the year"),
    ObservationModel("trilateral_ministerial_meetings", "trilateral_meetings_ministers", Link.COUNT, "trilateral_ministerial_meetings",
                     what="trilateral foreign and defence ministers' meetings held in the year"),
    ObservationModel("japan_rok_leaders_meetings", "leaders_meetings_japan_rok", Link.COUNT, "japan_rok_leaders_meetings",
                     what="Japan-ROK leaders' meetings held in the year (bilateral, or on the margins of trilateral ones)"),
    ObservationModel("senkaku_contiguous_zone_days", "tension_east_china_sea", Link.LOGIT, "senkaku_presence",
                     what="days with Chinese government vessels in the Senkaku contiguous zone (share of the year): East China Sea tension"),
    ObservationModel("pla_adiz_incursions", "tension_taiwan", Link.LOG, "pla_adiz_incursions",
                     what="PLA aircraft entering Taiwan's ADIZ: Taiwan Strait tension"),
)
"""Every measured series the model is scored on, with its observation model."""

MODELS = {m.series: m for m in OBSERVATION_MODELS}

UNMODELLED = {
    "jp_cao_affinity_china": "no model variable is Japan's relationship with China",
    "dprk_ballistic_missiles": "launch days (dprk_launch_days) are the model's incidents; missiles per day are not modelled",
    "cns_reported_nk_missiles": "another compiler's count of the same launches (dprk_launch_days is used)",
    "csis_nk_missiles": "another compiler's count with a broader definition",
    "jp_mod_nk_ballistic_launch_events": "another compiler's count of the same launches (dprk_launch_days is used)",
    "jp_mod_nk_ballistic_missiles": "another compiler's count of the same launches",
    "senkaku_territorial_sea_ships": "vessel-entries; the days (senkaku_territorial_sea_days) are the model's incidents",
    "senkaku_territorial_sea_incidents": "an overlapping count of the same intrusions (days are used)",
    "us_troops_japan_active_duty": "US peacetime presence is a scenario input, held constant in the backtest: the model "
                                   "says nothing about troop numbers, so scoring it would only score the observation model",
    "us_troops_rok_active_duty": "as us_troops_japan_active_duty",
    "us_troops_japan_stated": "a rounded official figure, not a count",
    "us_troops_rok_stated": "a rounded official figure, not a count",
}
"""Series in observations.csv that no observation model uses, and why."""

SCALE = {Link.LOGIT: 100.0}
SENKAKU_DAYS = 365.0  # the contiguous-zone series counts days of the year: its share of the year is the percentage's analogue
LOGIT_FLOOR = 0.06    # least noise s_g on the logit scale: the sampling error of a poll of about 1,000 near 50% (assumption)
RELATIVE_FLOOR = 0.03  # least noise on the log scale: 3% (assumption)


def scale_of(model):
    """What a `logit` series is a share of: 100 for percentages, 365 for days of the year."""
    return SENKAKU_DAYS if model.series == "senkaku_contiguous_zone_days" else SCALE.get(model.link, 1.0)


def transform(model, values):
    """Observed values on the scale of the measurement equation (logit or log; counts as they are)."""
    values = np.asarray(values, dtype=float)
    if model.link is Link.LOGIT:
        share = np.clip(values / scale_of(model), 1e-3, 1 - 1e-3)
        return special.logit(share)
    if model.link is Link.LOG:
        return np.log(np.maximum(values, 1e-3))
    return values


def untransform(model, values):
    """The inverse of `transform`."""
    if model.link is Link.LOGIT:
        return scale_of(model) * special.expit(values)
    if model.link is Link.LOG:
        return np.exp(values)
    return values


def latent(model, values, dates, years):
    """The model's value behind each observed year: (years, runs), from `values` (steps, runs) at `dates` (datetime64[D])."""
    months = dates.astype("datetime64[M]").astype(int) % 12 + 1
    step_years = dates.astype("datetime64[Y]").astype(int) + 1970
    rows = []
    for year in years:
        steps = (step_years == year) & (months >= model.months[0]) & (months <= model.months[1])
        if not steps.any():
            rows.append(np.full(values.shape[1], np.nan))
            continue
        chosen = values[steps]
        rows.append(chosen.sum(axis=0) if model.aggregate == "sum" else chosen.mean(axis=0))
    return np.array(rows)


@dataclass
class Coefficients:
    """The fitted coefficients of every observation model: offsets per series (and method), slope and noise per group,
    dispersion per count series."""

    offset: dict
    slope: dict
    noise: dict
    dispersion: dict

    def as_row(self):
        """Flat, named values (for the posterior table and the report)."""
        row = {f"offset.{k}": v for k, v in self.offset.items()}
        row.update({f"slope.{k}": v for k, v in self.slope.items()})
        row.update({f"noise.{k}": v for k, v in self.noise.items()})
        row.update({f"dispersion.{k}": v for k, v in self.dispersion.items()})
        return row


def fit(latents, observations):
    """Fit every observation model's coefficients to the observed points, given the model's latent values.

    `latents[series]` is (points, runs) for the series' observed years; `observations[series]` the
    observed values. Each group's offsets and shared slope are least squares on the run means (the
    slope kept at zero or above: a measure never falls as its variable rises); its noise is what the
    residuals leave beyond the runs' own spread, at least the floor. Count series get the dispersion
    of their negative binomial by maximum likelihood.
    """
    coefficients = Coefficients({}, {}, {}, {})
    groups = {}
    for model in OBSERVATION_MODELS:
        if model.series in latents:
            groups.setdefault(model.group, []).append(model)
    for group, members in groups.items():
        if members[0].link is Link.COUNT:
            for model in members:
                coefficients.dispersion[model.series] = _dispersion(latents[model.series], observations[model.series])
            continue
        _fit_group(group, members, latents, observations, coefficients)
    return coefficients


def _fit_group(group, members, latents, observations, coefficients):
    keys, rows, targets, means, spreads = [], [], [], [], []
    for model in members:
        values, years = observations[model.series]
        for point, (value, year) in enumerate(zip(values, years)):
            key = model.offset_key(year)
            if key not in keys:
                keys.append(key)
            rows.append(keys.index(key))
            targets.append(transform(model, value))
            means.append(np.nanmean(latents[model.series][point]))
            spreads.append(np.nanvar(latents[model.series][point]))
    rows, targets, means = np.array(rows), np.array(targets), np.array(means)
    design = np.zeros((len(targets), len(keys) + 1))
    design[np.arange(len(targets)), rows] = 1.0
    design[:, -1] = means
    solution = np.linalg.lstsq(design, targets, rcond=None)[0]
    if solution[-1] < 0.0 or not np.isfinite(solution[-1]):
        solution = np.append(np.linalg.lstsq(design[:, :-1], targets, rcond=None)[0], 0.0)
    slope = float(solution[-1])
    residual = targets - design @ solution
    dof = max(1, len(targets) - len(solution))
    floor = LOGIT_FLOOR if members[0].link is Link.LOGIT else RELATIVE_FLOOR
    variance = float(residual @ residual) / dof - slope ** 2 * float(np.mean(spreads))
    coefficients.slope[group] = slope
    coefficients.noise[group] = max(floor, math.sqrt(max(0.0, variance)))
    coefficients.offset.update({key: float(value) for key, value in zip(keys, solution[:-1])})


def _dispersion(latent_counts, observed):
    values, _ = observed
    means = np.maximum(latent_counts, 1e-9)  # (points, runs)
    counts = np.asarray(values)[:, None]

    def negative_log_likelihood(log_k):
        k = math.exp(log_k)
        pmf = stats.nbinom.pmf(counts, k, k / (k + means))
        return -float(np.sum(np.log(np.maximum(pmf.mean(axis=1), 1e-300))))

    found = optimize.minimize_scalar(negative_log_likelihood, bounds=(math.log(0.2), math.log(1000.0)), method="bounded")
    return float(math.exp(found.x))


def predictive(model, coefficients, latent_points, years, draws_per_run, seed=0):
    """Draws of the observed value for each point (points, runs * draws_per_run): the runs' latent values pushed through
    the measurement equation with its noise. The draws come from a stream keyed by the series and `seed`."""
    rng = np.random.default_rng([zlib.crc32(model.series.encode()), seed])
    latent_points = np.repeat(np.asarray(latent_points, dtype=float), draws_per_run, axis=1)
    if model.link is Link.COUNT:
        k = coefficients.dispersion[model.series]
        means = np.maximum(latent_points, 1e-9)
        return rng.negative_binomial(k, k / (k + means)).astype(float)
    offsets = np.array([coefficients.offset[model.offset_key(year)] for year in years])[:, None]
    centre = offsets + coefficients.slope[model.group] * latent_points
    return untransform(model, centre + coefficients.noise[model.group] * rng.standard_normal(centre.shape))
