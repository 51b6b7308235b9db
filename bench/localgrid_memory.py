"""Memory of a localgrid process: resident set size idle after start vs after 1000 deployed reservations.

localgrid runs as a subprocess in free payment mode; its RSS (VmRSS of /proc/<pid>/status) is read
once the node agents have reported (idle), and again after 1000 signed volume reservations have
been registered and deployed by the nodes. Target: RSS growth <= 1.25 x (see bench/README.md for
why): state lives in SQLite, so the process itself must not keep reservations in memory.

Usage: python bench/localgrid_memory.py [--count 1000] [--threads 8] [--quick]
"""

import argparse
import sys
import time

from harness import Customer, LocalgridProcess, Verdicts, create_parallel, live_storage_nodes, wait_deployed

GROWTH_TARGET = 1.25
IDLE_SETTLE = 1.0  # seconds for the agents' first reports to be served before the idle reading


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=None, help="reservations to create (default 1000, 200 with --quick)")
    parser.add_argument("--threads", type=int, default=8, help="parallel clients (default 8)")
    parser.add_argument("--quick", action="store_true", help="fewer reservations")
    args = parser.parse_args(argv)
    args.count = args.count or (200 if args.quick else 1000)

    verdicts = Verdicts()
    with LocalgridProcess(payment="free") as lg:
        nodes = live_storage_nodes(lg)
        time.sleep(IDLE_SETTLE)
        idle = lg.rss_mib()
        customer = Customer(lg, "bench-memory.3bot")
        _ids, seconds = create_parallel(lg.explorer_url, customer.volume_bodies(nodes, args.count, "mem"), args.threads)
        waited, pending = wait_deployed(lg, [customer])
        loaded = lg.rss_mib()
        verdicts.info("localgrid pid %d: %d reservations created in %.1f s on %d nodes, deployed %.1f s later"
                      % (lg.pid, args.count, seconds, len(nodes), waited))
        if pending:
            verdicts.info("note: %d reservations never picked up by their node (ids %s), see bench/README.md"
                          % (len(pending), ", ".join(map(str, pending[:10]))))
        verdicts.info("RSS idle: %.1f MiB, after %d reservations: %.1f MiB" % (idle, args.count, loaded))
        verdicts.info("RSS growth per 1000 reservations: %.1f MiB" % ((loaded - idle) * 1000.0 / args.count))
        verdicts.at_most("RSS growth ratio loaded/idle", loaded / idle, GROWTH_TARGET)
    return verdicts.exit_status()


if __name__ == "__main__":
    sys.exit(main())
