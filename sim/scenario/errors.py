"""Scenario problems that carry their location (file, line, column, field path)."""

import unicodedata
from dataclasses import dataclass

# Control, format (bidirectional overrides), surrogate, private-use, unassigned and line-separator
# characters would act on the terminal or hide text; they are shown as escapes instead.
_HIDDEN = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}


def printable(text):
    """`text` with every control or invisible character written as a Python escape (`\\x1b`)."""
    text = str(text)
    if text.isprintable():
        return text
    return "".join(repr(c)[1:-1] if unicodedata.category(c) in _HIDDEN else c for c in text)


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a scenario, located in a file."""

    file: str
    line: int
    column: int
    field: str
    message: str

    def __str__(self):
        file = printable(self.file)
        where = f"{file}:{self.line}:{self.column}" if self.line else file
        field = f" {printable(self.field)}:" if self.field else ""
        return f"{where}:{field} {printable(self.message)}"


class ScenarioError(Exception):
    """One or more problems with a scenario; `str()` lists them one per line."""

    def __init__(self, problems):
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))
