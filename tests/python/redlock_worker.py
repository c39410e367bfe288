"""Python pottery's Redlock, driven by the Rust interoperability tests and benchmarks.

    python redlock_worker.py hold  --ports 7001,7002 --name shared --ttl 10
        acquires without blocking, prints "acquired 1" (or "acquired 0" and exits), then waits
        for a line on stdin, prints "locked <1|0>", releases and prints "released".
    python redlock_worker.py try   --ports 7001,7002 --name shared --ttl 10
        prints "acquired <1|0>" for one non-blocking attempt and releases what it got.
    python redlock_worker.py bench --ports 7001,7002 --name bench --count 500 --runs 3
        prints "rate <acquire+release per second>" once per run, after a warm-up.
"""

import argparse
import sys
import time

from pottery import Redlock
from redis import Redis


def masters(ports):
    return {Redis(host="127.0.0.1", port=int(port), socket_timeout=1.0) for port in ports.split(",")}


def lock(args):
    return Redlock(key=args.name, masters=masters(args.ports), auto_release_time=args.ttl)


def hold(args):
    redlock = lock(args)
    acquired = redlock.acquire(blocking=False)
    print(f"acquired {int(acquired)}", flush=True)
    if not acquired:
        return
    sys.stdin.readline()
    print(f"locked {int(redlock.locked() > 0)}", flush=True)
    redlock.release()
    print("released", flush=True)


def attempt(args):
    redlock = lock(args)
    acquired = redlock.acquire(blocking=False)
    print(f"acquired {int(acquired)}", flush=True)
    if acquired:
        redlock.release()


def bench(args):
    redlock = lock(args)
    for _ in range(min(args.count, 100)):
        redlock.acquire()
        redlock.release()
    for _ in range(args.runs):
        start = time.perf_counter()
        for _ in range(args.count):
            redlock.acquire()
            redlock.release()
        elapsed = time.perf_counter() - start
        print(f"rate {args.count / elapsed:.1f}", flush=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["hold", "try", "bench"])
    parser.add_argument("--ports", required=True)
    parser.add_argument("--name", default="shared")
    parser.add_argument("--ttl", type=float, default=10.0)
    parser.add_argument("--count", type=int, default=500)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    {"hold": hold, "try": attempt, "bench": bench}[args.mode](args)


if __name__ == "__main__":
    main()
