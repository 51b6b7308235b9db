"""100 containers with payment vs 10: a fleet must deploy in parallel, each container paid once.

On a localgrid in stellar payment mode (fast profile, capacity x10), round by round, a fresh
identity with its network (untimed) deploys SMALL and then another one LARGE containers with
fleet.yml, the layout the guide's "Large fleets" recommends: one zos_containers task that plans,
registers and pays them in threads and waits for all of them once, each container paid from one
wallet through CHANNELS payment channels (payment.channels, as the guide advises for fleets), with
parallel = LARGE (one wave, as the guide advises for a first deployment). Targets: wall time LARGE / SMALL
<= 1.5 (medians), and every container deployed and paid exactly once (the wallet's payments counted per memo
on Horizon). The wallet creates its channels once, on first use: an untimed fleet of SMALL containers does
that before the timed rounds (with --channels 0 it is skipped and the wallet's own sequence number pays).

localgrid runs the simulated runtime unless --runtime namespaces: with the namespaces runtime each node
starts its containers one after the other (about 0.1-0.5 s each on a loaded machine, 100 containers on 4
nodes take longer than the whole collection's work), which is the runtime's start rate (benchmark
`runtime`), not what the collection does.

With --ledger-close SECONDS localgrid closes a ledger every SECONDS and a submission applies at the next
close, as on the public network (about 5 s): one account's payments then take one close each, and the
channels are what keeps the fleet's payments parallel.

Usage: python bench/collection_fleet.py [--small 10] [--large 100] [--channels 100] [--ledger-close 0]
                                        [--rounds 3] [--quick]
"""

import itertools
import re
import sys

from harness import LocalgridProcess, Verdicts, live_nodes, timed_rounds
from options import add_size, arguments, finish_arguments
from payment_audit import audit
from playbook_runs import PlaybookRunner, network_nodes

TARGET = 1.5
CHANNELS = 100  # as many as the wave, as the guide advises
# Every node of farm 2 gets a quarter of the containers (1 vCPU each); its smallest has 4 vCPUs, and 3 rounds of
# 10 + 100 containers stay deployed until the end (the audit reads them): x40 gives it 160.
CAPACITY = 40


def main(argv=None):
    parser = arguments(__doc__.splitlines()[0], payment_modes=("stellar",))
    add_size(parser, "small", 10, 3, "containers of the small fleet")
    add_size(parser, "large", 100, 15, "containers of the large fleet")
    parser.add_argument("--runtime", choices=("simulated", "namespaces"), default="simulated",
                        help="localgrid's container runtime (default: simulated, see above)")
    parser.add_argument("--channels", type=int, default=CHANNELS,
                        help="payment channels of the wallet (default: %d; 0: the wallet's own sequence number)"
                        % CHANNELS)
    parser.add_argument("--ledger-close", type=float, default=None, metavar="SECONDS",
                        help="localgrid's seconds between ledger closes (default: the fast profile's, at once)")
    args = finish_arguments(parser.parse_args(argv))
    verdicts = Verdicts()
    verdicts.info("%d and %d containers, one zos_containers task, parallel %d, %d payment channels, %s runtime, "
                  "a ledger close every %s s, %d rounds, medians"
                  % (args.small, args.large, args.large, args.channels, args.runtime, args.ledger_close or 0,
                     args.rounds))
    with LocalgridProcess(payment="stellar", capacity_factor=CAPACITY, runtime=args.runtime,
                          ledger_close=args.ledger_close) as lg, \
            PlaybookRunner(lg) as runner:
        nodes = live_nodes(lg, farm=2)
        numbers = itertools.count(1)
        identities, expected = [], {}

        def fleet(size):
            identity = runner.prepare("fleet%d-%d.3bot" % (size, next(numbers)), network_nodes(nodes))
            identities.append(identity)
            expected[identity.name] = size
            payment = dict(runner.payment["bench_payment"], channels=args.channels)
            return runner.containers("fleet.yml", identity, nodes, "web", list(range(size)), "loop",
                                     tolerate_failed_hosts=True,
                                     extra={"bench_parallel": args.large, "bench_payment": payment})

        if args.channels:
            verdicts.info("the wallet's channels created by an untimed fleet: %.1f s" % fleet(args.small))
        medians = timed_rounds(args.rounds, {size: (lambda size=size: fleet(size)) for size in (args.small, args.large)})
        verdicts.info("stellar payment: %d containers in %.1f s, %d in %.1f s"
                      % (args.small, medians[args.small], args.large, medians[args.large]))
        verdicts.at_most("fleet with payment: wall time ratio %d/%d containers" % (args.large, args.small),
                         medians[args.large] / medians[args.small], TARGET)
        failed_hosts = sum(count for _playbook, count, _messages in runner.failures)
        # One line per kind of failure: the reservation ids differ, the cause does not.
        messages = sorted({re.sub(r"\d+", "N", found) for _playbook, _count, messages in runner.failures
                           for found in messages})
        verdicts.require("every container task succeeded", not failed_hosts,
                         "%d failed: %s" % (failed_hosts, " | ".join(messages[:3])) if failed_hosts else "")
        deployed, paid_once = audit(lg, runner.payment["bench_payment"]["stellar_secret"], identities, expected)
        verdicts.require("every container deployed", *deployed)
        verdicts.require("every deployed container paid exactly once", *paid_once)
    return verdicts.exit_status()


if __name__ == "__main__":
    sys.exit(main())
