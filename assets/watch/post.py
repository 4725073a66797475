"""The blog post's experiment, in real CPython, for `poolscope watch`.

    poolscope watch --serve -- python3 assets/watch/post.py

Fibonacci 34..41 on a ThreadPoolExecutor and a ProcessPoolExecutor of 8 workers, then HTTP
requests that wait 1000..1700 ms on the delay server, as the post ran them (with fib made
1-based and its recursion restored: the post's listing lost a line, so its fib returned
None). `--serve` starts poolscope's delay server and puts its address in
POOLSCOPE_DELAY_URL; without it, the HTTP part is skipped. `--csv DIR` also writes the
post's four CSV files into DIR, as the post did. `--fib FIRST END` runs fib over another
range (the post's 34 42 takes minutes in CPython on two cores; tests use smaller ones).
"""

import csv
import datetime
import os
import sys
import time
import urllib.request
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor


def fibonacci(n):
    if n < 1:
        raise ValueError("Incorrect input")
    # First Fibonacci number is 0
    elif n == 1:
        return 0
    # Second Fibonacci number is 1
    elif n == 2:
        return 1
    return fibonacci(n - 1) + fibonacci(n - 2)


def http_fetch(n):
    t = time.time()
    response = urllib.request.urlopen(f"{os.environ['POOLSCOPE_DELAY_URL']}/200?sleep={n}").read()
    return t, time.time(), response


def timed_fibonacci(n):
    t = time.time()
    result = fibonacci(n)
    return t, time.time(), result


def run_experiment(pool_executor, fn, inputs, n_workers, tag, csv_dir):
    print(
        f"Run experiment {pool_executor.__name__}:\t running {fn.__name__} over {list(inputs)} "
        f"among {n_workers} workers ... ",
        end="",
        flush=True,
    )
    tic = time.time()
    rows = []
    with pool_executor(max_workers=n_workers) as executor:
        for i, (start_t, end_t, result) in enumerate(executor.map(fn, inputs)):
            rows.append([f"{tag}-{i}", start_t, end_t, end_t - start_t, result])
    toc = time.time()
    if csv_dir:
        with open(os.path.join(csv_dir, tag + ".csv"), "w", newline="") as fp:
            writer = csv.writer(fp, delimiter=",", quoting=csv.QUOTE_MINIMAL)
            writer.writerow(["tag", "start_time", "end_time", "elapsed", "result"])
            writer.writerows(rows)
    elapsed = datetime.timedelta(seconds=toc - tic)
    print(elapsed, flush=True)
    return elapsed


def main():
    csv_dir = None
    if "--csv" in sys.argv:
        csv_dir = sys.argv[sys.argv.index("--csv") + 1]
        os.makedirs(csv_dir, exist_ok=True)

    fibonacci_inputs = range(34, 42)
    if "--fib" in sys.argv:
        at = sys.argv.index("--fib")
        fibonacci_inputs = range(int(sys.argv[at + 1]), int(sys.argv[at + 2]))
    n_workers = len(list(fibonacci_inputs))
    p_time = run_experiment(
        ProcessPoolExecutor, timed_fibonacci, fibonacci_inputs, n_workers, "process-fibo", csv_dir
    )
    t_time = run_experiment(
        ThreadPoolExecutor, timed_fibonacci, fibonacci_inputs, n_workers, "thread-fibo", csv_dir
    )
    print(f"Process vs Threads Fibonacci tasks speed-up = {(t_time - p_time) / t_time * 100:.2f}%")

    if not os.environ.get("POOLSCOPE_DELAY_URL"):
        print("(no POOLSCOPE_DELAY_URL: the HTTP part is skipped; poolscope watch --serve sets it)")
        return
    http_get_wait_inputs = range(1000, 1800, 100)
    n_workers = len(list(http_get_wait_inputs))
    p_time = run_experiment(
        ProcessPoolExecutor, http_fetch, http_get_wait_inputs, n_workers, "process-get", csv_dir
    )
    t_time = run_experiment(
        ThreadPoolExecutor, http_fetch, http_get_wait_inputs, n_workers, "thread-get", csv_dir
    )
    print(f"Process vs Threads HTTP Get tasks speed-up = {(t_time - p_time) / t_time * 100:.2f}%")


if __name__ == "__main__":
    main()
