"""Processes that end with the process they work for, however it ends (SIGKILL by the out-of-memory killer included).

A process-pool worker is forked by multiprocessing's fork server, not by the driver, so the kernel's
parent-death signal (prctl PR_SET_PDEATHSIG) would tie it to the fork server, which in turn lives as
long as any worker holds its pipe. A worker therefore watches the driver itself (`end_with`): a
daemon thread waits on a pidfd of the driver (Linux 5.3 and later; elsewhere it polls the driver's
pid) and ends the worker the moment the driver has ended, and the worker checks once more just
before it stores a chunk (`end_if_orphaned`). With the workers gone, the fork server and the
resource tracker end by themselves (their pipes close). Dask's worker processes watch their parent
themselves (distributed's AsyncProcess). The dashboard's background ensembles watch the server.
"""

import os
import select
import threading
import time

POLL_SECONDS = 0.5  # where no pidfd can be had: how often the watched process's pid is checked
EXIT_ORPHANED = 70  # the exit status of a process that ends because the process it worked for has ended

_watched = {}  # in a watching process: "pid" of the watched process and its "pidfd" (None without one)


def end_with(pid):
    """End this process as soon as process `pid` ends (a daemon thread watches it)."""
    try:
        pidfd = os.pidfd_open(pid)
    except ProcessLookupError:  # already gone
        os._exit(EXIT_ORPHANED)
    except (AttributeError, OSError):  # no pidfd here (not Linux, or a kernel before 5.3): poll the pid instead
        pidfd = None
    _watched.update(pid=pid, pidfd=pidfd)
    threading.Thread(target=_end_when_gone, name="lifeline", daemon=True).start()


def _watched_alive(timeout=0.0):
    """Whether the watched process is still running after up to `timeout` seconds (None: for ever) of waiting for its
    end."""
    if _watched["pidfd"] is not None:
        readable, _, _ = select.select([_watched["pidfd"]], [], [], timeout)  # a pidfd turns readable when its process ends
        return not readable
    time.sleep(timeout)
    try:
        os.kill(_watched["pid"], 0)
    except (ProcessLookupError, PermissionError):  # gone (the pid may now be another user's process)
        return False
    return True


def _end_when_gone():
    while _watched_alive(timeout=None if _watched["pidfd"] is not None else POLL_SECONDS):
        pass
    os._exit(EXIT_ORPHANED)


def end_if_orphaned():
    """In a process that watches another (`end_with`): end at once if that one has ended (call it before writing
    results, so that none is written after it)."""
    if _watched and not _watched_alive():
        os._exit(EXIT_ORPHANED)
