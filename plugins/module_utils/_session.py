# Copyright: Contributors to the threefold.grid collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# This module_utils file is private to the threefold.grid collection and may change at any time.

"""GridSession: what every grid operation needs, with no knowledge of Ansible.

One session per task (ZosModule builds it from the module options) or per inventory parse (the
inventory plugin builds it from its templated options)::

    session = GridSession.from_options(options, check_mode=False)
    session.client     # ExplorerClient, built on first use
    session.identity   # Identity from identity_seed / identity_mnemonic / identity_seed_file (IdentityError if none)
    session.user       # phonebook record of identity_name, checked against the identity's key
    session.tid        # int(user["id"])
    session.tid_hint() # (tid, confirmed): the tid a previous task read, without a request (_tid_cache.py)
    session.node(id)   # a node's record, read once per task (the sessions of zos_containers' items share reads)
    session.warn(text) # collected; the caller shows them (module.warn, display.warning)

Lifecycle, payment, lookup and waiting code take a session, never the Ansible module.
"""

from __future__ import annotations

from typing import Any, Dict, List, Mapping, Optional, Tuple

from ansible_collections.threefold.grid.plugins.module_utils._errors import ExplorerError, GridError, IdentityError
from ansible_collections.threefold.grid.plugins.module_utils._explorer import GRID_NETWORKS, ExplorerClient
from ansible_collections.threefold.grid.plugins.module_utils._identity import Identity
from ansible_collections.threefold.grid.plugins.module_utils._shared_reads import SharedReads, shared_read
from ansible_collections.threefold.grid.plugins.module_utils._tid_cache import TidCache

IDENTITY_SOURCES = ("identity_seed", "identity_mnemonic", "identity_seed_file")
NO_IDENTITY = ("No identity configured: set one of identity_seed, identity_mnemonic or identity_seed_file (or the "
               "environment variable TFGRID_IDENTITY_SEED, TFGRID_IDENTITY_MNEMONIC or TFGRID_IDENTITY_SEED_FILE)")
# The connect timeout stays short even when a slow explorer needs a long read timeout.
MAX_CONNECT_TIMEOUT = 10.0


def network_settings(options: Mapping[str, Any]) -> Dict[str, str]:
    """explorer_url, horizon_url, network_passphrase and network of the grid network, with the overrides."""
    settings = dict(GRID_NETWORKS[options.get("network") or "local"])
    settings["network"] = options.get("network") or "local"
    if options.get("explorer_url"):
        settings["explorer_url"] = options["explorer_url"].rstrip("/")
    if options.get("horizon_url"):
        settings["horizon_url"] = options["horizon_url"].rstrip("/")
    return settings


def build_client(explorer_url: str, timeout: float = 30.0, retries: int = 5,
                 validate_certs: bool = True) -> ExplorerClient:
    return ExplorerClient(explorer_url, connect_timeout=min(MAX_CONNECT_TIMEOUT, timeout), read_timeout=timeout,
                          retries=retries, validate_certs=validate_certs)


def load_identity(options: Mapping[str, Any]) -> Optional[Identity]:
    """The identity of the first identity source set, or None when none is."""
    if options.get("identity_seed"):
        return Identity.from_seed_hex(options["identity_seed"])
    if options.get("identity_mnemonic"):
        return Identity.from_mnemonic(options["identity_mnemonic"])
    if options.get("identity_seed_file"):
        return Identity.from_file(options["identity_seed_file"])
    return None


def registered_user(client: ExplorerClient, name: str, explorer_url: str,
                    identity: Optional[Identity] = None) -> Dict[str, Any]:
    """The phonebook record named ``name``; its key must be ``identity``'s when one is given."""
    try:
        users = [user for user in client.find_users(name=name) if user.get("name") == name]
    except ExplorerError as error:
        raise IdentityError.during("Failed to look up identity %s in the phonebook" % name, error) from None
    if not users:
        raise IdentityError("Identity %s is not registered in the phonebook of %s; register it with "
                            "threefold.grid.zos_identity first" % (name, explorer_url))
    user = users[0]
    if identity is not None and (user.get("pubkey") or "").lower() != identity.public_key_hex:
        raise IdentityError("Identity %s (tid %s) is registered with public key %s, which is not the key of the "
                            "configured seed (%s)" % (name, user.get("id"), user.get("pubkey"), identity.public_key_hex))
    return user


class GridSession:
    """The explorer client, the identity and its phonebook record, check mode and collected warnings."""

    def __init__(self, options: Mapping[str, Any], check_mode: bool = False,
                 client: Optional[ExplorerClient] = None, identity: Optional[Identity] = None) -> None:
        self.options = options
        self.check_mode = check_mode
        self.settings = network_settings(options)
        self.warnings: List[str] = []
        self._client = client
        self._identity = identity
        self._user: Optional[Dict[str, Any]] = None
        self.shared_reads = SharedReads()

    @classmethod
    def from_options(cls, options: Mapping[str, Any], check_mode: bool = False) -> "GridSession":
        return cls(options, check_mode=check_mode)

    @property
    def explorer_url(self) -> str:
        return self.settings["explorer_url"]

    @property
    def client(self) -> ExplorerClient:
        if self._client is None:
            self._client = build_client(self.explorer_url, timeout=self.options.get("explorer_timeout") or 30.0,
                                        retries=self.options.get("explorer_retries", 5),
                                        validate_certs=self.options.get("validate_certs", True))
        return self._client

    @property
    def has_identity(self) -> bool:
        return self._identity is not None or any(self.options.get(source) for source in IDENTITY_SOURCES)

    @property
    def identity(self) -> Identity:
        if self._identity is None:
            self._identity = load_identity(self.options)
            if self._identity is None:
                raise IdentityError(NO_IDENTITY)
        return self._identity

    @property
    def user(self) -> Dict[str, Any]:
        """The phonebook record of identity_name, checked against the identity's public key."""
        if self._user is None:
            name = self.options.get("identity_name")
            if not name:
                raise IdentityError("identity_name is required: the 3Bot name whose tid signs for this identity "
                                    "(or set TFGRID_IDENTITY_NAME)")
            self._user = registered_user(self.client, name, self.explorer_url, self.identity)
            self._tid_cache().put(name, int(self._user["id"]))
        return self._user

    @property
    def tid(self) -> int:
        return int(self.user["id"])

    def tid_hint(self) -> Tuple[int, bool]:
        """(tid, confirmed): the phonebook's tid once this session has read it (confirmed), else the tid a previous
        task read for this identity name and key (unconfirmed, no request), else the phonebook's."""
        name = self.options.get("identity_name")
        if self._user is None and name:
            cached = self._tid_cache().get(name)
            if cached is not None:
                return cached, False
        return self.tid, True

    def node(self, node_id: str) -> Dict[str, Any]:
        """The explorer's record of a node, read once per task: what a task reads of it (its farm, free_to_use,
        whether it reported in the last 10 minutes) does not change while the task runs."""
        return shared_read(self, ("node", node_id), lambda: self.client.get_node(node_id))

    def _tid_cache(self) -> TidCache:
        return TidCache(self.explorer_url, self.identity.public_key_hex)

    def warn(self, warning: str) -> None:
        self.warnings.append(warning)

    def not_found(self, what: str, error: ExplorerError) -> GridError:
        """"<what> does not exist in the explorer at <url>: <cause>" for a 404 (ExplorerNotFound)."""
        return GridError.during("%s does not exist in the explorer at %s" % (what, self.explorer_url), error)


class Runner:
    """What one module does, as ZosModule.run calls it: ``Runner(params, session, diff).run() -> result``.

    ``run`` returns the module result or raises a GridError (whose ``returns`` carry what is known of
    the resource); warnings go to ``session.warn``.
    """

    def __init__(self, params: Mapping[str, Any], session: GridSession, diff: bool = False) -> None:
        self.params = params
        self.session = session
        self.diff_mode = diff

    @property
    def check_mode(self) -> bool:
        return self.session.check_mode

    def run(self) -> Dict[str, Any]:
        raise NotImplementedError
