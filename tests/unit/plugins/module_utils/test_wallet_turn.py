# Copyright: Contributors to the threefold.grid collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One wallet's payments within a process (_wallet_turn.py): one at a time, in the order asked, few in line."""

from __future__ import annotations

import threading
import time

from ansible_collections.threefold.grid.plugins.module_utils._wallet_turn import IN_LINE, WalletTurn, wallet_turn
from ansible_collections.threefold.grid.tests.unit.plugins.module_utils.test_container_batch import together


def test_one_turn_per_wallet():
    assert wallet_turn("GA") is wallet_turn("GA") and wallet_turn("GA") is not wallet_turn("GB")


def test_the_turn_is_served_in_the_order_asked_one_at_a_time():
    turn = WalletTurn()
    served, inside = [], []
    turn.__enter__()  # held while the others ask, one after the other
    threads = []
    for index in range(6):
        def pay(index=index):
            with turn:
                inside.append(index)
                assert len(inside) == 1
                time.sleep(0.005)
                served.append(index)
                inside.remove(index)
        threads.append(threading.Thread(target=pay))
        threads[-1].start()
        time.sleep(0.02)  # this one waits for the turn before the next asks
    turn.__exit__(None, None, None)
    for thread in threads:
        thread.join(5)
    assert served == list(range(6))


def test_at_most_in_line_payments_between_their_check_and_their_turn():
    turn = WalletTurn()
    lock = threading.Lock()
    between, most = [0], [0]

    def pay(_index):
        with turn.line:
            with lock:
                between[0] += 1
                most[0] = max(most[0], between[0])
            time.sleep(0.01)  # the re-read of the reservation
            with turn:
                time.sleep(0.002)  # the submission
                with lock:
                    between[0] -= 1
    together(pay, 12)
    assert most[0] == IN_LINE
