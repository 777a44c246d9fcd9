"""The ensemble manifest (`manifest.json`) as a typed record, and the identity of each chunk it asks for.

The manifest says what an ensemble is (scenarios with their resolved content and hash, root seed,
runs, chunk size, parameter sets) and how far it got (status, final files' digests, failed runs).
Every reader uses its fields. Its JSON carries a checksum of its own content, so a manifest edited
by hand is recognised (`content_checksum`); a manifest without one was written by an earlier
version and is checked field by field only. A checksum catches accidents and hand edits, not a
forgery: whoever rewrites the manifest can recompute it.
"""

from collections import Counter
import hashlib
import json
from typing import Annotated, Literal, Optional, Union

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictFloat, StrictInt, StrictStr, model_serializer, model_validator

RUNNING, INTERRUPTED, COMPLETE, COMPLETE_WITH_FAILURES = "running", "interrupted", "complete", "complete_with_failures"
STATUSES = (RUNNING, INTERRUPTED, COMPLETE, COMPLETE_WITH_FAILURES)
FINISHED = (COMPLETE, COMPLETE_WITH_FAILURES)
MAX_ROOT_SEED = 2**63 - 1  # stored as int64
MAX_RUNS = 10_000_000  # per scenario (the run index is stored as int32)
CHECKSUM = "checksum"
SEEDING = "run i uses numpy SeedSequence(root_seed, spawn_key=(i,)), the same in every scenario"

Count = Annotated[int, Field(strict=True, ge=1, le=MAX_RUNS)]
RootSeed = Annotated[int, Field(strict=True, ge=0, le=MAX_ROOT_SEED)]


class _Record(BaseModel):
    # Keys this version does not know (from another version) are ignored; a changed value is checked on assignment.
    model_config = ConfigDict(extra="ignore", validate_assignment=True)


class FileDigest(_Record):
    """SHA-256 (hex) and size in bytes of a stored file."""

    sha256: StrictStr
    bytes: StrictInt


class ScenarioEntry(_Record):
    """One scenario of the ensemble: its name, the hash and content of the resolved scenario, and its horizon."""

    name: StrictStr
    hash: StrictStr
    resolved: dict = Field(exclude=True)  # the resolved scenario as JSON (Scenario.model_dump(mode="json"))
    file: str  # where it was read from ("<python>" for a Scenario given through the API)
    n_steps: StrictInt
    start: StrictStr  # ISO date
    step_days: StrictInt

    @model_serializer(mode="wrap")
    def _with_resolved(self, handler):
        # `resolved` is already JSON: put back as it is, where pydantic would inspect each of its values (seconds for
        # an exploration's thousands of scenarios)
        return {**handler(self), "resolved": self.resolved}


class ParameterSets(_Record):
    """The table of parameter sets an ensemble runs over (run i uses set i mod len(sets))."""

    file: str
    sha256: str
    columns: list[str]
    sets: list[dict[str, Union[StrictInt, StrictFloat]]]  # an integer parameter stays an integer
    rule: str = "run i uses set i mod len(sets)"


class ExploreFiles(_Record):
    """The files that make a store an exploration (sim.explore.runs)."""

    experiment: str
    design: str


class DecideFiles(_Record):
    """The file that makes a store a decision (sim.decide.runs)."""

    decision: str


class FailedRun(_Record):
    """A run that failed: its scenario, index, seed rule and the first line of its error."""

    scenario: str
    run: int
    seed: str
    error: str


class ChunkIdentity(_Record):
    """What makes a stored chunk part of one ensemble: the runs [start, stop) of a scenario (by name and hash), the
    root seed, whether time series are kept, the parameter sets (their table's SHA-256; None without) and the meaning of
    its run summaries (record.SUMMARY_DEFINITIONS of the version that wrote it) and the model code that computed them
    (provenance.model_code)."""

    model_config = ConfigDict(frozen=True)

    scenario: StrictStr
    scenario_hash: StrictStr
    root_seed: RootSeed
    start: Annotated[int, Field(strict=True, ge=0)]
    stop: Count
    record_steps: StrictBool
    parameter_sets: Optional[StrictStr]
    summary_definitions: Optional[StrictInt] = None  # what its summaries mean (record.SUMMARY_DEFINITIONS; none before 3)
    model_code: Optional[StrictStr] = None  # the model code that computed its runs (provenance.model_code; none before it)

    def differences(self, other):
        """How `other` differs from this identity, in words (empty when they are equal)."""
        shown = {"scenario": "scenario", "root_seed": "root seed", "record_steps": "time series kept",
                 "parameter_sets": "parameter sets (SHA-256)", "scenario_hash": "scenario hash",
                 "start": "first run", "stop": "end of runs", "summary_definitions": "summary definitions",
                 "model_code": "model code (SHA-256)"}
        return [f"{label} {getattr(other, field)!r}, the ensemble's {getattr(self, field)!r}"
                for field, label in shown.items() if getattr(other, field) != getattr(self, field)]


class Manifest(_Record):
    """An ensemble's manifest. Its JSON form (model_dump) carries `checksum`, the content_checksum of the rest.

    Fields with a default were added after the first version (whose stores still load) or are set as the ensemble runs.
    """

    status: Literal[STATUSES]
    root_seed: RootSeed
    runs: Count
    chunk_size: Count
    scenarios: list[ScenarioEntry] = Field(min_length=1)
    started: str  # UTC, ISO
    finished: Optional[str]
    seeding: str
    overrides: list[str]
    versions: dict[str, str]  # of sim, mesa, numpy, pyarrow and python
    git_commit: Optional[str]
    failures: list[FailedRun]
    parameter_sets: Optional[ParameterSets] = None
    record_steps: bool = True  # False in an explore design: run summaries only
    explore: Optional[ExploreFiles] = None
    decide: Optional[DecideFiles] = None
    workers: Optional[int] = None
    scheduler: Optional[str] = None
    interruption: Optional[str] = None
    files: dict[str, FileDigest] = {}  # the final files' digests, once complete (none in stores older than them)
    summary_definitions: Optional[int] = None  # record.SUMMARY_DEFINITIONS of the version that wrote the runs (none before 3)
    model_code: Optional[str] = None  # SHA-256 of the model code that computed the runs (provenance.model_code; none before it)

    @model_validator(mode="after")
    def _each_scenario_once(self):
        twice = sorted(name for name, count in Counter(e.name for e in self.scenarios).items() if count > 1)
        if twice:
            raise ValueError(f"scenario {', '.join(repr(n) for n in twice)} is listed more than once")
        return self

    @model_serializer(mode="wrap")
    def _with_checksum(self, handler):
        content = handler(self)
        return {**content, CHECKSUM: content_checksum(content)}

    def chunk_identities(self):
        """Every chunk of the ensemble: {(scenario name, start): ChunkIdentity}."""
        sets = self.parameter_sets.sha256 if self.parameter_sets else None
        return {(entry.name, start): ChunkIdentity(scenario=entry.name, scenario_hash=entry.hash, root_seed=self.root_seed,
                                                   start=start, stop=min(start + self.chunk_size, self.runs),
                                                   record_steps=self.record_steps, parameter_sets=sets,
                                                   summary_definitions=self.summary_definitions, model_code=self.model_code)
                for entry in self.scenarios for start in range(0, self.runs, self.chunk_size)}


def content_checksum(content):
    """SHA-256 (hex) of a manifest's JSON content without its checksum, in canonical form (sorted keys)."""
    canonical = {key: value for key, value in content.items() if key != CHECKSUM}
    return hashlib.sha256(json.dumps(canonical, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
