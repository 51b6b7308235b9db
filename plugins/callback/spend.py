# Copyright: Contributors to the threefold.grid collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
name: spend
type: aggregate
short_description: Print the TFT a play spent on the ThreeFold Grid, per host
version_added: 0.4.0
description:
  - At the end of the run, prints per host and asset what the threefold.grid tasks paid on Stellar (the
    payments that have a transaction hash), how many payments that was, and in check mode what they would
    have paid.
  - It reads the results the modules return (M(threefold.grid.zos_payment) and the C(payment) of every
    resource module, also inside loops and failed tasks, which can have paid before failing); a payment
    seen twice (same transaction hash) counts once.
  - Enable it with C(callbacks_enabled = threefold.grid.spend) in C(ansible.cfg) or
    C(ANSIBLE_CALLBACKS_ENABLED=threefold.grid.spend); it prints nothing else and works with any stdout
    callback.
author:
  - threefold.grid developers (@threefold-grid)
requirements:
  - enabled in callbacks_enabled
"""

from collections import defaultdict

from ansible.plugins.callback import CallbackBase

from ansible_collections.threefold.grid.plugins.module_utils._amounts import amount_to_stroops, stroops_to_amount
from ansible_collections.threefold.grid.plugins.plugin_utils._payments import payments_in


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "threefold.grid.spend"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, display=None, options=None):
        super().__init__(display=display, options=options)
        self.seen = defaultdict(set)  # host -> transaction hashes counted
        self.spent = defaultdict(lambda: defaultdict(int))  # host -> asset -> stroops
        self.counts = defaultdict(lambda: defaultdict(int))
        self.would = defaultdict(lambda: defaultdict(int))  # check mode: host -> asset -> stroops

    def _record(self, result):
        host = result._host.get_name()
        for payment in payments_in(result._result):
            asset = (payment.get("asset") or "?").split(":")[0]
            try:
                stroops = amount_to_stroops(payment.get("amount") or "0")
            except ValueError:
                continue
            tx_hash = payment.get("transaction_hash")
            if tx_hash:
                if tx_hash in self.seen[host]:
                    continue
                self.seen[host].add(tx_hash)
                self.spent[host][asset] += stroops
                self.counts[host][asset] += 1
            elif payment.get("changed") and stroops:
                self.would[host][asset] += stroops

    def v2_runner_on_ok(self, result):
        self._record(result)

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._record(result)

    def v2_runner_item_on_ok(self, result):
        self._record(result)

    def v2_runner_item_on_failed(self, result):
        self._record(result)

    def v2_playbook_on_stats(self, stats):
        self._display.banner("THREEFOLD.GRID SPEND")
        hosts = sorted(set(self.spent) | set(self.would))
        if not hosts:
            self._display.display("nothing was paid")
            return
        for host in hosts:
            parts = ["%s %s in %d payment%s" % (stroops_to_amount(stroops), asset, self.counts[host][asset],
                                                "" if self.counts[host][asset] == 1 else "s")
                     for asset, stroops in sorted(self.spent[host].items())]
            parts += ["would pay %s %s (check mode)" % (stroops_to_amount(stroops), asset)
                      for asset, stroops in sorted(self.would[host].items())]
            self._display.display("%s : spent %s" % (host, ", ".join(parts)) if self.spent[host] else
                                  "%s : spent nothing, %s" % (host, ", ".join(parts)))
