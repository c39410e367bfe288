"""Python pottery's NextID, driven by the Rust interoperability tests and benchmarks.

    python nextid_worker.py ids    --ports 7001,7002 --name shared --count 200 --threads 4
        prints "id <n>" per ID handed out and "quorum_failures <k>" at the end.
    python nextid_worker.py bench  --ports 7001,7002 --name bench --count 2000 --runs 3
        prints "rate <ids per second>" once per run, after a warm-up.
"""

import argparse
import sys
import threading
import time

from pottery import NextID, QuorumNotAchieved
from redis import Redis


def masters(ports):
    return {Redis(host="127.0.0.1", port=int(port), socket_timeout=1.0) for port in ports.split(",")}


def hand_out_ids(args):
    lock = threading.Lock()
    failures = 0
    out = []

    def worker():
        nonlocal failures
        ids = NextID(key=args.name, masters=masters(args.ports))
        mine, missed = [], 0
        for _ in range(args.count):
            try:
                mine.append(next(ids))
            except QuorumNotAchieved:
                # pottery gives up after its 3 tries under contention: counted, not a failure.
                missed += 1
        with lock:
            out.extend(mine)
            failures += missed

    threads = [threading.Thread(target=worker) for _ in range(args.threads)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    sys.stdout.write("".join(f"id {n}\n" for n in out))
    print(f"quorum_failures {failures}")


def bench(args):
    ids = NextID(key=args.name, masters=masters(args.ports))
    for _ in range(min(args.count, 200)):
        next(ids)
    for _ in range(args.runs):
        start = time.perf_counter()
        for _ in range(args.count):
            next(ids)
        elapsed = time.perf_counter() - start
        print(f"rate {args.count / elapsed:.1f}", flush=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["ids", "bench"])
    parser.add_argument("--ports", required=True)
    parser.add_argument("--name", default="current")
    parser.add_argument("--count", type=int, default=100)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    hand_out_ids(args) if args.mode == "ids" else bench(args)


if __name__ == "__main__":
    main()
