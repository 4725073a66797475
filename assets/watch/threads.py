"""Fifty threads for measuring what `poolscope watch` costs (README, "Watching any program").

    poolscope watch --headless -- python3 assets/watch/threads.py idle 20

idle: fifty threads waiting on an Event (a pool between tasks); mixed: twenty waiting,
twenty sleeping 50 ms at a time, five reading a pipe nobody writes, five busy; busy: fifty
busy threads. The second argument is how many seconds to run (default 10).
"""

import os
import sys
import threading
import time

mode = sys.argv[1] if len(sys.argv) > 1 else "idle"
seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 10.0
stop = threading.Event()


def idle():
    stop.wait()


def sleeper():
    while not stop.is_set():
        time.sleep(0.05)


def reader():
    r, _w = os.pipe()
    os.read(r, 1)


def busy():
    x = 0
    while not stop.is_set():
        x += 1


kinds = {
    "idle": [idle] * 50,
    "mixed": [idle] * 20 + [sleeper] * 20 + [reader] * 5 + [busy] * 5,
    "busy": [busy] * 50,
}[mode]
# The main thread is the fiftieth.
for kind in kinds[:-1]:
    threading.Thread(target=kind, daemon=True).start()
time.sleep(seconds)
stop.set()
