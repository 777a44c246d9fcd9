"""Alliance-cohesion wargame simulator: US-Japan-ROK partnership under Indo-Pacific crises.

The Python API, documented in docs/api.md, is importable from here (loaded on first use, so the
command line starts fast): `load_scenario`, `revise_scenario`, `run_one`, `run_ensemble`,
`load_results`, `compare`, `query_runs`, `BatchModel` (for `mesa.batch_run`), `Scenario`, `ScenarioError`,
`ReportError`, and the state codes of the stored series, `PartnershipState` and `TheatreState`.
"""

__version__ = "0.1.0"
_API = ("BatchModel", "PartnershipState", "Report", "ReportError", "Results", "RunResult", "Scenario", "ScenarioError",
        "TheatreState", "compare", "load_results", "load_scenario", "query_runs", "revise_scenario", "run_ensemble", "run_one")
__all__ = ["__version__", *_API]


def __getattr__(name):
    if name in _API:
        from . import api

        return getattr(api, name)
    raise AttributeError(f"module 'sim' has no attribute {name!r}")


def __dir__():
    return sorted(__all__)
