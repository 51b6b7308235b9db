# Copyright: Contributors to the threefold.grid collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import pytest

from ansible_collections.threefold.grid.tests.unit.plugins.modules.sample_grid import sample_explorer


@pytest.fixture
def explorer():
    """The sample grid of sample_grid.py; test files with a grid of their own define their own ``explorer``."""
    return sample_explorer()
