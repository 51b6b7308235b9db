# Copyright: Contributors to the threefold.grid collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reads a task's threads share (_shared_reads.py): one read per key, and a failed read is nobody's answer."""

from __future__ import annotations

import threading
import time

import pytest

from ansible_collections.threefold.grid.plugins.module_utils._errors import ExplorerNotFound
from ansible_collections.threefold.grid.plugins.module_utils._shared_reads import SharedReads, shared_read
from ansible_collections.threefold.grid.tests.unit.plugins.module_utils.test_container_batch import together
from ansible_collections.threefold.grid.tests.unit.plugins.module_utils.test_lifecycle import grid_explorer, session


def test_threads_asking_at_once_share_one_read_per_key():
    reads = SharedReads()
    calls = []

    def read(key):
        calls.append(key)
        time.sleep(0.05)  # the others ask while the first read is under way
        return "record of %s" % key
    answers = together(lambda index: reads.get(index % 2, lambda: read(index % 2)))
    assert answers == ["record of %d" % (index % 2) for index in range(len(answers))]
    assert sorted(calls) == [0, 1]
    assert reads.get(0, lambda: read("again")) == "record of 0" and sorted(calls) == [0, 1]


def test_a_failed_read_is_not_kept_and_each_waiting_thread_reads_itself():
    reads = SharedReads()
    inside, fail = threading.Event(), threading.Event()
    answers = {}

    def failing():
        inside.set()
        fail.wait(5)
        raise ValueError("lost")

    def first():
        try:
            reads.get("key", failing)
        except ValueError as error:
            answers["first"] = str(error)

    def waiting(name):
        answers[name] = reads.get("key", lambda: "read by " + name)
    threads = [threading.Thread(target=first)]
    threads[0].start()
    inside.wait(5)
    threads += [threading.Thread(target=waiting, args=(name,)) for name in ("b", "c")]
    for thread in threads[1:]:
        thread.start()
    time.sleep(0.1)  # b and c wait for the first read
    assert answers == {}
    fail.set()
    for thread in threads:
        thread.join(5)
    assert answers == {"first": "lost", "b": "read by b", "c": "read by c"}
    # Nothing was kept from the failed read: the next caller reads, and its answer is kept.
    assert reads.get("key", lambda: "fresh") == "fresh" and reads.get("key", lambda: "never") == "fresh"


def test_without_shared_reads_every_call_reads():
    calls = []
    assert [shared_read(object(), "key", lambda: calls.append(1) or len(calls)) for attempt in range(3)] == [1, 2, 3]


def test_a_session_reads_a_node_once_and_an_unknown_one_each_time():
    explorer = grid_explorer()
    grid = session(explorer)
    node_id = explorer.nodes[0]["node_id"]
    assert grid.node(node_id) == grid.node(node_id)
    node_reads = [r for r in explorer.requests if r.url.path.endswith("/nodes/" + node_id)]
    assert len(node_reads) == 1
    for attempt in range(2):
        with pytest.raises(ExplorerNotFound, match="node"):
            grid.node("unknown-node")
    assert len([r for r in explorer.requests if r.url.path.endswith("/nodes/unknown-node")]) == 2
