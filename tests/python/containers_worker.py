"""Python pottery's RedisDict, RedisSet and RedisCounter, driven by the Rust interop tests.

    python containers_worker.py write --port 7001 --prefix py:
        stores the tricky contents below at py:dict, py:intdict, py:set and py:counter.
    python containers_worker.py check --port 7001 --prefix rs:
        reads rs:dict, rs:intdict, rs:set and rs:counter (written by Rust) with pottery and
        prints "equal <name>" per container, or "differs <name> <what Python read>" and exits 1.

    python containers_worker.py bench --port 7001 --case dict.get --count 2000
        runs one benchmark case (see bench_setup) on its own keys: a warm-up, then --runs timed
        runs (default 3) of --count operations, printing "rate <operations per second>" per run.

The Rust test defines the same contents independently and compares what each side reads.
"""

import argparse
import sys
import time
import warnings

from pottery import RedisCounter, RedisDict, RedisSet
from redis import Redis

DICT = {
    "é": [1, 2.5, None],
    "😀": {"nested": {"z": 1, "a": -0.0}},
    "tab\t\x7f": True,
    "big": 2**70,
    "neg_big": -(2**65),
    "float": 1e16,
    "small": 1e-05,
    "inf": float("inf"),
    "": "",
    'quote"\\/': "/",
    "deep": [[{"b": [], "a": {}}]],
}
INT_DICT = {10: "ten", 9: "nine", -1: [True, False], 2**40: 0.1}
SET = {"é", "😀", "ctrl\x01\x7f", 2**70, -0.5, 1e16, True, None, "1"}
COUNTER = {"é": 3, "😀": -2, "a": 0, "zebra": 2**62}


def connect(port):
    return Redis(host="127.0.0.1", port=port, socket_timeout=5.0)


def write(args):
    redis = connect(args.port)
    RedisDict(DICT, redis=redis, key=args.prefix + "dict")
    RedisDict(INT_DICT, redis=redis, key=args.prefix + "intdict")
    RedisSet(SET, redis=redis, key=args.prefix + "set")
    RedisCounter(COUNTER, redis=redis, key=args.prefix + "counter")


def check(args):
    redis = connect(args.port)
    read = {
        "dict": (RedisDict(redis=redis, key=args.prefix + "dict").to_dict(), DICT),
        "intdict": (RedisDict(redis=redis, key=args.prefix + "intdict").to_dict(), INT_DICT),
        "set": (RedisSet(redis=redis, key=args.prefix + "set").to_set(), SET),
        "counter": (dict(RedisCounter(redis=redis, key=args.prefix + "counter").to_counter()), COUNTER),
    }
    failed = False
    for name, (found, expected) in read.items():
        if found == expected:
            print("equal " + name)
        else:
            print("differs " + name + " " + repr(found))
            failed = True
    sys.exit(1 if failed else 0)


def bench_setup(redis, prefix):
    """Fresh containers for the benchmark, filled like the Rust side's."""
    for key in redis.scan_iter(prefix + "*"):
        redis.unlink(key)
    dict_ = RedisDict({"field": "value"}, redis=redis, key=prefix + "dict")
    big_dict = RedisDict({n: n * 2 for n in range(1000)}, redis=redis, key=prefix + "bigdict")
    set_ = RedisSet({"member"}, redis=redis, key=prefix + "set")
    big_set = RedisSet(range(1000), redis=redis, key=prefix + "bigset")
    other_set = RedisSet(range(500, 1500), redis=redis, key=prefix + "otherset")
    counter = RedisCounter({"element": 1}, redis=redis, key=prefix + "counter")
    elements = [f"e{n}" for n in range(10)]
    return {
        "dict.get": lambda: dict_["field"],
        "dict.put": lambda: dict_.__setitem__("field", "value"),
        "dict.contains_key": lambda: "field" in dict_,
        "dict.len": lambda: len(dict_),
        "set.insert": lambda: set_.add("member"),
        "set.contains": lambda: "member" in set_,
        "set.len": lambda: len(set_),
        "counter.get": lambda: counter["element"],
        # c[k] += 1: an HGET then an HSET, which loses updates under contention...
        "counter.increment": lambda: counter.__setitem__("element", counter["element"] + 1),
        # ...so the safe way is update(), under WATCH.
        "counter.increment_atomic": lambda: counter.update({"element": 1}),
        "counter.update10": lambda: counter.update(elements),
        "dict.iterate1000": lambda: list(big_dict.items()),
        "set.iterate1000": lambda: list(big_set),
        "set.intersection1000": lambda: big_set.intersection(other_set),
        # pottery 3.0.1 raises NotImplementedError for symmetric_difference: a Python user
        # combines two snapshots.
        "set.symmetric_difference1000": lambda: big_set.to_set() ^ other_set.to_set(),
    }


def bench(args):
    warnings.simplefilter("ignore")
    redis = connect(args.port)
    operation = bench_setup(redis, "bench:py:")[args.case]
    for _ in range(args.count // 10 + 1):
        operation()
    for _ in range(args.runs):
        start = time.perf_counter()
        for _ in range(args.count):
            operation()
        elapsed = time.perf_counter() - start
        print(f"rate {args.count / elapsed:.1f}", flush=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("action", choices=["write", "check", "bench"])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--prefix", default="")
    parser.add_argument("--case", default="")
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    {"write": write, "check": check, "bench": bench}[args.action](args)


if __name__ == "__main__":
    main()
