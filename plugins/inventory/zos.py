# Copyright: Contributors to the threefold.grid collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
name: zos
short_description: ThreeFold Grid containers and Kubernetes VMs of one identity as inventory hosts
version_added: 0.1.0
author:
  - threefold.grid developers (@threefold-grid)
description:
  - Lists the containers and the Kubernetes VMs that the reservations of one 3Bot identity run on the ThreeFold
    Grid v2 and adds them as hosts (see O(workloads)).
  - A container deployed by M(threefold.grid.zos_container) is named after its
    O(threefold.grid.zos_container#module:name) (kept in the reservation's metadata); any other container is
    named C(<reservation id>-<workload id>).
  - A Kubernetes VM deployed by M(threefold.grid.zos_kubernetes) is named C(<cluster>-master) or
    C(<cluster>-<worker name>); any other VM is named C(<reservation id>-<workload id>).
  - While a replacement reservation is deployed, two reservations run a container of the same name; the newest
    one whose state is in O(states) becomes the host.
  - Every host is in the group C(zos) and gets the variables C(zos_node_id), C(zos_farm_id),
    C(zos_reservation_id), C(zos_workload_id) (the grid-wide C(<reservation id>-<workload id>)), C(zos_flist),
    C(zos_capacity) (C(cpu), C(memory) in MiB, C(disk_size) in MiB, C(disk_type)), C(zos_expires_at) (Unix time
    at which the reservation ends), C(zos_network), C(zos_ipv4), C(zos_ipv6), C(zos_state), C(zos_labels) (the
    labels given to M(threefold.grid.zos_container), or to M(threefold.grid.zos_kubernetes) for each VM of the
    cluster, a dict) and, for a container the node refused, C(zos_error).
    C(zos_kind) is V(container) or V(kubernetes). A VM has no C(zos_flist) and no C(zos_ipv6); its C(zos_capacity)
    is that of its size, and it also gets C(zos_kubernetes_cluster) (the cluster's name, V(null) for a VM not
    deployed by M(threefold.grid.zos_kubernetes)), C(zos_kubernetes_role) (V(master) or V(worker)),
    C(zos_kubernetes_size) and C(zos_kubernetes_master_ips).
  - Containers are also in the group C(zos_containers); VMs in C(zos_kubernetes), in C(zos_kubernetes_masters) or
    C(zos_kubernetes_workers), and in C(zos_cluster_<cluster>) (the cluster's name with every character that is
    not a letter, digit or underscore replaced by C(_)). k3os VMs accept SSH as C(rancher); set it with O(compose).
  - Labels make groups with O(keyed_groups) on C(zos_labels) (for example group C(label_app_web) for C(app=web)).
    Labels sealed with the identity's key (O(threefold.grid.zos_container#module:seal_labels)) are opened only
    when O(identity_seed), O(identity_mnemonic) or O(identity_seed_file) is configured; otherwise C(zos_labels) is
    empty and C(zos_labels_sealed) is true.
  - The inventory source is a YAML file whose name ends in C(zos.yml) or C(zos.yaml).
  - Listing reservations needs no signature, so the identity's name is enough. When a seed or mnemonic is
    configured as well (as the AWX credential type injects it), the plugin checks that the name is registered
    with that key, so a credential pointing at somebody else's name fails instead of listing their containers.
extends_documentation_fragment:
  - constructed
  - inventory_cache
  - threefold.grid.explorer.plugins
options:
  plugin:
    description:
      - The name of this plugin; it must always be V(threefold.grid.zos).
    type: str
    required: true
    choices: [threefold.grid.zos]
  identity_name:
    description:
      - The 3Bot name whose containers are listed, as registered in the explorer phonebook.
      - Required, here or in the environment.
      - Templates are rendered, so the name can come from a variable or a lookup.
    type: str
    env:
      - name: TFGRID_IDENTITY_NAME
  identity_seed:
    description:
      - The identity's seed as 64 hexadecimal characters; optional.
      - When set, the plugin checks that O(identity_name) is registered with the key of this seed.
      - Templates are rendered, so the value can come from a lookup or a vaulted variable. It is never shown.
    type: str
    env:
      - name: TFGRID_IDENTITY_SEED
  identity_mnemonic:
    description:
      - The identity's seed as 24 English BIP39 words; optional, used like O(identity_seed) when that is not set.
    type: str
    env:
      - name: TFGRID_IDENTITY_MNEMONIC
  identity_seed_file:
    description:
      - Path of a file holding the seed (64 hexadecimal characters or 24 words); optional, used like
        O(identity_seed) when neither O(identity_seed) nor O(identity_mnemonic) is set.
    type: path
    env:
      - name: TFGRID_IDENTITY_SEED_FILE
  address:
    description:
      - Which address of a container becomes C(ansible_host).
      - V(private_ipv4) is the container's address in its private network, reachable from a machine that joined
        the network over WireGuard (see M(threefold.grid.zos_network)). If the container has none, its public
        IPv6 is used.
      - V(public_ipv6) is the public IPv6 of a container deployed with a public IPv6. A container without one
        falls back to its private IPv4.
      - A host without either address gets no C(ansible_host); set one with O(compose).
    type: str
    choices: [private_ipv4, public_ipv6]
    default: private_ipv4
  workloads:
    description:
      - Which kinds of workload become hosts.
    type: list
    elements: str
    choices: [container, kubernetes]
    default: [container, kubernetes]
  states:
    description:
      - Which containers and VMs to list, by state.
      - V(ok) are deployed containers the node reports running.
      - V(pending) are containers of reservations that are not deployed yet (waiting for a signature, the
        payment or the node); they have no address.
      - V(error) are containers the node refused; C(zos_error) holds the node's message.
      - Containers of cancelled, expired or deleted reservations are never listed.
    type: list
    elements: str
    choices: [ok, pending, error]
    default: [ok]
  name_patterns:
    description:
      - Only list containers whose host name matches one of these shell-style patterns (for example V(web-*)).
      - An empty list keeps every name.
    type: list
    elements: str
    default: []
  node_ids:
    description:
      - Only list containers running on one of these nodes (node ids as in C(zos_node_id)).
    type: list
    elements: str
    default: []
  farm_ids:
    description:
      - Only list containers running on a node of one of these farms.
    type: list
    elements: int
    default: []
  networks:
    description:
      - Only list containers connected to one of these private networks (by network name).
    type: list
    elements: str
    default: []
  labels:
    description:
      - Only list containers and VMs carrying every one of these labels with these values (for example V(app=web)).
      - A host whose labels are sealed and can not be opened (no seed configured) matches no label filter.
    type: dict
    default: {}
notes:
  - Pages of reservations and one C(GET /nodes/<id>) per node are read on every run; enable O(cache) for large
    inventories. The cache holds no secret.
  - In AWX or Automation Controller, attach a credential of the threefold.grid credential type to the inventory
    source; it sets the E(TFGRID_*) environment variables this plugin reads. See the collection's AWX guide.
seealso:
  - module: threefold.grid.zos_container
  - module: threefold.grid.zos_identity
"""

EXAMPLES = r"""
# inventory.zos.yml: every running container of the identity in TFGRID_IDENTITY_NAME on localgrid
plugin: threefold.grid.zos

---
# production.zos.yml: containers on the main grid, grouped by node and network, reached over public IPv6
plugin: threefold.grid.zos
network: main
identity_name: alice.3bot
address: public_ipv6
keyed_groups:
  - key: zos_node_id
    prefix: node
  - key: zos_network
    prefix: network
  # zos_container's labels {app: web, env: prod} put the host in label_app_web and label_env_prod
  - key: zos_labels
    prefix: label
groups:
  big: zos_capacity.memory >= 4096
compose:
  ansible_user: "'root'"

---
# web.zos.yml: only web containers of two farms, credentials from lookups, cached for 10 minutes
# (the source is templated while it is read, before any inventory or extra variable exists)
plugin: threefold.grid.zos
identity_name: "{{ lookup('ansible.builtin.env', 'GRID_OWNER') }}"
identity_seed: "{{ lookup('ansible.builtin.file', '~/.config/tfgrid/owner.seed') }}"
name_patterns:
  - "web-*"
labels:
  env: prod
farm_ids: [1, 2]
states: [ok, pending]
cache: true
cache_plugin: ansible.builtin.jsonfile
cache_connection: ~/.cache/threefold-grid-inventory
cache_timeout: 600
"""

import fnmatch
import hashlib
import os

from ansible.errors import AnsibleParserError
from ansible.inventory.group import to_safe_group_name
from ansible.plugins.inventory import BaseInventoryPlugin, Cacheable, Constructable

from ansible_collections.threefold.grid.plugins.module_utils._errors import ExplorerError, ExplorerNotFound, GridError
from ansible_collections.threefold.grid.plugins.module_utils._labels import matches, normalise_labels, stored_labels
from ansible_collections.threefold.grid.plugins.module_utils._session import GridSession, registered_user
from ansible_collections.threefold.grid.plugins.plugin_utils._zos_containers import (
    ansible_host,
    container_records,
    newest_per_name,
)
from ansible_collections.threefold.grid.plugins.plugin_utils._zos_kubernetes import kubernetes_records

HOST_GROUP = "zos"


def kind_of(record):
    """container or kubernetes; records cached by a version that listed containers only have no kind."""
    return record.get("kind", "container")


class InventoryModule(BaseInventoryPlugin, Constructable, Cacheable):
    NAME = "threefold.grid.zos"

    def verify_file(self, path):
        if not super(InventoryModule, self).verify_file(path):
            return False
        name = os.path.basename(path)
        return name in ("zos.yml", "zos.yaml") or name.endswith((".zos.yml", ".zos.yaml"))

    def parse(self, inventory, loader, path, cache=True):
        super(InventoryModule, self).parse(inventory, loader, path, cache)
        self._read_config_data(path)
        options = self._session_options()
        explorer_url = GridSession(options).explorer_url
        identity_name = options["identity_name"]
        if not identity_name:
            raise AnsibleParserError(
                "threefold.grid.zos: identity_name is required (or set TFGRID_IDENTITY_NAME): the 3Bot name "
                "whose containers are listed")

        cache_key = "%s_%s" % (
            self.get_cache_key(path),
            hashlib.sha256(("%s|%s" % (explorer_url, identity_name)).encode("utf-8")).hexdigest()[:12])
        use_cache = self.get_option("cache")
        records = None
        if use_cache and cache:
            records = self._cache.get(cache_key)
        if records is None:
            records = self._fetch(options)
            if use_cache:
                self._cache[cache_key] = records
        try:
            self._wanted_labels = normalise_labels(self.get_option("labels"))
            session = GridSession(options, check_mode=True)
            # The seed, when configured, opens sealed labels (cached records keep them sealed).
            self._identity = session.identity if session.has_identity else None
        except GridError as exc:
            raise AnsibleParserError("threefold.grid.zos: %s" % exc.msg) from None
        self._populate(records)

    # ---- options ---------------------------------------------------------------------------

    def _text_option(self, name):
        """An option rendered as a template (values from the environment are never templates) or None."""
        value = self.get_option(name)
        if value is None:
            return None
        value = self.templar.template(value)
        if value is None:
            return None
        # AWX sets the variable of an empty credential field to "", which means "not set".
        return str(value).strip() or None

    def _session_options(self):
        """The options a GridSession takes, templated (the identity options may come from vault or extra vars)."""
        options = dict((name, self._text_option(name)) for name in (
            "explorer_url", "identity_name", "identity_seed", "identity_mnemonic", "identity_seed_file"))
        if options["identity_seed_file"]:
            options["identity_seed_file"] = os.path.expanduser(options["identity_seed_file"])
        options.update((name, self.get_option(name)) for name in (
            "network", "explorer_timeout", "explorer_retries", "validate_certs"))
        return options

    # ---- explorer ----------------------------------------------------------------------------

    def _fetch(self, options):
        """Container records of the identity, with farm ids; nothing secret, so they can be cached."""
        session = GridSession(options, check_mode=True)
        try:
            # Listing needs no key; a configured one must be the identity's.
            identity = session.identity if session.has_identity else None
            with session.client as client:
                user = registered_user(client, options["identity_name"], session.explorer_url, identity)
                return self._records(client, options["identity_name"], int(user["id"]))
        except GridError as exc:
            # Messages name options, never values.
            raise AnsibleParserError("threefold.grid.zos: %s%s" % (exc.msg[:1].lower(), exc.msg[1:])) from None

    def _records(self, client, identity_name, tid):
        try:
            reservations = client.list_reservations(customer_tid=tid)
        except ExplorerError as exc:
            raise GridError("failed to list the reservations of %s (tid %d): %s" % (identity_name, tid, exc)) from None
        records = container_records(reservations) + kubernetes_records(reservations)
        farms = {}
        for record in records:
            node_id = record["node_id"]
            if node_id not in farms:
                farms[node_id] = self._farm_id(client, node_id)
            record["farm_id"] = farms[node_id]
        return records

    @staticmethod
    def _farm_id(client, node_id):
        try:
            node = client.get_node(node_id)
        except ExplorerNotFound:
            # A node removed from the directory still names its containers; it just has no farm.
            return None
        except ExplorerError as exc:
            raise GridError("failed to read node %s: %s" % (node_id, exc)) from None
        return (node or {}).get("farm_id")

    # ---- inventory ---------------------------------------------------------------------------

    def _wanted(self, record):
        if kind_of(record) not in self.get_option("workloads"):
            return False
        patterns = self.get_option("name_patterns")
        if patterns and not any(fnmatch.fnmatchcase(record["name"], pattern) for pattern in patterns):
            return False
        node_ids = self.get_option("node_ids")
        if node_ids and record["node_id"] not in node_ids:
            return False
        farm_ids = self.get_option("farm_ids")
        if farm_ids and record.get("farm_id") not in farm_ids:
            return False
        networks = self.get_option("networks")
        if networks and record["network"] not in networks:
            return False
        return matches(self._labels(record), self._wanted_labels)

    def _labels(self, record):
        """The record's labels; None when they are sealed and no seed is configured to open them."""
        return stored_labels({"labels": record.get("labels"), "sealed_labels": record.get("sealed_labels")},
                             self._identity)

    def _hostvars(self, record, address):
        hostvars = {
            "zos_kind": kind_of(record),
            "zos_node_id": record["node_id"],
            "zos_farm_id": record.get("farm_id"),
            "zos_reservation_id": record["reservation_id"],
            "zos_workload_id": record["workload_id"],
            "zos_flist": record["flist"],
            "zos_capacity": record["capacity"],
            "zos_expires_at": record["expires_at"],
            "zos_network": record["network"],
            "zos_ipv4": record["ipv4"],
            "zos_ipv6": record["ipv6"],
            "zos_state": record["state"],
            "zos_labels": self._labels(record) or {},
            "zos_labels_sealed": bool(record.get("sealed_labels")),
        }
        if hostvars["zos_kind"] == "kubernetes":
            del hostvars["zos_flist"], hostvars["zos_ipv6"]
            hostvars.update(zos_kubernetes_cluster=record["cluster"], zos_kubernetes_role=record["role"],
                            zos_kubernetes_size=record["size"], zos_kubernetes_master_ips=record["master_ips"])
        if record.get("message"):
            hostvars["zos_error"] = record["message"]
        host = ansible_host(record, address)
        if host:
            hostvars["ansible_host"] = host
        return hostvars

    def _populate(self, records):
        # While a replacement deploys, the old reservation still runs the container: pick the newest
        # reservation among those in the wanted states, then apply the other filters to it.
        states = self.get_option("states")
        kept, dropped = newest_per_name([record for record in records if record["state"] in states])
        for record in dropped:
            self.display.warning(
                "threefold.grid.zos: the older reservation %s also runs a container named %s; listing only the "
                "newest one" % (record["reservation_id"], record["name"]))
        strict = self.get_option("strict")
        address = self.get_option("address")
        self.inventory.add_group(HOST_GROUP)
        for record in kept:
            if not self._wanted(record):
                continue
            name = record["name"]
            self.inventory.add_host(name, group=HOST_GROUP)
            for group in self._kind_groups(record):
                self.inventory.add_group(group)
                self.inventory.add_host(name, group=group)
            hostvars = self._hostvars(record, address)
            for key, value in hostvars.items():
                self.inventory.set_variable(name, key, value)
            self._set_composite_vars(self.get_option("compose"), hostvars, name, strict=strict)
            self._add_host_to_composed_groups(self.get_option("groups"), hostvars, name, strict=strict)
            self._add_host_to_keyed_groups(self.get_option("keyed_groups"), hostvars, name, strict=strict)

    @staticmethod
    def _kind_groups(record):
        """zos_containers for a container; zos_kubernetes, its role's group and its cluster's group for a VM."""
        if kind_of(record) == "container":
            return ["zos_containers"]
        groups = ["zos_kubernetes", "zos_kubernetes_%ss" % record["role"]]
        if record["cluster"]:
            groups.append(to_safe_group_name("zos_cluster_%s" % record["cluster"], force=True, silent=True))
        return groups
