# Copyright: Contributors to the threefold.grid collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One wallet's payments within a process (_wallet_turn.py): one at a time, in the order asked."""

from __future__ import annotations

import threading
import time

from ansible_collections.threefold.grid.plugins.module_utils._wallet_turn import WalletTurn, wallet_turn


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


def test_a_turn_left_with_nobody_waiting_is_free_again():
    turn = WalletTurn()
    with turn:
        pass
    entered = threading.Event()

    def pay():
        with turn:
            entered.set()
    thread = threading.Thread(target=pay)
    thread.start()
    assert entered.wait(5)
    thread.join(5)
