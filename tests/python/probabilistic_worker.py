"""Python pottery's BloomFilter and HyperLogLog, timed for `scripts/bench probabilistic`.

    python probabilistic_worker.py bloom-add      --port 7001 --count 2000 --runs 3
    python probabilistic_worker.py bloom-contains --port 7001 --count 2000 --runs 3
    python probabilistic_worker.py hll-contains   --port 7001 --count 2000 --runs 3
prints "rate <operations per second>" once per run, after a warm-up. Each run uses fresh
elements; contains probes half present, half absent elements.
"""

import argparse

import time

from pottery import BloomFilter, HyperLogLog
from redis import Redis


def timed(runs, count, operation):
    for i in range(min(count, 200)):
        operation(f"warm-{i}")
    for run in range(runs):
        start = time.perf_counter()
        for i in range(count):
            operation(f"run-{run}-{i}")
        elapsed = time.perf_counter() - start
        print(f"rate {count / elapsed:.1f}", flush=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["bloom-add", "bloom-contains", "hll-contains"])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    redis = Redis(host="127.0.0.1", port=args.port)
    capacity = 10 * (args.count * args.runs + 200)
    if args.mode == "bloom-add":
        bloom = BloomFilter(redis=redis, key="bench:pottery:bloom-add", num_elements=capacity, false_positives=0.01)
        timed(args.runs, args.count, bloom.add)
    elif args.mode == "bloom-contains":
        bloom = BloomFilter(redis=redis, key="bench:pottery:bloom-contains", num_elements=capacity, false_positives=0.01)
        bloom.update(f"run-{run}-{i}" for run in range(args.runs) for i in range(0, args.count, 2))
        timed(args.runs, args.count, lambda element: element in bloom)
    else:
        hll = HyperLogLog(redis=redis, key="bench:pottery:hll")
        hll.update(f"run-{run}-{i}" for run in range(args.runs) for i in range(0, args.count, 2))
        timed(args.runs, args.count, lambda element: element in hll)


if __name__ == "__main__":
    main()
