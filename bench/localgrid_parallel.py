"""localgrid under parallel clients, and the cost of listing a customer's reservations.

1. Reservation creation: N signed volume reservations registered serially with one client, then N
   more from 8 threads with a client each (like 8 Ansible forks). Every id must be unique and the
   customer's listing must hold exactly the ids that were returned. Target: parallel throughput
   >= 0.8 x serial (SQLite serialises the writes; parallel clients must not make it collapse).
2. Listing: GET /reservations?customer_tid=... through every page (ExplorerClient.get_all, 100 per
   page as the collection lists them) for a customer with 10 and one with 1000 reservations.
   Target: cost per listed reservation at 1000 <= 2 x the cost at 10 (listing scales linearly).

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
SMALL, LARGE = 10, 1000
LISTING_ROUNDS = 5
SMALL_PER_ROUND = 5


def settle(lg, customers, verdicts):
    """Let the nodes deploy the backlog so that the next measurement starts on an idle grid."""
    seconds, pending = wait_deployed(lg, customers)
    if pending:
        verdicts.info("note: %d reservations never picked up by their node (ids %s), see bench/README.md"
                      % (len(pending), ", ".join(map(str, pending[:10]))))
    return seconds


def bench_creation(lg, nodes, verdicts, count, threads):
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


def bench_listing(lg, nodes, verdicts, threads):
    small, large = Customer(lg, "bench-list-small.3bot"), Customer(lg, "bench-list-large.3bot")
    create_parallel(lg.explorer_url, small.volume_bodies(nodes, SMALL, "small"), threads)
    create_parallel(lg.explorer_url, large.volume_bodies(nodes, LARGE, "large"), threads)
    settle(lg, [small, large], verdicts)  # measure listing on an idle grid

    small_times, large_times = [], []
    with ExplorerClient(lg.explorer_url) as client:

        def timed_listing(customer, expected):
            started = time.perf_counter()
            found = client.get_all("/reservations", {"customer_tid": customer.tid})
            elapsed = time.perf_counter() - started
            if len(found) != expected:
                raise AssertionError("listed %d reservations, expected %d" % (len(found), expected))
            return elapsed

        timed_listing(small, SMALL)  # warm-up
        # Interleaved rounds: both sizes see the same background load of a shared machine.
        for _round in range(LISTING_ROUNDS):
            small_times += [timed_listing(small, SMALL) for _ in range(SMALL_PER_ROUND)]
            large_times.append(timed_listing(large, LARGE))

    small_item, large_item = median(small_times) / SMALL, median(large_times) / LARGE
    verdicts.info("listing %d reservations: %.1f ms (%.3f ms each)" % (SMALL, median(small_times) * 1e3, small_item * 1e3))
    verdicts.info("listing %d reservations: %.1f ms (%.3f ms each, %d pages)"
                  % (LARGE, median(large_times) * 1e3, large_item * 1e3, LARGE // 100))
    verdicts.at_most("listing per-item cost ratio 1000/10", large_item / small_item, LISTING_TARGET)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=200, help="reservations per phase (default 200)")
    parser.add_argument("--threads", type=int, default=8, help="parallel clients (default 8)")
    args = parser.parse_args(argv)

    verdicts = Verdicts()
    with LocalgridProcess(payment="free") as lg:
        nodes = live_storage_nodes(lg)
        verdicts.info("localgrid pid %d at %s, volumes on %d nodes" % (lg.pid, lg.base_url, len(nodes)))
        bench_creation(lg, nodes, verdicts, args.count, args.threads)
        bench_listing(lg, nodes, verdicts, args.threads)
    return verdicts.exit_status()


if __name__ == "__main__":
    sys.exit(main())
