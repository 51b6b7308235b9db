"""A tiny flist hub: files under the hub directory are served at /hub/<path>."""

import os

from starlette.staticfiles import StaticFiles


def hub_app(directory):
    os.makedirs(directory, exist_ok=True)
    return StaticFiles(directory=directory)
