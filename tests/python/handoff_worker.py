"""Eight Python clients contending for one lock, for `scripts/bench handoff`.

    python handoff_worker.py --kind redis-lock --ports 7001 --clients 8 --seconds 5
    python handoff_worker.py --kind pottery --ports 7001,7002 --clients 8 --seconds 5

`redis-lock` is the python-redis-lock package (SET NX, waiters woken through a list with
BLPOP); `pottery` is Python pottery 3.0.1's Redlock (polling). Each client acquires, does a
GET and SET on a counter, releases, and goes again. Prints one line:
    result <acquisitions> <hand-offs> <longest wait ms> <longest hold ms> <lost increments>
"""

import argparse
import threading
import time

from redis import Redis


def connect(port):
    return Redis(host="127.0.0.1", port=int(port), socket_timeout=30.0)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--kind", choices=["redis-lock", "pottery"], required=True)
    parser.add_argument("--ports", required=True)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()
    ports = args.ports.split(",")
    name = f"bench-handoff-{args.kind}"
    holders = []
    waits = []
    holds = []
    record = threading.Lock()
    end = time.monotonic() + args.seconds
    counter = f"{name}:counter"
    connect(ports[0]).delete(counter)

    def client(index):
        work = connect(ports[0])
        if args.kind == "redis-lock":
            import redis_lock

            lock = redis_lock.Lock(connect(ports[0]), name, expire=10)
            acquire = lambda left: lock.acquire(blocking=True, timeout=max(left, 0.001))
            release = lock.release
        else:
            from pottery import Redlock

            lock = Redlock(key=name, masters={connect(port) for port in ports}, auto_release_time=10)
            acquire = lambda left: lock.acquire(blocking=True, timeout=max(left, 0.001))
            release = lock.release
        while True:
            start = time.monotonic()
            left = end - start
            if left <= 0:
                return
            if not acquire(left):
                continue
            got = time.monotonic()
            value = int(work.get(counter) or 0)
            work.set(counter, value + 1)
            held = time.monotonic()
            release()
            with record:
                holders.append(index)
                waits.append(got - start)
                holds.append(held - got)

    threads = [threading.Thread(target=client, args=(index,)) for index in range(args.clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    hand_offs = sum(1 for a, b in zip(holders, holders[1:]) if a != b)
    lost = len(holders) - int(connect(ports[0]).get(counter) or 0)
    print(
        "result {} {} {:.3f} {:.3f} {}".format(
            len(holders),
            hand_offs,
            max(waits, default=0) * 1000,
            max(holds, default=0) * 1000,
            lost,
        ),
        flush=True,
    )


if __name__ == "__main__":
    main()
