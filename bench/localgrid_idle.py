"""CPU localgrid burns while idle: nothing deployed, fast profile, node agents and escrow loop running.

Each payment mode gets its own localgrid; once it has started and SETTLE seconds have passed (the
agents' first reports), the process's user + system CPU time (/proc/<pid>/stat, every thread) is read
over --seconds of wall time. Target: <= 1 % of one core.

Usage: python bench/localgrid_idle.py [--seconds 20] [--quick] [--payment free,stellar]
"""

import sys
import time

from harness import LocalgridProcess, Verdicts
from options import add_size, arguments, finish_arguments

TARGET_PERCENT = 1.0
SETTLE = 3.0


def main(argv=None):
    parser = arguments(__doc__.splitlines()[0], rounds=False)
    add_size(parser, "seconds", 20, 5, "seconds of idle time measured")
    args = finish_arguments(parser.parse_args(argv))
    verdicts = Verdicts()
    for mode in args.payment:
        with LocalgridProcess(payment=mode) as lg:
            time.sleep(SETTLE)
            cpu, started = lg.cpu_seconds(), time.monotonic()
            time.sleep(args.seconds)
            percent = 100.0 * (lg.cpu_seconds() - cpu) / (time.monotonic() - started)
        verdicts.info("%s payment: localgrid used %.2f s of CPU in %d s idle"
                      % (mode, percent * args.seconds / 100, args.seconds))
        verdicts.at_most("localgrid idle %s payment: CPU %% of one core" % mode, percent, TARGET_PERCENT)
    return verdicts.exit_status()


if __name__ == "__main__":
    sys.exit(main())
