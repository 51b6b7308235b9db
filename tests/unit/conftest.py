# Copyright: Contributors to the threefold.grid collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def name_index_dir(tmp_path, monkeypatch):
    """Each test starts with an empty name index (_name_index.py) of its own, never the user's cache."""
    folder = tmp_path / "tfgrid-cache"
    monkeypatch.setenv("TFGRID_CACHE_DIR", str(folder))
    return folder
