# Copyright: Contributors to the threefold.grid collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Stellar code is imported only when a payment or wallet step runs (issue 16)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

# An idempotent zos_container check in a fresh interpreter: deploy the container, run the same task again in
# check mode, then report which modules were imported. The child gets this process's sys.path.
CHILD = r"""
import contextlib, io, json, sys
import pytest
from ansible.module_utils.testing import patch_module_args
from ansible_collections.threefold.grid.plugins.module_utils import _reservation_wait
from ansible_collections.threefold.grid.plugins.modules import zos_container
from ansible_collections.threefold.grid.tests.unit.plugins.grid_fake import EXPLORER_URL
from ansible_collections.threefold.grid.tests.unit.plugins.modules import test_zos_container as cases


def run(args):
    out = io.StringIO()
    with patch_module_args(dict(args, explorer_url=EXPLORER_URL)), contextlib.redirect_stdout(out):
        with pytest.raises(SystemExit):
            zos_container.main()
    return json.loads(out.getvalue())


explorer = cases.grid_explorer()
explorer.add(cases.network_data(), "net", kind="network")
explorer.add(cases.volume_data(), "data", kind="volume")
patches = pytest.MonkeyPatch()
explorer.install(patches)
patches.setattr(_reservation_wait.time, "sleep", lambda seconds: None)
created = run(cases.container_args())
checked = run(cases.container_args(check_mode=True))
print(json.dumps({"created": created["changed"], "checked": checked["changed"],
                  "stellar": sorted(name for name in sys.modules if name.split(".")[0] == "stellar_sdk")}))
"""


def test_a_container_check_without_payment_never_imports_stellar_sdk():
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    done = subprocess.run([sys.executable, "-c", CHILD], env=env, capture_output=True, text=True, timeout=120,
                          check=False)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["created"] is True and report["checked"] is False  # the check found the container in place
    assert report["stellar"] == []
