"""Scenario problems that carry their location (file, line, column, field path)."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a scenario, located in a file."""

    file: str
    line: int
    column: int
    field: str
    message: str

    def __str__(self):
        where = f"{self.file}:{self.line}:{self.column}" if self.line else self.file
        field = f" {self.field}:" if self.field else ""
        return f"{where}:{field} {self.message}"


class ScenarioError(Exception):
    """One or more problems with a scenario; `str()` lists them one per line."""

    def __init__(self, problems):
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))
