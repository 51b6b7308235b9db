"""One container end to end through ansible-playbook vs the same requests from a bare script.

Each payment mode gets its own localgrid (fast profile). Round by round, a fresh identity runs
playbooks/end_to_end.yml (identity, network, volume, container, each paid in stellar mode and waited
for with the modules' default wait options), and another fresh identity runs end_to_end_floor.py,
which sends the same registrations, payments and reads and polls every 50 ms. Both are separate
processes, timed from outside. The floor is the script's median plus one node poll interval of the
profile (a client cannot learn of a deployment sooner than the node reports it). Target: play / floor
<= 1.3.

Three more variants say where the rest goes: the same four tasks with do-nothing modules that import
what each zos_* module imports (end_to_end_noop.yml: Ansible plus the collection's imports, before any
grid work), with four do-nothing modules that import nothing of the collection (end_to_end_bare.yml:
Ansible alone, the part of the play no change to the collection can remove) and, for comparison with
earlier figures, with ansible.builtin.ping (end_to_end_ping.yml). Both do-nothing plays run four
different modules, as end_to_end.yml does: Ansible builds each module's payload (its own module_utils
and the collection's) once per play, so four ping tasks, one module, leave three of those builds out.
What the collection adds, play minus the bare play, is held to the same 1.3 x the floor: it is the
collection's imports and grid work against the script's imports and grid work.

Usage: python bench/collection_end_to_end.py [--rounds 3] [--quick] [--payment free,stellar]
"""

import os
import pathlib
import subprocess
import sys
import time

from harness import LocalgridProcess, Verdicts, live_nodes, timed_rounds
from options import arguments, finish_arguments
from playbook_runs import PlaybookRunner

TARGET = 1.3
FLOOR_SCRIPT = pathlib.Path(__file__).resolve().parent / "end_to_end_floor.py"


def measure(mode, args, verdicts):
    with LocalgridProcess(payment=mode) as lg, PlaybookRunner(lg) as runner:
        node = live_nodes(lg, farm=2)[0]
        payment = runner.payment
        env = dict(os.environ, NO_PROXY="127.0.0.1,localhost")
        if payment:
            env["BENCH_STELLAR_SECRET"] = payment["bench_payment"]["stellar_secret"]
        runs = []

        def play():
            runs.append(len(runs))
            name = "e2e-play-%d.3bot" % len(runs)
            return runner.run("end_to_end.yml", extra_vars=dict(
                payment, bench_identity_name=name, bench_seed_file=str(runner.dir / (name + ".seed")), bench_node=node))

        def floor():
            runs.append(len(runs))
            started = time.perf_counter()
            subprocess.run([sys.executable, str(FLOOR_SCRIPT), lg.explorer_url, lg.horizon_url, node,
                            "e2e-floor-%d.3bot" % len(runs)], env=env, check=True, timeout=600)
            return time.perf_counter() - started

        medians = timed_rounds(args.rounds, {
            "play": play, "floor": floor,
            "noop": lambda: runner.run("end_to_end_noop.yml"), "bare": lambda: runner.run("end_to_end_bare.yml"),
            "ping": lambda: runner.run("end_to_end_ping.yml")})
        poll = lg.profile.node_poll_interval
    floor_seconds = medians["floor"] + poll
    verdicts.info("%s payment: playbook %.2f s, bare script %.2f s + node poll interval %.2f s = floor %.2f s"
                  % (mode, medians["play"], medians["floor"], poll, floor_seconds))
    verdicts.info("%s payment: the same 4 tasks doing nothing %.2f s; playbook minus them %.2f s = %.2f x the floor"
                  % (mode, medians["noop"], medians["play"] - medians["noop"],
                     (medians["play"] - medians["noop"]) / floor_seconds))
    verdicts.info("%s payment: Ansible alone (4 different bare modules) %.2f s = %.2f x the floor: the lowest ratio "
                  "any playbook of four such tasks could reach is %.2f" % (mode, medians["bare"],
                                                                          medians["bare"] / floor_seconds,
                                                                          1 + medians["bare"] / floor_seconds))
    verdicts.info("%s payment: 4 ping tasks (one module) %.2f s; (playbook - ping playbook)/floor %.2f"
                  % (mode, medians["ping"], (medians["play"] - medians["ping"]) / floor_seconds))
    verdicts.at_most("one container end to end %s payment: (playbook - bare playbook)/floor ratio" % mode,
                     (medians["play"] - medians["bare"]) / floor_seconds, TARGET)
    verdicts.at_most("one container end to end %s payment: playbook/floor ratio" % mode,
                     medians["play"] / floor_seconds, TARGET)


def main(argv=None):
    args = finish_arguments(arguments(__doc__.splitlines()[0]).parse_args(argv))
    verdicts = Verdicts()
    verdicts.info("%d rounds, medians" % args.rounds)
    for mode in args.payment:
        measure(mode, args, verdicts)
    return verdicts.exit_status()


if __name__ == "__main__":
    sys.exit(main())
