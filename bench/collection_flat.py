"""A re-run of one container does not grow with the fleet: 10, 300 and 1,000 live reservations.

Each payment mode gets its own localgrid (fast profile, capacity x10) and three identities, each with
a network and one container deployed by containers.yml (untimed), DELETED signed-and-deleted volume
reservations registered before them (default 10,000 each: the history of a long-lived identity)
and live volume reservations after them, so that each identity holds 10, 300 and 1,000 live
reservations. Reservations are seeded over HTTP with the collection's ExplorerClient and Identity,
8 clients at a time, and carry the collection's metadata tag, as if zos_volume had made them.

Then, round by round, containers.yml re-checks the container CHECKS times in one play per identity
(several checks amortise the few seconds ansible-playbook takes to start); nothing may change.
One more run per identity goes through a counting proxy for the requests and bytes of one task.
Targets: time ratio 1000/10 <= 1.1 and requests per task 1000/10 <= 1.0 (constant).

Usage: python bench/collection_flat.py [--deleted 10000] [--rounds 3] [--quick] [--payment free,stellar]
"""

import sys

from counting_proxy import CountingProxy
from harness import (
    Customer,
    LocalgridProcess,
    Verdicts,
    create_parallel,
    delete_parallel,
    live_nodes,
    timed_rounds,
)
from options import add_size, arguments, finish_arguments
from playbook_runs import PlaybookRunner, network_nodes

TIME_TARGET = 1.1
REQUEST_TARGET = 1.0
CAPACITY = 10
SIZES = (10, 300, 1000)
CHECKS = 5
THREADS = 8
DELETED, QUICK_DELETED = 10000, 300
# Live reservations the play registers itself: the network and the container.
OWN_RESERVATIONS = 2


def seed(lg, runner, nodes, size, deleted, verdicts):
    """An identity with ``deleted`` deleted and ``size`` live reservations, one of them the container."""
    identity = runner.prepare("flat%d-%s.3bot" % (size, lg.payment), network_nodes(nodes[:1]))
    customer = Customer(lg, identity.name, identity.seed_file)
    bodies = customer.volume_bodies(nodes, deleted, "old")
    ids, created = create_parallel(lg.explorer_url, bodies, THREADS)
    _ids, cancelled = delete_parallel(customer, bodies, ids, THREADS)
    # In free mode the nodes find work by scanning, and a scan that meets more than 200 new workloads
    # skips the rest for good (bench/README.md): the container is registered once they have caught up.
    lg.wait_quiet(timeout=600)
    runner.deploy(identity, nodes[:1], "web", [0])
    _ids, live = create_parallel(lg.explorer_url, customer.volume_bodies(nodes, size - OWN_RESERVATIONS, "live"),
                                 THREADS)
    verdicts.info("%s payment, %d live: %d deleted reservations registered in %.1f s, deleted in %.1f s, "
                  "%d live ones in %.1f s"
                  % (lg.payment, size, deleted, created, cancelled, size - OWN_RESERVATIONS, live))
    return identity


def measure(mode, args, verdicts):
    with LocalgridProcess(payment=mode, capacity_factor=CAPACITY) as lg, PlaybookRunner(lg) as runner:
        nodes = live_nodes(lg, farm=2)
        identities = {size: seed(lg, runner, nodes, size, args.deleted, verdicts) for size in SIZES}
        verdicts.info("%s payment: localgrid settled %.1f s after seeding" % (mode, lg.wait_quiet()))

        def recheck(size, via=None):
            return runner.containers("containers.yml", identities[size], nodes[:1], "web", [0] * CHECKS, "loop",
                                     via=via, unchanged=True)

        medians = timed_rounds(args.rounds, {size: (lambda size=size: recheck(size)) for size in SIZES})
        traffic = {}
        with CountingProxy(lg.base_url) as proxy:
            for size in SIZES:
                # Through the proxy the explorer URL is another one, so its name index starts empty: a first
                # play fills it (one listing), the counted play then checks as the timed ones do.
                recheck(size, via=proxy.base_url)
                proxy.reset()
                recheck(size, via=proxy.base_url)
                traffic[size] = [value / CHECKS for value in proxy.counts()]
    for size in SIZES:
        requests, sent, received = traffic[size]
        verdicts.info("%s payment, %d live: %.2f s per play of %d checks, per check %.1f requests, %.1f kB sent, "
                      "%.1f kB received" % (mode, size, medians[size], CHECKS, requests, sent / 1e3, received / 1e3))
    small, large = SIZES[0], SIZES[-1]
    verdicts.at_most("re-run of one container %s payment: time ratio %d/%d live" % (mode, large, small),
                     medians[large] / medians[small], TIME_TARGET)
    verdicts.at_most("re-run of one container %s payment: requests per task ratio %d/%d live" % (mode, large, small),
                     traffic[large][0] / traffic[small][0], REQUEST_TARGET)


def main(argv=None):
    parser = arguments(__doc__.splitlines()[0])
    add_size(parser, "deleted", DELETED, QUICK_DELETED, "deleted reservations per identity")
    args = finish_arguments(parser.parse_args(argv))
    verdicts = Verdicts()
    verdicts.info("%d checks per play, %d rounds, medians; %d deleted reservations per identity"
                  % (CHECKS, args.rounds, args.deleted))
    for mode in args.payment:
        measure(mode, args, verdicts)
    return verdicts.exit_status()


if __name__ == "__main__":
    sys.exit(main())
