"""Limits on what a scenario file (and a `--set` value) may hold, so every input is checked in bounded
time and memory. They are far above what a hand-written scenario needs; the Markdown reference
(`docs/scenario-format.md`) lists them from here."""

MAX_FILE_BYTES = 1_000_000
MAX_NESTING = 32
MAX_ALIASES = 200
MAX_NODES = 200_000
MAX_INTEGER_DIGITS = 30
MAX_EXTENDS_CHAIN = 16
MAX_CONDITION_LENGTH = 1_000
MAX_CONDITION_DEPTH = 50
MAX_STEPS = 20_000

LIMITS = (
    ("file size", f"{MAX_FILE_BYTES:,} bytes per file"),
    ("nesting", f"{MAX_NESTING} levels of mappings and lists"),
    ("aliases", f"{MAX_ALIASES} uses of `*alias` per file; an alias may not refer to the node that contains it"),
    ("values", f"{MAX_NODES:,} YAML values per file, counting every alias expansion"),
    ("integers", f"{MAX_INTEGER_DIGITS} digits (in files and in `--set`)"),
    ("extends", f"a chain of {MAX_EXTENDS_CHAIN} files; each a regular file in the folder (or a subfolder) of the "
                "scenario named on the command line, unless `--allow-outside-extends` is given"),
    ("conditions", f"{MAX_CONDITION_LENGTH:,} characters and {MAX_CONDITION_DEPTH} levels of nested operations"),
    ("steps", f"{MAX_STEPS:,} steps from start to end"),
)
"""(what, the limit in words) for the reference documentation."""
