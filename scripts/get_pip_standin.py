"""Offline stand-in for the get-pip bootstrap script ansible-test downloads into its cache.

ansible-test runs it with pip's own arguments; pip comes from the interpreter's bundled wheel instead.
"""

import ensurepip
import os
import subprocess
import sys

config_file = os.environ.get("PIP_CONFIG_FILE")
ensurepip.bootstrap(upgrade=True)
# Older ensurepip sets PIP_CONFIG_FILE=/dev/null in this process; the pip run below needs the
# machine's pip configuration (package mirror, CA bundle) again.
if config_file is None:
    os.environ.pop("PIP_CONFIG_FILE", None)
else:
    os.environ["PIP_CONFIG_FILE"] = config_file
args = [arg for arg in sys.argv[1:] if arg not in ("--no-setuptools", "--no-wheel")]
subprocess.check_call([sys.executable, "-m", "pip", "install", *args])
