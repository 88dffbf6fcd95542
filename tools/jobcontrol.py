"""Process plumbing for ``make run``: the terminal's Ctrl-C, and a PID file for ``make stop``.

Ctrl-C sends SIGINT to the terminal's whole foreground process group, and that includes
``make``. GNU make, on SIGINT, waits for its recipe and then kills itself with SIGINT
("make: *** [Makefile:…: run] Interrupt", exit status 130) even when the recipe stopped
cleanly. ``take_terminal`` moves the recipe's process (and so its children) into a process
group of its own and makes that group the terminal's foreground group, as a shell does for a
job: Ctrl-C then reaches the local host and this process, not make, which sees its recipe exit
0 and exits 0 too. The terminal is handed back before this process exits.
"""

from __future__ import annotations

import os
import signal
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator


@contextmanager
def _no_sigttou() -> Iterator[None]:
    # tcsetpgrp from a process outside the foreground group sends it SIGTTOU (stop) unless ignored.
    previous = signal.signal(signal.SIGTTOU, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGTTOU, previous)


def take_terminal() -> Callable[[], None]:
    """Become the terminal's foreground process group; returns the function that gives it
    back. Does nothing (and returns a no-op) without a controlling terminal, or when this
    process is not in the foreground (``make run &``: the shell owns the terminal then)."""
    try:
        fd = os.open("/dev/tty", os.O_RDWR)
    except OSError:
        return lambda: None
    try:
        previous = os.getpgrp()
        if os.tcgetpgrp(fd) != previous:
            os.close(fd)
            return lambda: None
        os.setpgid(0, 0)
        with _no_sigttou():
            os.tcsetpgrp(fd, os.getpgrp())
    except OSError:
        os.close(fd)
        return lambda: None

    def give_back() -> None:
        with _no_sigttou():
            try:
                os.tcsetpgrp(fd, previous)
            except OSError:
                pass  # the previous group is gone (make was killed): the shell takes the terminal back
        os.close(fd)

    return give_back


def live_pid(path: Path) -> int | None:
    """The PID in ``path`` if that process still runs."""
    try:
        pid = int(path.read_text().strip())
    except (OSError, ValueError):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        return pid
    return pid


def claim_pidfile(path: Path) -> bool:
    """Write this process's PID unless the file names another live process (a second
    ``make run`` must not take the first one's file: it fails on the port anyway)."""
    if live_pid(path) not in (None, os.getpid()):
        return False
    path.write_text(f"{os.getpid()}\n")
    return True


def release_pidfile(path: Path) -> None:
    if live_pid(path) == os.getpid():
        path.unlink(missing_ok=True)
