"""The command line the benchmarks share: --quick and the sizes it shrinks, --rounds, --payment."""

import argparse


def arguments(description, payment_modes=("free", "stellar"), rounds=True):
    """The command line the benchmarks share: --quick, --payment and (with ``rounds``) --rounds."""
    parser = argparse.ArgumentParser(description=description)
    if rounds:
        parser.add_argument("--rounds", type=int, default=None, help="interleaved rounds (default 3, 2 with --quick)")
    parser.add_argument("--quick", action="store_true", help="small sizes, a few minutes (for development)")
    parser.add_argument("--payment", default=",".join(payment_modes),
                        help="localgrid payment modes to measure, comma-separated (default %(default)s)")
    return parser


def add_size(parser, name, full, quick, what):
    parser.add_argument("--" + name, type=int, default=None, help="%s (default %d, %d with --quick)" % (what, full, quick))
    parser.set_defaults(**{"_sizes_" + name: (full, quick)})


def finish_arguments(args):
    """Fill in the sizes and rounds --quick or their defaults imply; split --payment."""
    for key, (full, quick) in [(k[len("_sizes_"):], v) for k, v in vars(args).items() if k.startswith("_sizes_")]:
        if getattr(args, key) is None:
            setattr(args, key, quick if args.quick else full)
    if hasattr(args, "rounds"):
        args.rounds = args.rounds or (2 if args.quick else 3)
    args.payment = [mode.strip() for mode in args.payment.split(",") if mode.strip()]
    return args
