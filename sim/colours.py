"""A colour per scenario that does not move between reports: declared in the scenario file or derived from its name.

The palette keeps twelve scenarios apart and holds no grey: the report draws the other scenarios'
medians in REFERENCE_GREY. This module does not import matplotlib, so the scenario schema can
check a declared `colour:` against it.
"""

import difflib
import hashlib
import re

PALETTE = {"blue": "#1f77b4", "orange": "#ff7f0e", "green": "#2ca02c", "red": "#d62728", "purple": "#9467bd",
           "brown": "#8c564b", "pink": "#e377c2", "olive": "#8a8c00", "cyan": "#17becf", "navy": "#1b2a6b",
           "gold": "#f2c12e", "magenta": "#b5006b"}
"""Colour name -> hex: the colours a scenario may declare by name, and those a name is given."""

REFERENCE_GREY = "#999999"
"""The grey of the other scenarios' medians in the small-multiple fan charts: no scenario is drawn in it."""

_HEX = re.compile(r"#[0-9a-f]{6}")
GREY_CHROMA = 48  # a colour whose red, green and blue lie this close together reads as grey


def colour_problem(text):
    """Why `text` cannot be a scenario's colour, or None: a palette name or #rrggbb that is not a grey."""
    if text in PALETTE:
        return None
    if not _HEX.fullmatch(text):
        hint = difflib.get_close_matches(text, list(PALETTE), n=1)
        advice = f"did you mean '{hint[0]}'?" if hint else f"use one of {', '.join(PALETTE)} or a hex colour such as #1f77b4"
        return f"unknown colour '{text}'; {advice}"
    channels = [int(text[i:i + 2], 16) for i in (1, 3, 5)]
    if max(channels) - min(channels) < GREY_CHROMA:
        return f"{text} is a grey (or black or white); the report keeps greys for reference lines: choose a colour"
    return None


def _preferred_slot(key):
    """The palette position a scenario's name (or label) hashes to: the same in every report and on every machine."""
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big") % len(PALETTE)


def scenario_colours(results):
    """A colour (hex) per scenario label for stored scenarios (`sim.analysis.results.ScenarioResults`).

    A scenario's declared `colour` comes first (unless another scenario of the comparison declared
    it already); the others take the palette colour their label hashes to, or, when that is taken,
    the next free one, assigned in order of label so that the answer does not depend on the order
    given. Beyond twelve scenarios colours repeat.
    """
    colours, taken = {}, set()
    for result in results:
        declared = getattr(result, "colour", None)
        hexed = PALETTE.get(declared, declared)
        if hexed and hexed not in taken:
            colours[result.label] = hexed
            taken.add(hexed)
    slots = list(PALETTE.values())
    for label in sorted({r.label for r in results} - set(colours)):
        first = _preferred_slot(label)
        order = slots[first:] + slots[:first]
        colours[label] = next((colour for colour in order if colour not in taken), order[0])
        taken.add(colours[label])
    return {r.label: colours[r.label] for r in results}
