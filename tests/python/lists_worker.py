"""Python pottery's RedisList and RedisDeque, driven by the Rust interoperability tests and
benchmarks.

    python lists_worker.py write --port P
        writes every case of CASES with pottery: RedisList at "py:list:<case>", RedisDeque at
        "py:deque:<case>" (extendleft of the reversed case, so the order is the same).
    python lists_worker.py read --port P
        reads "rs:list:<case>" and "rs:deque:<case>" with pottery and prints
        "equal <kind> <case> True|False" per key, and "sorted True|False" for "rs:sorted".
    python lists_worker.py watch --port P --key K -- COMMAND ARG...
        runs pottery's RedisDeque.rotate(1) on K and, between its WATCH and its MULTI, sends
        COMMAND ARG... on another connection; prints "aborted" (WatchError) or "committed".
    python lists_worker.py semantics --port P < cases
        reads one JSON case per line ({"start": [...], "op": ..., ...}), applies it to a Python
        list or collections.deque, and prints one JSON line per case: {"after": [...],
        "length": n, "popped": element or null}: the list afterwards, its length (the reply of
        every command but POP) and the popped element (POP's reply).
    python lists_worker.py bench --port P --op OP --size N --count C --iterated I --runs R
        OP is push, len, index, insert, pop (at N // 2), iterate (elements of an I-element
        list), rotate or append (to a deque bounded at N); prints "rate <operations per second>" once per run,
        after a warm-up.

CASES must stay equal to `cases()` in tests/tests/interop/lists.rs.
"""

import argparse
import collections
import json
import math
import sys
import time
import warnings

from pottery import RedisDeque, RedisList
from redis import Redis
from redis.client import Pipeline
from redis.exceptions import WatchError

CASES = {
    "strings": ["", "a", "é", "🦀 crab", "\x7f", "\x00", '\n\t"\\/', "日本語", "\ud7ff", "\U0010ffff"],
    "integers": [0, -1, 2**53 + 1, -(2**63), 2**63 - 1, 2**64, -(2**64) - 5],
    "floats": [0.1, 1e16, 1e-05, -0.0, 1e308, 1.5, float("inf"), float("-inf"), 5e-324],
    "pairs": [["a", [1, 2]], ["", []], ["🦀", [-7]]],
    "maps": [{10: "a", 9: "b"}, {}, {-1: "", 100: "x"}],
    "options": [True, False, None],
}


def redis(port):
    return Redis(host="127.0.0.1", port=port, socket_timeout=10.0)


def same(left, right):
    # -0.0 == 0.0 in Python; compare floats by their repr so a lost sign is caught.
    if isinstance(left, float) and isinstance(right, float):
        return repr(left) == repr(right) or (math.isnan(left) and math.isnan(right))
    if isinstance(left, dict) and isinstance(right, dict):
        # JSON object keys are strings: pottery itself reads {10: "a"} back as {"10": "a"}.
        return left == {str(key): value for key, value in right.items()}
    if isinstance(left, (list, tuple)) and isinstance(right, (list, tuple)):
        return len(left) == len(right) and all(same(a, b) for a, b in zip(left, right))
    return type(left) is type(right) and left == right


def write(args):
    r = redis(args.port)
    for name, values in CASES.items():
        RedisList(values, redis=r, key=f"py:list:{name}")
        deque = RedisDeque(redis=r, key=f"py:deque:{name}")
        deque.extendleft(reversed(values))
    print("written")


def read(args):
    r = redis(args.port)
    for name, values in CASES.items():
        for kind, container in (("list", RedisList), ("deque", RedisDeque)):
            stored = container(redis=r, key=f"rs:{kind}:{name}")
            print(f"equal {kind} {name} {same(list(stored), values)}")
    stored = RedisList(redis=r, key="rs:sorted")
    print(f"sorted {list(stored) == sorted(CASES['strings'])}")


def watch(args):
    r = redis(args.port)
    other = redis(args.port)
    deque = RedisDeque(redis=r, key=args.key)
    original_multi = Pipeline.multi

    def multi_after_intrusion(pipeline):
        # pottery has WATCHed the key and read it; our command lands before its MULTI/EXEC.
        other.execute_command(*args.command)
        return original_multi(pipeline)

    Pipeline.multi = multi_after_intrusion
    try:
        deque.rotate(1)
        print("committed")
    except WatchError:
        print("aborted")
    finally:
        Pipeline.multi = original_multi


def semantics(args):
    for line in sys.stdin:
        case = json.loads(line)
        start, op = case["start"], case["op"]
        if op == "insert":
            items = list(start)
            items.insert(case["index"], case["value"])
            reply = len(items)
        elif op == "pop":
            items = list(start)
            try:
                reply = items.pop(case["index"])
            except IndexError:
                reply = None
        elif op == "setslice":
            items = list(start)
            items[case["start_index"] : case["stop_index"]] = case["values"]
            reply = len(items)
        elif op == "rotate":
            items = collections.deque(start)
            items.rotate(case["n"])
            reply = len(items)
        elif op == "push":
            maxlen = None if case["maxlen"] == -1 else case["maxlen"]
            items = collections.deque(start, maxlen=maxlen)
            if case["left"]:
                items.extendleft(case["values"])
            else:
                items.extend(case["values"])
            reply = len(items)
        else:
            raise SystemExit(f"unknown op {op}")
        popped = reply if op == "pop" else None
        print(json.dumps({"length": len(items), "popped": popped, "after": list(items)}))


def bench(args):
    warnings.simplefilter("ignore")  # pottery warns that index access is inefficient
    r = redis(args.port)
    for key in ("bench:py", "bench:py:push", "bench:py:iter"):
        r.delete(key)
    size = args.size
    items = RedisList(range(size), redis=r, key="bench:py")
    pushed = RedisList(redis=r, key="bench:py:push")
    iterated = RedisList(range(args.iterated), redis=r, key="bench:py:iter")
    deque = RedisDeque(redis=r, key="bench:py")
    capped = RedisDeque(redis=r, key="bench:py", maxlen=size)

    def prepare():
        # pop removes count elements per run: they are put back first, untimed.
        if args.op == "pop":
            items.extend(range(args.count))

    def run_once():
        if args.op == "push":
            for i in range(args.count):
                pushed.append(i)
        elif args.op == "len":
            for _ in range(args.count):
                len(items)
        elif args.op == "index":
            for i in range(args.count):
                items[(i * 7919) % size]
        elif args.op == "insert":
            for i in range(args.count):
                items.insert(size // 2, i)
        elif args.op == "pop":
            for _ in range(args.count):
                items.pop(size // 2)
        elif args.op == "iterate":
            for _ in iterated:
                pass
        elif args.op == "rotate":
            for _ in range(args.count):
                deque.rotate(1)
        elif args.op == "append":
            for i in range(args.count):
                capped.append(i)
        else:
            raise SystemExit(f"unknown op {args.op}")

    prepare()
    run_once()  # warm-up
    for _ in range(args.runs):
        prepare()
        started = time.perf_counter()
        run_once()
        elapsed = time.perf_counter() - started
        operations = args.iterated if args.op == "iterate" else args.count
        print(f"rate {operations / elapsed}")
        sys.stdout.flush()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["write", "read", "watch", "semantics", "bench"])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--key", default="w")
    parser.add_argument("--op", default="index")
    parser.add_argument("--size", type=int, default=1000)
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--iterated", type=int, default=10000)
    argv = sys.argv[1:]
    # Everything after "--" is the intruding command of `watch`, passed through verbatim.
    split = argv.index("--") if "--" in argv else len(argv)
    args = parser.parse_args(argv[:split])
    args.command = argv[split + 1 :]
    modes = {"write": write, "read": read, "watch": watch, "semantics": semantics, "bench": bench}
    modes[args.mode](args)


if __name__ == "__main__":
    main()
