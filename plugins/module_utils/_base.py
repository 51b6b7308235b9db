# Copyright: Contributors to the threefold.grid collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# This module_utils file is private to the threefold.grid collection and may change at any time.

"""ZosModule: the common options (with TFGRID_* environment fallbacks), lazy explorer client and
identity, and one structured failure path for every threefold.grid module."""

from __future__ import annotations

import os

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible.module_utils.errors import AnsibleFallbackNotFound

from ansible_collections.threefold.grid.plugins.module_utils._explorer import (
    GRID_NETWORKS,
    HAS_HTTPX,
    HTTPX_IMPORT_ERROR,
    ExplorerClient,
    ExplorerError,
)
from ansible_collections.threefold.grid.plugins.module_utils._identity import (
    HAS_NACL,
    NACL_IMPORT_ERROR,
    Identity,
    IdentityError,
    MissingLibraryError,
)

IDENTITY_SOURCES = ("identity_seed", "identity_mnemonic", "identity_seed_file")
# The connect timeout stays short even when a slow explorer needs a long read timeout.
MAX_CONNECT_TIMEOUT = 10.0


def env_fallback(*names):
    """Like Ansible's env_fallback, but an empty variable counts as unset.

    AWX injects every field of a credential, empty ones as "", and an empty TFGRID_IDENTITY_MNEMONIC
    must not conflict with a TFGRID_IDENTITY_SEED nor fail the choices of `network`.
    """
    for name in names:
        if os.environ.get(name):
            return os.environ[name]
    raise AnsibleFallbackNotFound


def explorer_argument_spec():
    return dict(
        network=dict(type="str", default="local", choices=sorted(GRID_NETWORKS),
                     fallback=(env_fallback, ["TFGRID_NETWORK"])),
        explorer_url=dict(type="str", fallback=(env_fallback, ["TFGRID_EXPLORER_URL"])),
        validate_certs=dict(type="bool", default=True),
        explorer_timeout=dict(type="float", default=30.0),
        explorer_retries=dict(type="int", default=5),
    )


def identity_argument_spec():
    return dict(
        identity_name=dict(type="str", fallback=(env_fallback, ["TFGRID_IDENTITY_NAME"])),
        identity_seed=dict(type="str", no_log=True, fallback=(env_fallback, ["TFGRID_IDENTITY_SEED"])),
        identity_mnemonic=dict(type="str", no_log=True, fallback=(env_fallback, ["TFGRID_IDENTITY_MNEMONIC"])),
        identity_seed_file=dict(type="path", fallback=(env_fallback, ["TFGRID_IDENTITY_SEED_FILE"])),
    )


def stellar_argument_spec():
    return dict(
        stellar_secret=dict(type="str", no_log=True, fallback=(env_fallback, ["TFGRID_STELLAR_SECRET"])),
        horizon_url=dict(type="str", fallback=(env_fallback, ["TFGRID_HORIZON_URL"])),
    )


def wait_argument_spec():
    """The options of the threefold.grid.wait doc fragment, with the same defaults."""
    return dict(
        wait=dict(type="bool", default=True),
        wait_timeout=dict(type="int", default=600),
        wait_sleep=dict(type="int", default=5),
    )


class ZosModule:
    """An AnsibleModule with the common threefold.grid options plus lazy `client`, `identity`, `user`."""

    def __init__(self, argument_spec, identity=True, **ansible_module_kwargs):
        # Every module accepts the identity options, even those that never sign (identity=False), so that
        # one `module_defaults: group/threefold.grid.grid` block can carry them for the whole collection.
        spec = explorer_argument_spec()
        spec.update(identity_argument_spec())
        spec.update(argument_spec)
        kwargs = dict(ansible_module_kwargs)
        kwargs["mutually_exclusive"] = list(kwargs.get("mutually_exclusive") or []) + [list(IDENTITY_SOURCES)]
        kwargs["supports_check_mode"] = True
        self.module = AnsibleModule(argument_spec=spec, **kwargs)
        self.params = self.module.params
        self._uses_identity = identity
        self._client = None
        self._identity = None
        self._user = None
        if not HAS_HTTPX:
            self.module.fail_json(msg=missing_required_lib("httpx"), exception=HTTPX_IMPORT_ERROR)
        if identity and not HAS_NACL:
            self.module.fail_json(msg=missing_required_lib("pynacl"), exception=NACL_IMPORT_ERROR)

    @property
    def check_mode(self):
        return self.module.check_mode

    @property
    def diff_mode(self):
        return self.module._diff

    @property
    def network_settings(self):
        settings = dict(GRID_NETWORKS[self.params["network"]])
        settings["network"] = self.params["network"]
        if self.params.get("explorer_url"):
            settings["explorer_url"] = self.params["explorer_url"].rstrip("/")
        if self.params.get("horizon_url"):
            settings["horizon_url"] = self.params["horizon_url"].rstrip("/")
        return settings

    @property
    def client(self):
        if self._client is None:
            timeout = self.params["explorer_timeout"]
            self._client = ExplorerClient(
                self.network_settings["explorer_url"],
                connect_timeout=min(MAX_CONNECT_TIMEOUT, timeout),
                read_timeout=timeout,
                retries=self.params["explorer_retries"],
                validate_certs=self.params["validate_certs"],
            )
        return self._client

    @property
    def identity(self):
        if self._identity is None:
            self._identity = self._load_identity()
        return self._identity

    def _load_identity(self):
        if not self._uses_identity:
            raise RuntimeError("this module was built with identity=False")
        try:
            if self.params.get("identity_seed"):
                return Identity.from_seed_hex(self.params["identity_seed"])
            if self.params.get("identity_mnemonic"):
                return Identity.from_mnemonic(self.params["identity_mnemonic"])
            if self.params.get("identity_seed_file"):
                return Identity.from_file(self.params["identity_seed_file"])
        except MissingLibraryError as exc:
            self.module.fail_json(msg=missing_required_lib(exc.library), exception=exc.import_error)
        except IdentityError as exc:
            self.fail(str(exc))
        self.fail("No identity configured: set one of identity_seed, identity_mnemonic or identity_seed_file "
                  "(or the environment variable TFGRID_IDENTITY_SEED, TFGRID_IDENTITY_MNEMONIC or "
                  "TFGRID_IDENTITY_SEED_FILE)")

    @property
    def user(self):
        """The phonebook record of identity_name, checked against the identity's public key."""
        if self._user is None:
            name = self.params.get("identity_name")
            if not name:
                self.fail("identity_name is required: the 3Bot name whose tid signs for this identity "
                          "(or set TFGRID_IDENTITY_NAME)")
            public_key_hex = self.identity.public_key_hex
            try:
                users = [user for user in self.client.find_users(name=name) if user.get("name") == name]
            except ExplorerError as exc:
                self.fail("Failed to look up identity %s in the phonebook" % name, exc)
            if not users:
                self.fail("Identity %s is not registered in the phonebook of %s; register it with "
                          "threefold.grid.zos_identity first" % (name, self.network_settings["explorer_url"]))
            user = users[0]
            if (user.get("pubkey") or "").lower() != public_key_hex:
                self.fail("Identity %s (tid %s) is registered with public key %s, which is not the key of the "
                          "configured identity (%s)" % (name, user.get("id"), user.get("pubkey"), public_key_hex))
            self._user = user
        return self._user

    @property
    def tid(self):
        return int(self.user["id"])

    def fail(self, msg, error=None, **extra):
        """fail_json with msg "<msg>: <cause>" and, for explorer errors, a `failure` dict."""
        if isinstance(error, ExplorerError):
            extra.setdefault("failure", error.to_failure())
            msg = "%s: %s" % (msg, error.message)
        elif error is not None:
            msg = "%s: %s" % (msg, error)
        self.module.fail_json(msg=msg, **extra)

    def exit(self, changed=False, **result):
        self.module.exit_json(changed=changed, **result)
