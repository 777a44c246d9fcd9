"""Peak resident memory of this process and all its descendants, sampled from /proc (Linux)."""

import os
import threading
import time
from pathlib import Path


def _tree_rss_kib(root_pid):
    parents, rss = {}, {}
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(line.split(":", 1) for line in status.read_text().splitlines() if ":" in line)
        except OSError:
            continue
        pid = int(status.parent.name)
        parents[pid] = int(fields.get("PPid", "0").strip())
        rss[pid] = int(fields.get("VmRSS", "0 kB").split()[0])
    total = 0
    for pid, kib in rss.items():
        walk = pid
        while walk and walk != root_pid:
            walk = parents.get(walk, 0)
        if walk == root_pid:
            total += kib
    return total


class PeakTreeRSS:
    """Context manager: samples the process tree's summed RSS every `interval` seconds; `.peak_mib` after."""

    def __init__(self, interval=0.2):
        self.interval = interval
        self.peak_mib = 0.0
        self._stop = threading.Event()

    def _run(self):
        while not self._stop.is_set():
            self.peak_mib = max(self.peak_mib, _tree_rss_kib(os.getpid()) / 1024)
            time.sleep(self.interval)

    def __enter__(self):
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak_mib = max(self.peak_mib, _tree_rss_kib(os.getpid()) / 1024)
