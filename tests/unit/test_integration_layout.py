# Copyright: Contributors to the threefold.grid collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The zos_* integration targets keep one layout: prepare.yml, test.yml, cleanup.yml, run by a copy of
tests/integration/common/tasks/main.yml, after the shared setup_grid target."""

from __future__ import annotations

import os

import pytest
import yaml

INTEGRATION = os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, "integration")
TARGETS = os.path.join(INTEGRATION, "targets")
TASK_TARGETS = sorted(name for name in os.listdir(TARGETS) if name.startswith("zos_"))


def read(*parts):
    with open(os.path.join(*parts)) as handle:
        return handle.read()


def test_every_module_has_a_task_target():
    assert len(TASK_TARGETS) >= 9


@pytest.mark.parametrize("target", TASK_TARGETS)
def test_target_runs_prepare_test_cleanup_after_setup_grid(target):
    assert read(TARGETS, target, "tasks", "main.yml") == read(INTEGRATION, "common", "tasks", "main.yml")
    assert yaml.safe_load(read(TARGETS, target, "meta", "main.yml")) == {"dependencies": ["setup_grid"]}
    for part in ("prepare.yml", "test.yml", "cleanup.yml"):
        assert isinstance(yaml.safe_load(read(TARGETS, target, "tasks", part)), list), part
