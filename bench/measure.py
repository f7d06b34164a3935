"""Run a command as a child process and measure its wall time and peak memory.

CPU time (`cpu_s`, user + system seconds of the command's own process and the children
it waited for) also comes from GNU time: on a busy or drifting machine it says how much
work a step did, where wall time also says how long it waited. Peak memory is taken two
ways. `peak_rss_mb` is the largest resident set of any single
process in the tree, from GNU time (`/usr/bin/time`, exact). `tree_rss_mb` adds up the
peak (VmHWM) of every process of the tree seen while polling /proc every 50 ms, which
counts helper processes (e.g. a Prefect server) too and is an upper bound on the
simultaneous total.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

GNU_TIME = shutil.which("time", path="/usr/bin:/bin")
POLL_SECONDS = 0.05


@dataclass
class Measurement:
    command: list[str]
    returncode: int
    wall_s: float
    peak_rss_mb: float | None
    tree_rss_mb: float | None
    cpu_s: float | None
    stdout: str
    stderr: str
    timed_out: bool = False

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.timed_out


def _children(pid: int) -> list[int]:
    found: list[int] = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            text = Path(f"/proc/{pid}/task/{task}/children").read_text()
            found.extend(int(p) for p in text.split())
    except OSError:
        pass
    return found


def _hwm_kb(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def _poll_tree(root: int, peaks: dict[int, int], skip_root: bool) -> None:
    stack = [root]
    while stack:
        pid = stack.pop()
        stack.extend(_children(pid))
        if skip_root and pid == root:
            continue
        hwm = _hwm_kb(pid)
        if hwm is not None:
            peaks[pid] = max(peaks.get(pid, 0), hwm)


def _gnu_time(path: Path) -> tuple[int | None, float | None]:
    """(peak RSS in KB, user + system seconds) from GNU time's '%M %U %S' line."""
    lines = path.read_text().strip().splitlines() if path.exists() else []
    try:
        peak, user, system = lines[-1].split()
        return int(peak), float(user) + float(system)
    except (IndexError, ValueError):
        return None, None


def measure(
    command: list[str], timeout: float | None = None, env: dict[str, str] | None = None
) -> Measurement:
    """Run `command` to completion (or timeout), capturing output and resource use."""
    with tempfile.TemporaryDirectory(prefix="bench-measure-") as tmp:
        out, err, rss = Path(tmp, "out"), Path(tmp, "err"), Path(tmp, "rss")
        full = [GNU_TIME, "-f", "%M %U %S", "-o", str(rss), *command] if GNU_TIME else command
        peaks: dict[int, int] = {}
        timed_out = False
        started = time.perf_counter()
        with out.open("wb") as fout, err.open("wb") as ferr:
            try:
                proc = subprocess.Popen(
                    full, stdout=fout, stderr=ferr, env=env, start_new_session=True
                )
            except OSError as error:
                return Measurement(command, 127, 0.0, None, None, None, "", str(error))
            while proc.poll() is None:
                _poll_tree(proc.pid, peaks, skip_root=GNU_TIME is not None)
                if timeout is not None and time.perf_counter() - started > timeout:
                    os.killpg(proc.pid, signal.SIGKILL)  # our own child's session only
                    timed_out = True
                    proc.wait()
                    break
                time.sleep(POLL_SECONDS)
        wall = time.perf_counter() - started
        largest_kb, cpu = _gnu_time(rss) if GNU_TIME else (max(peaks.values(), default=None), None)
        return Measurement(
            command=command,
            returncode=proc.returncode,
            wall_s=wall,
            peak_rss_mb=largest_kb / 1024 if largest_kb else None,
            tree_rss_mb=sum(peaks.values()) / 1024 if peaks else None,
            cpu_s=cpu,
            stdout=out.read_text(errors="replace"),
            stderr=err.read_text(errors="replace"),
            timed_out=timed_out,
        )
