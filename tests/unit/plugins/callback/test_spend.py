# Copyright: Contributors to the threefold.grid collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

from types import SimpleNamespace

from ansible_collections.threefold.grid.plugins.callback.spend import CallbackModule

ASSET = "TFT:GA47YZA3PKFUZMPLQ3B5F2E3CJIB57TGGU7SPCQT2WAEYKN766PWIMB3"


class Display:
    verbosity = 0

    def __init__(self):
        self.lines = []

    def banner(self, text):
        self.lines.append("== " + text)

    def display(self, text, *args, **kwargs):
        self.lines.append(text)

    def __getattr__(self, name):
        return lambda *args, **kwargs: None


def task_result(host, result):
    return SimpleNamespace(_host=SimpleNamespace(get_name=lambda: host), _result=result)


def payment(tx_hash, amount, changed=True):
    return {"changed": changed, "transaction_hash": tx_hash, "amount": amount, "asset": ASSET, "memo": "5"}


def finish(callback):
    callback.v2_playbook_on_stats(None)
    return callback._display.lines


def new_callback():
    callback = CallbackModule(display=Display())
    callback.set_options()
    return callback


def test_sums_resource_and_payment_module_results_per_host():
    callback = new_callback()
    callback.v2_runner_on_ok(task_result("web1", {"changed": True, "container": {"payment": payment("a" * 64, "0.0100000")}}))
    callback.v2_runner_on_ok(task_result("web1", dict(payment("b" * 64, "0.0020000"), reservation_id=5)))
    callback.v2_runner_on_failed(task_result("web2", {"volume": {"payment": payment("c" * 64, "0.5000000")}}))
    callback.v2_runner_on_ok(task_result("web2", {"reservation": {"id": 9}, "payment": payment("d" * 64, "0.25")}))
    lines = finish(callback)
    assert lines[0] == "== THREEFOLD.GRID SPEND"
    assert "web1 : spent 0.0120000 TFT in 2 payments" in lines
    assert "web2 : spent 0.7500000 TFT in 2 payments" in lines


def test_a_payment_seen_twice_counts_once_and_loop_aggregates_are_skipped():
    callback = new_callback()
    item = {"container": {"payment": payment("a" * 64, "0.0100000")}}
    callback.v2_runner_item_on_ok(task_result("web1", item))
    callback.v2_runner_on_ok(task_result("web1", {"results": [item]}))
    callback.v2_runner_on_ok(task_result("web1", item))
    assert "web1 : spent 0.0100000 TFT in 1 payment" in finish(callback)


def test_check_mode_shows_what_would_be_paid_and_no_payment_says_so():
    callback = new_callback()
    callback.v2_runner_on_ok(task_result("web1", {"container": {"payment": payment(None, "0.0100000")}}))
    callback.v2_runner_on_ok(task_result("web1", {"container": {"payment": None}, "changed": False}))
    assert "web1 : spent nothing, would pay 0.0100000 TFT (check mode)" in finish(callback)
    empty = new_callback()
    assert finish(empty)[-1] == "nothing was paid"
