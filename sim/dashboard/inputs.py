"""What a person types into the page, checked before it is used: paths, file names and choices.

Every check raises InputError, whose message names the field and says what is wrong (with any
control character written as an escape), so that a handler shows it in the page instead of failing
on it. Portable file names are checked with pathvalidate (reserved names such as CON or NUL,
characters that some systems refuse); NUL and control characters and lengths in bytes are checked
here first, for a plainer message. `new_file` writes a file so that a refused save leaves nothing
behind.
"""

import contextlib
import itertools
import os
from pathlib import Path

import pathvalidate

from ..scenario.errors import printable

MAX_NAME_BYTES = 255  # one file or folder name (NAME_MAX on Linux and most file systems)
MAX_PATH_BYTES = 4096  # a whole path (PATH_MAX on Linux)


class InputError(ValueError):
    """A value typed into the page that cannot be used; the message says which field and why."""


def _shown(text, limit=80):
    """`text` as a message shows it: escapes for control characters, cut to `limit` characters."""
    text = printable(text)
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text)} characters)"


def checked_path(text, *, what):
    """`text` (stripped of surrounding blanks) as a Path that can name a file on this machine; InputError otherwise.

    Refused: an empty text, a NUL or other control character, a name longer than MAX_NAME_BYTES or a
    path longer than MAX_PATH_BYTES.
    """
    if isinstance(text, os.PathLike):
        text = os.fspath(text)
    if not isinstance(text, str) or not text.strip():
        raise InputError(f"{what}: type a path")
    text = text.strip()
    if "\x00" in text:
        raise InputError(f"{what}: the path contains a NUL character (\\x00), which no path can hold")
    if not text.isprintable():
        raise InputError(f"{what}: {_shown(text)} contains a control character; type the path in plain characters")
    if len(os.fsencode(text)) > MAX_PATH_BYTES:
        raise InputError(f"{what}: the path is too long ({len(os.fsencode(text))} bytes; at most {MAX_PATH_BYTES})")
    for name in Path(text).parts:
        if len(os.fsencode(name)) > MAX_NAME_BYTES:
            raise InputError(f"{what}: the name {_shown(name)} is too long ({len(os.fsencode(name))} bytes; "
                             f"at most {MAX_NAME_BYTES} per file or folder name)")
    return Path(text)


def checked_file_name(text, *, what, suffixes):
    """`text` as the Path of a file to write: a checked_path whose file name is portable (pathvalidate, on every
    platform: no reserved name such as CON or NUL, no character such as : * ? < > |) and ends in one of `suffixes`;
    InputError otherwise."""
    path = checked_path(text, what=what)
    try:
        pathvalidate.validate_filename(path.name, platform="universal")
    except pathvalidate.ValidationError as exc:
        reasons = {
            pathvalidate.ErrorReason.RESERVED_NAME: "is a name reserved by some systems (Windows' device names)",
            pathvalidate.ErrorReason.INVALID_CHARACTER: "contains a character that some systems refuse in a file name "
                                                        '(one of \\ / : * ? " < > |)',
        }
        why = reasons.get(exc.reason, "cannot be a file name on every system")
        raise InputError(f"{what}: {_shown(path.name)} {why}; choose another name") from None
    if path.suffix not in suffixes:
        raise InputError(f"{what}: a file name ending in {' or '.join(suffixes)} is needed, found {_shown(path.name)}")
    return path


def checked_choice(value, choices, *, what):
    """`value` if it is one of `choices` (a page's selects offer only those, but a client may send anything);
    InputError otherwise."""
    if value not in choices:
        raise InputError(f"{what}: choose one of {', '.join(map(str, choices))}")
    return value


@contextlib.contextmanager
def new_file(path):
    """Create the empty file `path` (FileExistsError if there is one) and its missing folders for a block that writes
    and checks it; if the block raises, remove the file and the folders created (a refused save leaves nothing)."""
    path = Path(path)
    created = list(itertools.takewhile(lambda folder: not folder.exists(), path.parents))  # the deepest first
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(exist_ok=False)
    except BaseException:
        _remove_folders(created)
        raise
    try:
        yield path
    except BaseException:
        path.unlink(missing_ok=True)
        _remove_folders(created)
        raise


def _remove_folders(folders):
    for folder in folders:
        with contextlib.suppress(OSError):  # not empty: something else was put there meanwhile
            folder.rmdir()
