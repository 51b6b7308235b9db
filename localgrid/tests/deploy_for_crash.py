"""Run by a test under scripts/with-localgrid.sh: deploy one container (with its network) on the localgrid the
script started, wait until it runs, and write its launch record (pid, start ticks, namespace) to argv[1]."""

import json
import os
import pathlib
import sys
import tempfile

from localgrid.runtime.layout import RuntimeDir, read_record
from localgrid.tests.conftest import wait_for
from localgrid.tests.runtime_support import Deployer, RemoteLocalgrid, publish


def main(record_path):
    workdir = os.path.dirname(os.environ["TFGRID_CACHE_DIR"])  # the script's work directory holds the state
    lg = RemoteLocalgrid(os.environ["TFGRID_LOCALGRID_URL"], os.path.join(workdir, "state.db"))
    deployer = Deployer(lg, "killed%d.3bot" % os.getpid())
    try:
        with tempfile.TemporaryDirectory() as rootfs:
            flist = publish(lg, pathlib.Path(rootfs))
        rid = deployer.reserve(containers=[deployer.container(flist, entrypoint="/bin/app")],
                               networks=[deployer.network()])
        assert {r["state"] for r in deployer.results(rid, 2).values()} == {1}
        layout = RuntimeDir(lg.settings.runtime_dir).container(deployer.node["node_id"], "%d-3" % rid)
        record = wait_for(lambda: read_record(layout.record))
    finally:
        deployer.close()
    with open(record_path, "w", encoding="utf-8") as handle:
        json.dump(dict(record, runtime_dir=lg.settings.runtime_dir), handle)


if __name__ == "__main__":
    main(sys.argv[1])
