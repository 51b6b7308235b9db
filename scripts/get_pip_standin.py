"""Offline stand-in for the get-pip bootstrap script ansible-test downloads into its cache.

ansible-test runs it with pip's own arguments; pip comes from the interpreter's bundled wheel instead.
"""

import ensurepip
import subprocess
import sys

ensurepip.bootstrap(upgrade=True)
args = [arg for arg in sys.argv[1:] if arg not in ("--no-setuptools", "--no-wheel")]
subprocess.check_call([sys.executable, "-m", "pip", "install", *args])
