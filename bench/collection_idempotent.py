"""Idempotent re-run of N deployed containers vs the same play running a do-nothing module.

Each payment mode gets its own localgrid (fast profile, capacity x10). N containers are deployed once
(untimed, forks=10), then, round by round, the same play re-runs zos_container over them (nothing
may change) and the same play runs bench_noop, a module importing what zos_container imports and
doing nothing (not ``debug``, which never leaves the controller). Both as a loop in one host and as
a host per container with forks=10. Target: zos_container / no-op <= 1.2 (medians).

Usage: python bench/collection_idempotent.py [--count 100] [--rounds 3] [--quick] [--payment free,stellar]
"""

import sys
from statistics import median

from harness import LocalgridProcess, Verdicts, live_nodes, timed_rounds
from options import add_size, arguments, finish_arguments
from playbook_runs import VARIANTS, PlaybookRunner, network_nodes

TARGET = 1.2
CAPACITY = 10
COUNT, QUICK_COUNT = 100, 10


def measure(mode, args, verdicts):
    count = args.count
    with LocalgridProcess(payment=mode, capacity_factor=CAPACITY) as lg, PlaybookRunner(lg) as runner:
        nodes = live_nodes(lg, farm=2)
        identity = runner.prepare("idem-%s.3bot" % mode, network_nodes(nodes))
        indexes = list(range(count))
        deployed = runner.deploy(identity, nodes, "web", indexes)
        verdicts.info("%s payment: %d containers deployed on %d nodes in %.1f s (set-up, forks=%d)"
                      % (mode, count, len(nodes), deployed, 10))
        variants = {}
        cpu = {}

        def timed(variant, playbook):
            seconds = runner.containers(playbook, identity, nodes, "web", indexes, variant, unchanged=True)
            cpu.setdefault((variant, playbook), []).append(runner.last_cpu_seconds)
            return seconds
        for variant in VARIANTS:
            for playbook in ("containers.yml", "noop.yml"):
                variants[(variant, playbook)] = lambda variant=variant, playbook=playbook: timed(variant, playbook)
        medians = timed_rounds(args.rounds, variants)
    for variant in VARIANTS:
        checked, baseline = medians[(variant, "containers.yml")], medians[(variant, "noop.yml")]
        verdicts.info("%s payment, %s: re-run of %d containers %.1f s (%.2f s per container), no-op %.1f s"
                      % (mode, variant, count, checked, checked / count, baseline))
        # Context: CPU follows the work done, while wall time also follows the machine's load of the minute.
        verdicts.info("%s payment, %s: CPU of the ansible-playbook process tree, zos_container/no-op %.2f"
                      % (mode, variant, median(cpu[(variant, "containers.yml")]) / median(cpu[(variant, "noop.yml")])))
        verdicts.at_most("idempotent re-run %s %s payment: zos_container/no-op ratio" % (variant, mode),
                         checked / baseline, TARGET)


def main(argv=None):
    parser = arguments(__doc__.splitlines()[0])
    add_size(parser, "count", COUNT, QUICK_COUNT, "containers")
    args = finish_arguments(parser.parse_args(argv))
    verdicts = Verdicts()
    verdicts.info("%d containers, %d rounds, medians" % (args.count, args.rounds))
    for mode in args.payment:
        measure(mode, args, verdicts)
    return verdicts.exit_status()


if __name__ == "__main__":
    sys.exit(main())
