"""localgrid under parallel clients, and the cost of paging through a customer's reservations.

1. Reservation creation: 200 signed volume reservations registered serially with one client (for
   context), then N (1000) from 8 threads with a client each (like 8 Ansible forks). Every id must be
   unique and the customer's listing must hold exactly the ids that were returned. Targets: >= 200
   creates/s from the 8 clients, and the nodes have deployed all N within 10 s of the last one.
2. Listing: GET /reservations?customer_tid=... through every page (ExplorerClient.get_all, 100 per
   page) for customers with 100 and 1000 reservations. Target: cost per listed reservation at 1000
   <= 2 x the cost at 100 (paging stays linear: no page re-renders what the pages before it did).
   The collection must not list a fleet to check one container; collection_flat.py measures that.

Each part runs on its own fresh localgrid (free payment mode, fast profile) and starts once the
nodes have deployed what was registered before, so background provisioning does not skew it.

Usage: python bench/localgrid_parallel.py [--count 1000] [--threads 8] [--quick]
"""

import argparse
import sys
import time

from harness import (
    Customer,
    ExplorerClient,
    LocalgridProcess,
    Verdicts,
    create_parallel,
    create_serial,
    live_storage_nodes,
    median,
    wait_deployed,
)

RATE_TARGET = 200.0
DEPLOY_TARGET = 10.0
LISTING_TARGET = 2.0
WARMUP = 10
SERIAL_COUNT = 200
LISTING_SIZES = (100, 1000)
LISTING_ROUNDS = 3


def settle(lg, customers, verdicts):
    """Let the nodes deploy the backlog so that the next measurement starts on an idle grid; returns
    (seconds waited, reservations never deployed)."""
    seconds, pending = wait_deployed(lg, customers)
    if pending:
        verdicts.info("note: %d reservations never picked up by their node (ids %s), see bench/README.md"
                      % (len(pending), ", ".join(map(str, pending[:10]))))
    return seconds, pending


def bench_creation(lg, nodes, verdicts, args):
    count, threads = args.count, args.threads
    customer = Customer(lg, "bench-create.3bot")
    create_serial(lg.explorer_url, customer.volume_bodies(nodes, WARMUP, "warmup"))
    # Each phase starts on an idle grid: the nodes have deployed everything registered before it.
    settle(lg, [customer], verdicts)
    serial_ids, serial_seconds = create_serial(lg.explorer_url, customer.volume_bodies(nodes, SERIAL_COUNT, "serial"))
    settle(lg, [customer], verdicts)
    parallel_ids, parallel_seconds = create_parallel(
        lg.explorer_url, customer.volume_bodies(nodes, count, "parallel"), threads)
    deploy_seconds, never = settle(lg, [customer], verdicts)

    serial_rate, parallel_rate = SERIAL_COUNT / serial_seconds, count / parallel_seconds
    verdicts.info("serial creation: %d reservations in %.2f s, %.1f/s (one client)"
                  % (SERIAL_COUNT, serial_seconds, serial_rate))
    verdicts.info("parallel creation: %d reservations in %.2f s, %.1f/s (%d threads), %.2f x serial"
                  % (count, parallel_seconds, parallel_rate, threads, parallel_rate / serial_rate))
    created = serial_ids + parallel_ids
    verdicts.require("unique reservation ids", len(set(created)) == len(created),
                     "%d ids, %d distinct" % (len(created), len(set(created))))
    with ExplorerClient(lg.explorer_url) as client:
        listed = {r["id"] for r in client.get_all("/reservations", {"customer_tid": customer.tid}, page_size=1000)}
    expected = len(created) + WARMUP
    verdicts.require("exact reservation count", len(listed) == expected and set(created) <= listed,
                     "%d listed, %d expected" % (len(listed), expected))
    verdicts.at_least("reservation creates/s from %d clients" % threads, parallel_rate, RATE_TARGET)
    # A reservation the nodes never deploy counts as never: the figure is then infinite.
    verdicts.at_most("seconds until the nodes deployed %d reservations" % count,
                     float("inf") if never else deploy_seconds, DEPLOY_TARGET)


def bench_listing(lg, nodes, verdicts, args):
    threads = args.threads
    customers = {size: Customer(lg, "bench-list-%d.3bot" % size) for size in LISTING_SIZES}
    for size, customer in customers.items():
        create_parallel(lg.explorer_url, customer.volume_bodies(nodes, size, "list%d" % size), threads)
    settle(lg, list(customers.values()), verdicts)  # measure listing on an idle grid

    times = {size: [] for size in LISTING_SIZES}
    with ExplorerClient(lg.explorer_url) as client:

        def timed_listing(size):
            started = time.perf_counter()
            found = client.get_all("/reservations", {"customer_tid": customers[size].tid})
            elapsed = time.perf_counter() - started
            if len(found) != size:
                raise AssertionError("listed %d reservations, expected %d" % (len(found), size))
            return elapsed

        timed_listing(LISTING_SIZES[0])  # warm-up
        # Interleaved rounds: every size sees the same background load of a shared machine; the
        # small listings are repeated so that each size costs about the same wall time.
        for _round in range(LISTING_ROUNDS):
            for size in LISTING_SIZES:
                times[size] += [timed_listing(size) for _repeat in range(max(1, LISTING_SIZES[-1] // size // 2))]

    per_item = {}
    for size in LISTING_SIZES:
        per_item[size] = median(times[size]) / size
        verdicts.info("listing %d reservations (%d pages of 100): %.1f ms, %.3f ms per reservation"
                      % (size, -(-size // 100), median(times[size]) * 1e3, per_item[size] * 1e3))
    small, large = LISTING_SIZES
    verdicts.at_most("listing per-item cost ratio %d/%d" % (large, small), per_item[large] / per_item[small],
                     LISTING_TARGET)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=None,
                        help="reservations registered in parallel (default 1000, 200 with --quick)")
    parser.add_argument("--threads", type=int, default=8, help="parallel clients (default 8)")
    parser.add_argument("--quick", action="store_true", help="fewer reservations")
    args = parser.parse_args(argv)
    args.count = args.count or (200 if args.quick else 1000)

    verdicts = Verdicts()
    # One localgrid per part, so that the nodes have room for every volume of that part.
    for part in (bench_creation, bench_listing):
        with LocalgridProcess(payment="free") as lg:
            nodes = live_storage_nodes(lg)
            verdicts.info("localgrid pid %d at %s, volumes on %d nodes" % (lg.pid, lg.base_url, len(nodes)))
            part(lg, nodes, verdicts, args)
    return verdicts.exit_status()


if __name__ == "__main__":
    sys.exit(main())
