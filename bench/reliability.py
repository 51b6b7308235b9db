"""Issue 13's reliability suite: containers paid on Stellar through localgrid --faults, SIGKILLs and
concurrent runs, then localgrid's state audited directly.

For every seed: a localgrid (stellar payment, simulated runtime, ``--faults`` with the issue's mix
and that seed) on a fixed free port; a wallet, an identity and a network (prepare.yml); the containers
of even seeds are paid through CHANNELS payment channels (payment.channels), those of odd seeds from the
wallet's own sequence number; then

- **kill**: containers.yml deploys N containers (a loop) and, at a seeded moment after its first
  container task started, ansible-playbook (with every process it started) or localgrid is
  SIGKILLed; a killed localgrid is started again at once on the same state and port;
- **pair** (on the seeds chosen for it): two containers.yml runs started together with the same
  identity and the same N new names, each with its own name index (two controllers);
- a seed with neither deploys the N containers under faults alone;

and after each, containers.yml is re-run until a run succeeds. Then localgrid is stopped and its
state file audited: live reservations per name, the wallet's payments and refunds per reservation,
TFT paid on reservations that are not live and were not refunded; every captured output (playbook
runs with -v, localgrid logs) is searched for the identity seed and mnemonic, the wallet secret and
the secret env value. One line per figure with its target and the seeds; exit 1 on a miss.

Usage: python bench/reliability.py [--short] [--seeds 1,2,...] [--containers N] [--pairs K]
"""

import argparse
import pathlib
import random
import secrets
import shutil
import sys
import tempfile
import time

from harness import Verdicts, live_nodes
from playbook_runs import PlaybookRunner, network_nodes
from reliability_audit import STROOPS, audit_state, customer_tid, secrets_in
from reliability_grid import FAULTS, FaultyLocalgrid
from reliability_plays import Play

from ansible_collections.threefold.grid.plugins.module_utils._identity import Identity

MAX_RUNS = 4  # re-runs past the target of 2 show how far off a miss is, bounded in time
CHANNELS = 2  # fewer than the containers of a seed, so that two payments share a channel
TARGET_RUNS = 2
CONTAINER_TASK_NAME = "Register and pay the containers"  # containers.yml's first task, checked at start
KILL_ATTEMPTS = 3  # a run that ends before its kill moment is followed by another (new names) killed sooner
FORMS = {  # seeds, containers per seed, seeds with a concurrent pair, seconds per ansible-playbook run
    "short": dict(seeds=[1, 2], containers=3, pairs=1, run_timeout=600, kill_sides=("ansible-playbook",)),
    "full": dict(seeds=list(range(1, 21)), containers=10, pairs=3, run_timeout=900,
                 kill_sides=("ansible-playbook", "localgrid")),
}


class SeedRun:
    """One seed: its localgrid, identity, wallet, the runs it made and what they left."""

    def __init__(self, seed, workdir, args):
        self.seed, self.args = seed, args
        self.random = random.Random(seed)
        self.dir = workdir
        self.grid = FaultyLocalgrid(workdir, "%s,seed=%d" % (FAULTS, seed))
        self.runner = None
        self.nodes = []
        self.plays = 0
        self.started = []
        self.converge = {}  # step: runs until one succeeded (MAX_RUNS + 1 when none did)
        self.failures = set()
        self.expected = set()  # container names the runs were asked to deploy
        self.events = []
        self.kill_side = None
        self.kills = 0  # SIGKILLs delivered
        self.secret_env = "rel-%s" % secrets.token_hex(12)
        self.identity_name = "reliability%d.3bot" % seed
        self.wallet_file = workdir / "wallet.secret"
        self.seed_file = workdir / "identity.seed"

    def play(self, playbook, extra, env=None):
        """Start ``playbook``; containers.yml acts as the identity prepare.yml registered."""
        self.plays += 1
        if playbook == "containers.yml":
            env = dict(env or {}, TFGRID_IDENTITY_NAME=self.identity_name,
                       TFGRID_IDENTITY_SEED_FILE=str(self.seed_file))
        play = Play(self.runner, self.dir / ("play-%02d-%s.log" % (self.plays, playbook.split(".")[0])),
                    playbook, extra, env)
        self.started.append(play)
        return play

    def finish(self, play):
        returncode = play.wait(self.args.run_timeout)
        if returncode:
            self.failures.update(play.failures())
        return returncode

    def until_converged(self, step, playbook, extra, first_runs):
        """Re-run ``playbook`` until a run succeeds; ``first_runs`` already made (None: killed, not counted)."""
        runs = [code for code in first_runs if code is not None]
        while (not runs or runs[-1] != 0) and len(runs) < MAX_RUNS:
            runs.append(self.finish(self.play(playbook, extra)))
        self.converge[step] = len(runs) if runs[-1] == 0 else MAX_RUNS + 1

    def containers(self, prefix, first):
        """containers.yml's variables for N containers from index ``first`` (the index gives the IP address)."""
        indexes = list(range(first, first + self.args.containers))
        self.expected.update("%s-%d" % (prefix, index) for index in indexes)
        return dict(self.payment, bench_nodes=self.nodes, bench_network="net-rel", bench_prefix=prefix,
                    bench_indexes=indexes, bench_wait_sleep=1,
                    bench_secret_env={"REL_SECRET": self.secret_env})

    @property
    def payment(self):
        payment = {"stellar_secret": self.wallet_file.read_text(encoding="ascii").strip()}
        if self.seed % 2 == 0:
            payment["channels"] = CHANNELS
        return {"bench_payment": payment}

    def run(self, kill_side, pair):
        self.grid.start()
        self.runner = PlaybookRunner(self.grid)
        self.nodes = live_nodes(self.grid, farm=2)
        # The wallet first, alone: every later run reads its secret file, so it must exist before they start.
        self.until_converged("wallet", "prepare.yml", {"bench_wallet_file": str(self.wallet_file)}, [])
        prepare = dict(self.payment, bench_identity_name=self.identity_name, bench_seed_file=str(self.seed_file),
                       bench_network="net-rel", bench_network_nodes=network_nodes(self.nodes))
        self.until_converged("identity and network", "prepare.yml", prepare, [])
        self.kill_side = kill_side
        if kill_side:
            self.kill_scenario(kill_side)
        if pair:
            self.pair_scenario()
        if not kill_side and not pair:
            extra = self.containers("plain", 0)
            self.until_converged("containers", "containers.yml", extra, [self.finish(self.play("containers.yml", extra))])

    def kill_scenario(self, side):
        """containers.yml SIGKILLed (or its localgrid) at a seeded moment of its container task. A run that ends
        before that moment is followed by another one on new names, killed within the time the last one took."""
        bound = 2.0 * self.args.containers
        for attempt in range(KILL_ATTEMPTS):
            # New names and addresses per attempt (the pair scenario uses indexes N to 2N - 1).
            prefix, first = ("kill", 0) if attempt == 0 else ("kill%d" % attempt, (attempt + 1) * self.args.containers)
            extra = self.containers(prefix, first)
            play = self.play("containers.yml", extra)
            if not play.wait_for("TASK [%s]" % CONTAINER_TASK_NAME, self.args.run_timeout):
                raise RuntimeError("containers.yml ended without starting its task %r" % CONTAINER_TASK_NAME)
            started, delay = time.monotonic(), self.random.uniform(0, bound)
            if not play.wait_for("PLAY RECAP", delay):
                if side == "ansible-playbook":
                    play.kill()
                else:
                    self.grid.kill()
                    self.grid.start()
                self.kills += 1
                self.events.append("seed %d: SIGKILL %s %.1f s into the container task" % (self.seed, side, delay))
                self.until_converged("containers after SIGKILL " + side, "containers.yml", extra, [self.finish(play)])
                return
            bound = time.monotonic() - started
            self.events.append("seed %d: the run ended %.1f s into the container task, before its SIGKILL (%.1f s)"
                               % (self.seed, bound, delay))
            self.until_converged("containers (kill attempt %d)" % (attempt + 1), "containers.yml", extra,
                                 [self.finish(play)])

    def pair_scenario(self):
        extra = self.containers("pair", self.args.containers)
        plays = [self.play("containers.yml", extra, {"TFGRID_CACHE_DIR": str(self.dir / ("name-index-%d" % index))})
                 for index in (1, 2)]
        codes = [self.finish(play) for play in plays]
        self.events.append("seed %d: two concurrent runs, exit %s" % (self.seed, codes))
        # Both runs count as the first run: a failure of either needs the re-run that converges.
        self.until_converged("containers after a concurrent pair", "containers.yml", extra,
                             [0 if codes == [0, 0] else 1])

    def audit(self):
        self.stop()
        wallet_secret = self.wallet_file.read_text(encoding="ascii").strip() if self.wallet_file.exists() else ""
        findings = None
        tid = customer_tid(self.grid.state_path, self.identity_name) if self.grid.state_path.exists() else None
        if wallet_secret and tid is not None:
            from stellar_sdk import Keypair

            findings = audit_state(self.grid.state_path, tid, Keypair.from_secret(wallet_secret).public_key)
        identity = Identity.from_file(str(self.seed_file)) if self.seed_file.exists() else None
        leaked = secrets_in(sorted(self.dir.glob("*.log")), {
            "identity seed": identity.seed_hex if identity else "",
            "identity mnemonic": identity.mnemonic if identity else "",
            "stellar secret": wallet_secret,
            "secret env value": self.secret_env,
        })
        return findings, leaked

    def stop(self):
        for play in self.started:
            if play.process.poll() is None:  # left running by an error of the suite
                play.kill()
        self.grid.stop()
        if self.runner is not None:
            self.runner.close()


def _arguments(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--short", action="store_true", help="the form `make test` runs: 2 seeds x 3 containers, "
                        "one SIGKILL of ansible-playbook, one concurrent pair (about 4 minutes)")
    parser.add_argument("--seeds", help="comma-separated fault seeds (default: 1,2 short, 1-20 full)")
    parser.add_argument("--containers", type=int, help="containers per seed (default 3 short, 10 full)")
    parser.add_argument("--pairs", type=int, help="seeds that also run a concurrent pair (default 1 short, 3 full)")
    parser.add_argument("--no-kill", action="store_true", help="no SIGKILL scenario")
    parser.add_argument("--keep", action="store_true", help="keep the run directory (logs, state files)")
    args = parser.parse_args(argv)
    form = FORMS["short" if args.short else "full"]
    args.seeds = [int(seed) for seed in args.seeds.split(",")] if args.seeds else form["seeds"]
    args.containers = args.containers or form["containers"]
    args.pairs = form["pairs"] if args.pairs is None else args.pairs
    args.run_timeout, args.kill_sides = form["run_timeout"], form["kill_sides"]
    return args


def _plan(args):
    """{seed: (side to SIGKILL or None, run a pair)}. The full form kills on every seed; the short form only on
    its first seed, and its other seeds pair (or, with --pairs 0, deploy under faults alone)."""
    plan = {}
    pair_every = max(1, len(args.seeds) // max(1, args.pairs))
    for index, seed in enumerate(args.seeds):
        pair = args.pairs > 0 and index % pair_every == pair_every - 1 and index // pair_every < args.pairs
        side = None if args.no_kill else random.Random(seed).choice(args.kill_sides)
        if args.short and index > 0:
            side = None
        plan[seed] = (side, pair)
    return plan


def _check_playbook():
    """The suite waits for containers.yml's container task by name: a renamed task must stop it, not skip kills."""
    text = (pathlib.Path(__file__).resolve().parent / "playbooks" / "containers.yml").read_text(encoding="utf-8")
    if "- name: %s\n" % CONTAINER_TASK_NAME not in text:
        raise SystemExit("bench/playbooks/containers.yml has no task named %r (CONTAINER_TASK_NAME)" % CONTAINER_TASK_NAME)


def main(argv=None):
    _check_playbook()
    args = _arguments(argv)
    plan = _plan(args)
    workdir = tempfile.mkdtemp(prefix="tfgrid-reliability.")
    print("reliability: faults %s; seeds %s; %d containers per seed; SIGKILL: %s; concurrent pairs: seeds %s; "
          "run directory %s" % (FAULTS, ",".join(map(str, args.seeds)), args.containers,
                                ", ".join("seed %d %s" % (seed, side) for seed, (side, _) in plan.items() if side) or "none",
                                ",".join(str(seed) for seed, (_, pair) in plan.items() if pair) or "none", workdir),
          flush=True)
    started = time.monotonic()
    results = []
    try:
        for seed in args.seeds:
            seed_dir = pathlib.Path(workdir) / ("seed-%d" % seed)
            seed_dir.mkdir()
            run = SeedRun(seed, seed_dir, args)
            try:
                run.run(*plan[seed])
            except Exception as error:  # a failed set-up is a finding of its seed, the other seeds still run
                run.failures.add("suite: %s" % str(error).splitlines()[0])
                run.converge.setdefault("set-up", MAX_RUNS + 1)
            finally:
                findings, leaked = run.audit()
                run.stop()
            results.append((run, findings, leaked))
            print("seed %d done in %.0f s: runs to converge %s" % (seed, time.monotonic() - started, run.converge),
                  flush=True)
    finally:
        status = _report(args, results)
        if status == 0 and not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            print("logs and state files kept in %s" % workdir, flush=True)
    return status


class _Figure:
    """One line per figure: value, target, the seeds, OK or MISSED (recorded in the verdicts)."""

    def __init__(self, verdicts, seeds):
        self.verdicts, self.seeds = verdicts, seeds

    def __call__(self, what, value, form, target):
        ok = value <= target
        print(("%s: " + form + " (target <= %s; %s) %s") % (what, value, target, self.seeds, "OK" if ok else "MISSED"),
              flush=True)
        if not ok:
            self.verdicts.missed.append(what)


def _report(args, results):
    verdicts = Verdicts()
    seeds = "seeds " + ",".join(str(run.seed) for run, _f, _l in results)
    for run, _findings, _leaked in results:
        for event in run.events:
            verdicts.info("event: " + event)
        for message in sorted(run.failures)[:5]:
            verdicts.info("seed %d: a run failed with: %s" % (run.seed, message[:300]))
    audited = [(run, findings) for run, findings, _leaked in results if findings is not None]
    for run, findings in audited:
        paid = [item for item in findings.reservations if item.payments]
        verdicts.info("seed %d: %d reservations (%d live), %d paid with %d payments (%.7f TFT, %d through a channel), "
                      "%.7f TFT refunded"
                      % (run.seed, len(findings.reservations), sum(item.live for item in findings.reservations),
                         len(paid), sum(item.payments for item in paid), sum(item.paid for item in paid) / STROOPS,
                         sum(item.through_channels for item in paid),
                         sum(item.refunded for item in findings.reservations) / STROOPS))
    duplicates = [(run.seed, name, ids) for run, findings in audited for name, ids in findings.duplicates]
    doubles = [(run.seed, item) for run, findings in audited for item in findings.double_payments]
    lost = [(run.seed, item, amount) for run, findings in audited for item, amount in findings.lost]
    leaked = [(run.seed, name, label) for run, _findings, found in results for name, label in found]
    unpaid = [(run.seed, item.rid) for run, findings in audited for item in findings.unpaid_live]
    converge = [(runs, run.seed, step) for run, _f, _l in results for step, runs in run.converge.items()]
    missing = [(run.seed, name) for run, findings in audited for name in sorted(run.expected)
               if name not in {item.name for item in findings.reservations if item.live}]
    for seed, name, ids in duplicates:
        verdicts.info("seed %d: %s has %d live reservations: %s" % (seed, name, len(ids), ids))
    for seed, item in doubles:
        verdicts.info("seed %d: reservation %d (%s) paid %d times, %.7f TFT for %.7f due"
                      % (seed, item.rid, item.name, item.payments, item.paid / STROOPS, item.due / STROOPS))
    for seed, item, amount in lost:
        verdicts.info("seed %d: reservation %d (%s, state %d) lost %.7f TFT" % (seed, item.rid, item.name, item.state,
                                                                            amount / STROOPS))
    for seed, name, label in leaked:
        verdicts.info("seed %d: %s found in %s" % (seed, label, name))
    if missing:
        verdicts.info("names without a live reservation: %s" % missing)
    if unpaid:
        verdicts.info("live reservations left waiting for payment: %s" % unpaid)
    worst = max(converge) if converge else (MAX_RUNS + 1, 0, "none")
    figure = _Figure(verdicts, seeds)
    figure("duplicate live reservations per name", len(duplicates), "%d", 0)
    figure("reservations paid twice", len(doubles), "%d", 0)
    figure("TFT lost on reservations not live and not refunded", sum(amount for _s, _i, amount in lost) / STROOPS,
           "%.7f", 0)
    figure("secrets in captured output", len(leaked), "%d", 0)
    figure("runs to converge, worst step (seed %d, %s)" % (worst[1], worst[2]), worst[0], "%d", TARGET_RUNS)
    planned = [run for run, _f, _l in results if run.kill_side]
    verdicts.require("SIGKILL delivered on every kill seed", all(run.kills for run in planned),
                     "%d of %d" % (sum(1 for run in planned if run.kills), len(planned)))
    verdicts.require("every container live (%s)" % seeds, not missing, "%d missing" % len(missing) if missing else "")
    # Even seeds register every container with channels (CHANNELS), so every payment of theirs goes through one.
    off_channel = [(run.seed, item.rid) for run, findings in audited if run.seed % 2 == 0
                   for item in findings.reservations if item.payments != item.through_channels]
    verdicts.require("payments of the even seeds through their channels", not off_channel,
                     "not through a channel: %s" % off_channel if off_channel else "")
    verdicts.require("every seed audited", len(audited) == len(results) == len(args.seeds),
                     "%d of %d" % (len(audited), len(args.seeds)))
    return verdicts.exit_status()


if __name__ == "__main__":
    sys.exit(main())
