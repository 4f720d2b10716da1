"""The resident memory of this process while a call runs, for the benchmarks' child processes.

`ru_maxrss` is the peak of the whole process, set-up included, so it cannot tell what one
call added: `PeakRSS` reads the resident set size before the call, then samples it every
5 ms in a thread while the call runs, and keeps the highest sample. Linux only
(`/proc/self/statm`).

    with PeakRSS() as rss:
        call()
    rss.growth  # MB: highest sample minus the RSS just before the call
"""

from __future__ import annotations

import os
import threading

PAGE_BYTES = os.sysconf("SC_PAGE_SIZE")
MB = 1024 * 1024


def rss_mb() -> float:
    """The resident set size of this process now, in MB."""
    with open("/proc/self/statm", "rb") as f:
        return int(f.read().split()[1]) * PAGE_BYTES / MB


class PeakRSS:
    """Samples the RSS every `interval` seconds between `__enter__` and `__exit__`."""

    def __init__(self, interval: float = 0.005):
        self.interval = interval
        self.before = self.peak = 0.0
        self.samples = 0
        self._done = threading.Event()
        self._thread: threading.Thread | None = None

    def _take(self) -> None:
        self.peak = max(self.peak, rss_mb())
        self.samples += 1

    def _sample(self) -> None:
        while not self._done.is_set():
            self._take()
            self._done.wait(self.interval)

    def __enter__(self) -> PeakRSS:
        self.before = self.peak = rss_mb()
        self._thread = threading.Thread(target=self._sample, name="rss-sampler", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._done.set()
        self._thread.join()
        self._take()  # the end of the call counts too

    @property
    def growth(self) -> float:
        """The call's peak RSS growth in MB."""
        return self.peak - self.before
