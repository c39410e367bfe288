"""Python pottery's RedisDict, RedisSet and RedisCounter, driven by the Rust interop tests.

    python containers_worker.py write --port 7001 --prefix py:
        stores the tricky contents below at py:dict, py:intdict, py:set and py:counter.
    python containers_worker.py check --port 7001 --prefix rs:
        reads rs:dict, rs:intdict, rs:set and rs:counter (written by Rust) with pottery and
        prints "equal <name>" per container, or "differs <name> <what Python read>" and exits 1.

The Rust test defines the same contents independently and compares what each side reads.
"""

import argparse
import sys

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


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("action", choices=["write", "check"])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--prefix", required=True)
    args = parser.parse_args()
    {"write": write, "check": check}[args.action](args)


if __name__ == "__main__":
    main()
