"""Worker processes that end with the driver, however the driver ends (SIGKILL by the out-of-memory killer included).

A process-pool worker is forked by multiprocessing's fork server, not by the driver, so the kernel's
parent-death signal (prctl PR_SET_PDEATHSIG) would tie it to the fork server, which in turn lives as
long as any worker holds its pipe. Each worker therefore watches the driver itself: a daemon thread
waits on a pidfd of the driver (Linux 5.3 and later; elsewhere it polls the driver's pid) and ends
the worker the moment the driver has ended, and a worker checks once more just before it stores a
chunk. With the workers gone, the fork server and the resource tracker end by themselves (their
pipes close). Dask's worker processes watch their parent themselves (distributed's AsyncProcess).
"""

import os
import select
import threading
import time

POLL_SECONDS = 0.5  # where no pidfd can be had: how often the driver's pid is checked
EXIT_DRIVER_GONE = 70  # a worker's exit status when it ends because the driver has ended

_watched = {}  # in a worker: "pid" of the driver and its "pidfd" (None without one)


def watch_driver(driver_pid):
    """In a worker: end this process as soon as the process `driver_pid` ends (a daemon thread watches it)."""
    try:
        pidfd = os.pidfd_open(driver_pid)
    except ProcessLookupError:  # already gone
        os._exit(EXIT_DRIVER_GONE)
    except (AttributeError, OSError):  # no pidfd here (not Linux, or a kernel before 5.3): poll the pid instead
        pidfd = None
    _watched.update(pid=driver_pid, pidfd=pidfd)
    threading.Thread(target=_end_with_driver, name="driver-watchdog", daemon=True).start()


def _driver_alive(timeout=0.0):
    """Whether the watched driver is still running after up to `timeout` seconds of waiting for its end."""
    if _watched["pidfd"] is not None:
        readable, _, _ = select.select([_watched["pidfd"]], [], [], timeout)  # a pidfd turns readable when its process ends
        return not readable
    time.sleep(timeout)
    try:
        os.kill(_watched["pid"], 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # the pid now belongs to another user's process: the driver is gone
        return False
    return True


def _end_with_driver():
    while _driver_alive(timeout=None if _watched["pidfd"] is not None else POLL_SECONDS):
        pass
    os._exit(EXIT_DRIVER_GONE)


def end_if_driver_gone():
    """In a worker that watches its driver: end at once if the driver has ended (call it before writing results)."""
    if _watched and not _driver_alive():
        os._exit(EXIT_DRIVER_GONE)
