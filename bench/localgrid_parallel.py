"""localgrid under parallel clients, and the cost of listing a customer's reservations.

1. Reservation creation: N signed volume reservations registered serially with one client, then N
   more from 8 threads with a client each (like 8 Ansible forks). Every id must be unique and the
   customer's listing must hold exactly the ids that were returned. Target: parallel throughput
   >= 0.8 x serial (SQLite serialises the writes; parallel clients must not make it collapse).
2. Listing: GET /reservations?customer_tid=... through every page (ExplorerClient.get_all, 100 per
   page as the collection lists them) for customers with 10, 100 and 1000 reservations.
   Targets: cost per listed reservation at 1000 <= 2 x the cost at 10, and <= 2 x the cost at 100
   (listing scales linearly; 100 is one full page, so per-request overheads do not hide the trend).

Each part runs on its own fresh localgrid (free payment mode, fast profile) and starts once the
nodes have deployed what was registered before, so background provisioning does not skew it.

Usage: python bench/localgrid_parallel.py [--count 200] [--threads 8]
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

THROUGHPUT_TARGET = 0.80
LISTING_TARGET = 2.0
WARMUP = 10
LISTING_SIZES = (10, 100, 1000)
LISTING_ROUNDS = 3


def settle(lg, customers, verdicts):
    """Let the nodes deploy the backlog so that the next measurement starts on an idle grid."""
    _seconds, pending = wait_deployed(lg, customers)
    if pending:
        verdicts.info("note: %d reservations never picked up by their node (ids %s), see bench/README.md"
                      % (len(pending), ", ".join(map(str, pending[:10]))))


def bench_creation(lg, nodes, verdicts, args):
    count, threads = args.count, args.threads
    customer = Customer(lg, "bench-create.3bot")
    create_serial(lg.explorer_url, customer.volume_bodies(nodes, WARMUP, "warmup"))
    # Each phase starts on an idle grid: the nodes have deployed everything registered before it.
    settle(lg, [customer], verdicts)
    serial_ids, serial_seconds = create_serial(lg.explorer_url, customer.volume_bodies(nodes, count, "serial"))
    settle(lg, [customer], verdicts)
    parallel_ids, parallel_seconds = create_parallel(
        lg.explorer_url, customer.volume_bodies(nodes, count, "parallel"), threads)

    serial_rate, parallel_rate = count / serial_seconds, count / parallel_seconds
    verdicts.info("serial creation: %d reservations in %.2f s, %.1f/s (one client)"
                  % (count, serial_seconds, serial_rate))
    verdicts.info("parallel creation: %d reservations in %.2f s, %.1f/s (%d threads)"
                  % (count, parallel_seconds, parallel_rate, threads))
    created = serial_ids + parallel_ids
    verdicts.require("unique reservation ids", len(set(created)) == len(created),
                     "%d ids, %d distinct" % (len(created), len(set(created))))
    with ExplorerClient(lg.explorer_url) as client:
        listed = {r["id"] for r in client.get_all("/reservations", {"customer_tid": customer.tid}, page_size=1000)}
    expected = len(created) + WARMUP
    verdicts.require("exact reservation count", len(listed) == expected and set(created) <= listed,
                     "%d listed, %d expected" % (len(listed), expected))
    verdicts.at_least("parallel/serial throughput ratio", parallel_rate / serial_rate, THROUGHPUT_TARGET)


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
                times[size] += [timed_listing(size) for _ in range(max(1, LISTING_SIZES[-1] // size // 2))]

    per_item = {}
    for size in LISTING_SIZES:
        per_item[size] = median(times[size]) / size
        verdicts.info("listing %d reservations (%d pages of 100): %.1f ms, %.3f ms per reservation"
                      % (size, -(-size // 100), median(times[size]) * 1e3, per_item[size] * 1e3))
    small, medium, large = LISTING_SIZES
    verdicts.at_most("listing per-item cost ratio %d/%d" % (large, small), per_item[large] / per_item[small],
                     LISTING_TARGET)
    verdicts.at_most("listing per-item cost ratio %d/%d" % (large, medium), per_item[large] / per_item[medium],
                     LISTING_TARGET)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=200, help="reservations per phase (default 200)")
    parser.add_argument("--threads", type=int, default=8, help="parallel clients (default 8)")
    args = parser.parse_args(argv)

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
