# Copyright: Contributors to the threefold.grid collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# This module_utils file is private to the threefold.grid collection and may change at any time.

"""Normalised specs, their fingerprint, the metadata tag and option parsing helpers.

A spec is a plain dict built from module options with every default filled in, so that a
re-run with the same options (in any key order) gives the same fingerprint. Secret values are
wrapped in ``Secret``: the fingerprint renders them as an HMAC keyed by the identity seed (the
metadata tag is readable by anyone, a plain hash of a short secret could be brute forced), and
every display renders them as ``********``.
"""

from __future__ import annotations

import copy
import datetime
import hashlib
import hmac
import ipaddress
import json
import re
from typing import Any, Dict, List, Mapping, Optional, Tuple

from ansible_collections.threefold.grid.plugins.module_utils._errors import SpecError
from ansible_collections.threefold.grid.plugins.module_utils._workloads import COREX_PORT, MASK

METADATA_MAX_BYTES = 1024  # the explorer refuses more ("metadata can not be bigger than 1024 bytes")
SECRET_DIGEST_HEX = 16
MIN_RESERVATION_SECONDS = 3600
# The explorer checks "at least one hour" when the request arrives; a one hour reservation
# computed here would be a few milliseconds short there.
RESERVATION_MARGIN_SECONDS = 60

# The explorer keeps any text in the 1024 bytes of metadata and 0-OS hashes a network's name into its id, but a
# name is also an inventory host name (threefold.grid.zos) used in host patterns, where , : ! & ~ * ? [ ] and
# spaces have meanings; 128 characters keep task output readable, far below the metadata limit.
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
NAME_RULE = ("a name is 1 to 128 letters, digits, dots, dashes and underscores, starting with a letter or digit, "
             "because it is also the inventory host name of the container (threefold.grid.zos) and appears in host "
             "patterns")
ENV_KEY_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
DURATION_RE = re.compile(r"^\s*(\d+)\s*([smhdw]?)\s*$")
DURATION_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}

CAPACITY_LIMITS = {"cpu": (1, 32), "memory": (256, 262144), "disk_size": (256, 1048576)}
VOLUME_SIZE_LIMITS = (1, 65536)  # GiB
CAPACITY_DEFAULTS = {"cpu": 1, "memory": 1024, "disk_size": 256, "disk_type": "SSD"}
REDIS_URL_RE = re.compile(r"^redis://[^/:\s]+(:\d+)?/\S+$")


class Secret(object):
    """A secret option value. Never rendered as plaintext by this module."""

    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value

    def __repr__(self):
        return "Secret(%s)" % MASK

    def __eq__(self, other):
        return isinstance(other, Secret) and hmac.compare_digest(self.value, other.value)

    def __ne__(self, other):
        return not self == other

    def __hash__(self):
        return hash(("Secret", self.value))


def _render(value, secret):
    if isinstance(value, Secret):
        return secret(value)
    if isinstance(value, dict):
        return dict((k, _render(v, secret)) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return [_render(v, secret) for v in value]
    return value


def masked(spec: Any) -> Any:
    """A copy of ``spec`` with every secret replaced by ``********``."""
    return _render(copy.deepcopy(spec), lambda s: MASK)


def fingerprint(spec: Any, secret_key: bytes) -> str:
    """sha256 hex of the canonical JSON of ``spec``; secrets as HMAC-SHA256 keyed by ``secret_key``."""
    if isinstance(secret_key, str):
        secret_key = secret_key.encode("utf-8")

    def keyed(secret):
        return "hmac-sha256:" + hmac.new(secret_key, secret.value.encode("utf-8"), hashlib.sha256).hexdigest()

    canonical = json.dumps(_render(spec, keyed), sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def secret_digests(spec: Any, secret_key: bytes) -> Dict[str, str]:
    """``{path: digest}`` of every secret in ``spec`` (paths such as ``secret_env.PASSWORD``).

    Kept in the metadata tag so that a later diff can say which secret changed. A digest is the start of the
    HMAC keyed by the identity seed: it tells equal values apart without revealing or allowing to guess them.
    """
    found: Dict[str, str] = {}

    def walk(value, path):
        if isinstance(value, Secret):
            message = b"secret digest\0" + value.value.encode("utf-8")  # not the fingerprint's HMAC of the value
            found[path] = hmac.new(secret_key, message, hashlib.sha256).hexdigest()[:SECRET_DIGEST_HEX]
        elif isinstance(value, dict):
            for key in sorted(value):
                walk(value[key], "%s.%s" % (path, key) if path else str(key))
        elif isinstance(value, (list, tuple)):
            for index, item in enumerate(value):
                walk(item, "%s[%d]" % (path, index))
    walk(spec, "")
    return found


def check_name(name: str) -> None:
    """Refuse a resource name outside NAME_RE (see NAME_RULE)."""
    if not NAME_RE.match(name or ""):
        shown = name if len(name) <= 60 else "%s... (%d characters)" % (name[:40], len(name))
        raise SpecError("name %r is refused: %s" % (shown, NAME_RULE))


def metadata_text(name: str, kind: str, fp: str, fields: Optional[Mapping[str, Any]] = None) -> str:
    """The tag text, whatever its size; ``fields`` are more keys of the tag (labels, _labels.py)."""
    tag: Dict[str, Any] = dict(fields or {})
    tag.update(name=name, kind=kind, fp=fp)
    return json.dumps({"ansible": tag}, sort_keys=True, separators=(",", ":"))


def metadata_tag(name: str, kind: str, fp: str, fields: Optional[Mapping[str, Any]] = None,
                 secrets: Optional[Dict[str, str]] = None) -> str:
    """The reservation ``metadata`` text identifying an Ansible-managed reservation.

    ``fields`` (labels) must fit the explorer's 1024 bytes; ``secrets`` (secret_digests) go in when they fit too,
    without them a diff can only say that a secret may have changed.
    """
    # A Kubernetes worker's tag names it <cluster>/<worker> (_kubernetes.py): each part follows the rule.
    for part in name.split("/", 1) if kind == "kubernetes_worker" else [name]:
        check_name(part)
    text = metadata_text(name, kind, fp, fields)
    if len(text.encode("utf-8")) > METADATA_MAX_BYTES:
        raise SpecError("name %r%s is too long to fit in the reservation metadata (1024 bytes)"
                        % (name, " with its labels" if fields else ""))
    if secrets:
        with_secrets = metadata_text(name, kind, fp, dict(fields or {}, secrets=secrets))
        if len(with_secrets.encode("utf-8")) <= METADATA_MAX_BYTES:
            text = with_secrets
    return text


def parse_metadata(text: Optional[str]) -> Optional[Dict[str, Any]]:
    """``{"name","kind","fp"}`` (and ``secrets``, ``labels``, ``sealed_labels`` or ``channels`` when the tag has
    them) from a reservation's metadata, or None when it is not ours."""
    if not text:
        return None
    try:
        tag = json.loads(text)
    except ValueError:
        return None
    if not isinstance(tag, dict) or not isinstance(tag.get("ansible"), dict):
        return None
    tag = tag["ansible"]
    if not isinstance(tag.get("name"), str) or not isinstance(tag.get("kind"), str):
        return None
    parsed = {"name": tag["name"], "kind": tag["kind"], "fp": tag.get("fp")}
    if isinstance(tag.get("secrets"), dict):
        parsed["secrets"] = tag["secrets"]
    if isinstance(tag.get("labels"), dict):
        parsed["labels"] = dict((str(k), str(v)) for k, v in tag["labels"].items())
    if isinstance(tag.get("sealed_labels"), str):
        parsed["sealed_labels"] = tag["sealed_labels"]
    channels = tag.get("channels")
    if isinstance(channels, int) and not isinstance(channels, bool) and channels > 0:
        parsed["channels"] = channels
    return parsed


def parse_duration(value: Any, option: str = "duration") -> int:
    """Seconds from ``30d``, ``12h``, ``90m``, ``45s``, ``2w`` or a bare number of seconds."""
    if isinstance(value, bool):
        raise SpecError("%s: %r is not a duration" % (option, value))
    if isinstance(value, int):
        return value
    match = DURATION_RE.match(str(value))
    if not match:
        raise SpecError("%s: %r is not a duration such as 30d, 12h, 90m, 45s or 2w" % (option, value))
    return int(match.group(1)) * DURATION_UNITS[match.group(2)]


def parse_epoch(value: Any, option: str = "expires_at") -> int:
    """Unix seconds from an int, a numeric string or an ISO 8601 date (naive = UTC)."""
    if isinstance(value, bool):
        raise SpecError("%s: %r is not a date" % (option, value))
    if isinstance(value, (int, float)):
        return int(value)
    text = str(value).strip()
    if re.match(r"^\d+$", text):
        return int(text)
    iso = text[:-1] + "+00:00" if text.endswith("Z") else text
    try:
        moment = datetime.datetime.fromisoformat(iso)
    except ValueError:
        raise SpecError("%s: %r is neither a Unix epoch nor an ISO 8601 date" % (option, value))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.timezone.utc)
    return int(moment.timestamp())


def lifetime(duration: Any = None, expires_at: Any = None, default_duration: str = "30d") -> Dict[str, int]:
    """The normalised reservation length: ``{"duration": seconds}`` or ``{"expires_at": epoch}``."""
    if expires_at is not None:
        return {"expires_at": parse_epoch(expires_at)}
    seconds = parse_duration(duration if duration is not None else default_duration)
    if seconds < MIN_RESERVATION_SECONDS:
        raise SpecError("duration: %r is shorter than the 1 hour minimum of a reservation" % (duration,))
    return {"duration": seconds}


def expiration_epoch(life: Dict[str, int], now: int) -> int:
    """``expiration_reservation`` for a lifetime at ``now``; fails when it is under one hour."""
    if "expires_at" in life:
        expiration = life["expires_at"]
        if expiration - now < MIN_RESERVATION_SECONDS + RESERVATION_MARGIN_SECONDS:
            raise SpecError(
                "expires_at: %r is less than 1 hour from now (a reservation lasts at least 1 hour)" % expiration
            )
        return int(expiration)
    return int(now) + max(life["duration"], MIN_RESERVATION_SECONDS + RESERVATION_MARGIN_SECONDS)


def normalise_currencies(currencies: Optional[List[str]]) -> List[str]:
    allowed = ("TFT", "TFTA", "FreeTFT")
    result = []
    for code in currencies or ["TFT"]:
        if code not in allowed:
            raise SpecError("currencies: %r is not one of %s" % (code, ", ".join(allowed)))
        if code not in result:
            result.append(code)
    return result


def _check_env(env, secret_env, prefix):
    for key in env:
        if not ENV_KEY_RE.match(key):
            raise SpecError("%senv: key %r is not a valid variable name (^[A-Za-z_][A-Za-z0-9_]*$)" % (prefix, key))
    for key in secret_env:
        if not ENV_KEY_RE.match(key):
            raise SpecError(
                "%ssecret_env: key %r is not a valid variable name (^[A-Za-z_][A-Za-z0-9_]*$)" % (prefix, key)
            )
    both = sorted(set(env) & set(secret_env))
    if both:
        raise SpecError("%senv and %ssecret_env both set %s; a variable may be in only one" % (prefix, prefix, ", ".join(both)))


def _env_values(values, option):
    """{name: text} of an env mapping; a list or dict value is refused (it would be sent as its Python repr)."""
    for key, value in values.items():
        if isinstance(value, (dict, list, tuple, set)):
            raise SpecError("%s: the value of %s is a %s; give a string (quote it, or use to_json)"
                            % (option, key, type(value).__name__))
    return dict((str(k), "" if v is None else str(v)) for k, v in values.items())


def _check_hub_url(hub_url, prefix):
    # 0-OS mounts the flist's data from this storage: zdb:// as its default, redis:// and http(s):// too.
    if hub_url and not re.match(r"^(zdb|redis|https?)://[A-Za-z0-9.-]+(:[0-9]{1,5})?/?$", hub_url):
        raise SpecError("%shub_url: %r is not a flist storage URL such as zdb://hub.grid.tf:9900 (schemes zdb, redis, "
                        "http, https; host and optional port)" % (prefix, hub_url))


def _check_flist(flist, prefix):
    match = re.match(r"^https?://[^/\s]+/\S*\.flist$", flist or "")
    if not match:
        raise SpecError("%sflist: %r is not an http(s) URL ending in .flist" % (prefix, flist))


def _check_capacity(capacity, prefix):
    for key, (low, high) in CAPACITY_LIMITS.items():
        value = capacity[key]
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise SpecError("%scapacity.%s: %r is outside %d..%d" % (prefix, key, value, low, high))
    if capacity["disk_type"] not in ("SSD", "HDD"):
        raise SpecError("%scapacity.disk_type: %r is not SSD or HDD" % (prefix, capacity["disk_type"]))


def normalise_volume(options: Mapping[str, Any], prefix: str = "") -> Dict[str, Any]:
    """The volume spec {node_id, size, type} (zos_volume, and each volume of zos_reservation).

    Refuses what the explorer refuses before anything is signed: since tfexplorer v0.3.2 volumes are SSD.
    """
    if options["type"] != "SSD":
        raise SpecError("%stype: %r volumes are refused by the explorer (since v0.3.2 volumes must be SSD); use "
                        "%stype=SSD" % (prefix, options["type"], prefix))
    low, high = VOLUME_SIZE_LIMITS
    if not low <= options["size"] <= high:
        raise SpecError("%ssize: %r must be at least %d and at most %d (GiB)" % (prefix, options["size"], low, high))
    node_id = options["node_id"].strip()
    if not node_id:
        raise SpecError("%snode_id: %r must be a node id" % (prefix, options["node_id"]))
    return {"node_id": node_id, "size": options["size"], "type": options["type"]}


def normalise_ipv4(value, option):
    try:
        address = ipaddress.IPv4Address(str(value).strip())
    except ValueError:
        raise SpecError("%s: %r is not an IPv4 address" % (option, value))
    return str(address)


def _normalise_mountpoint(value, option):
    text = str(value or "").strip()
    if not text.startswith("/") or text == "/":
        raise SpecError("%s: %r is not an absolute path below /" % (option, value))
    return text.rstrip("/")


def _normalise_capacity(options: Mapping[str, Any], prefix: str) -> Dict[str, Any]:
    capacity = dict(CAPACITY_DEFAULTS)
    for key, value in (options.get("capacity") or {}).items():
        if value is not None:
            capacity[key] = value
    capacity["disk_type"] = str(capacity["disk_type"]).upper()
    _check_capacity(capacity, prefix)
    return capacity


def _normalise_connection(options: Mapping[str, Any], prefix: str) -> Dict[str, Any]:
    network = options.get("network_connection") or {}
    if not network.get("name"):
        raise SpecError("%snetwork_connection.name: %r must name the network the container joins" % (prefix, network.get("name")))
    if not str(network.get("ip_address") or "").strip():
        raise SpecError("%snetwork_connection.ip_address is required (zos_container chooses it only with placement)"
                        % prefix)
    return {
        "name": str(network["name"]),
        "ip_address": normalise_ipv4(network.get("ip_address"), prefix + "network_connection.ip_address"),
        "public_ipv6": bool(network.get("public_ipv6")),
    }


def _normalise_mounts(options: Mapping[str, Any], prefix: str) -> List[Dict[str, str]]:
    volumes = []
    mountpoints = set()
    for index, item in enumerate(options.get("volumes") or []):
        option = "%svolumes[%d]" % (prefix, index)
        reference = str(item.get("volume") or "").strip()
        if not reference:
            raise SpecError("%s.volume: %r must be a volume name or a <reservation>-<workload> id" % (option, item.get("volume")))
        mountpoint = _normalise_mountpoint(item.get("mountpoint"), option + ".mountpoint")
        if mountpoint in mountpoints:
            raise SpecError("%s.mountpoint: %r is used twice" % (option, mountpoint))
        mountpoints.add(mountpoint)
        volumes.append({"volume": reference, "mountpoint": mountpoint})
    return sorted(volumes, key=lambda v: v["mountpoint"])


def _normalise_logs(options: Mapping[str, Any], prefix: str) -> List[Dict[str, str]]:
    logs = []
    for index, item in enumerate(options.get("logs") or []):
        for stream in ("stdout", "stderr"):
            url = str(item.get(stream) or "")
            if not REDIS_URL_RE.match(url):
                raise SpecError(
                    "%slogs[%d].%s: %r is not a redis://host[:port]/channel URL" % (prefix, index, stream, url)
                )
        logs.append({"stdout": str(item["stdout"]), "stderr": str(item["stderr"])})
    return logs


def normalise_container(options: Mapping[str, Any], prefix: str = "") -> Tuple[Dict[str, Any], List[str]]:
    """The container spec from zos_container-shaped options (also each item of zos_reservation).

    Returns ``(spec, warnings)``. ``prefix`` (e.g. ``containers[0].``) is put before option names
    in error messages.
    """
    warnings = []
    env = _env_values(options.get("env") or {}, prefix + "env")
    secret_values = _env_values(options.get("secret_env") or {}, prefix + "secret_env")
    secret_env = dict((key, Secret(value)) for key, value in secret_values.items())
    _check_env(env, secret_env, prefix)
    flist = str(options.get("flist") or "").strip()
    _check_flist(flist, prefix)
    _check_hub_url(str(options.get("hub_url") or "").strip(), prefix)

    interactive = bool(options.get("interactive"))
    entrypoint = str(options.get("entrypoint") or "").strip()
    if interactive and entrypoint:
        warnings.append(
            "%sentrypoint is ignored because interactive is true: the node runs coreX (port %d) as PID 1"
            % (prefix, COREX_PORT)
        )
        entrypoint = ""

    capacity = _normalise_capacity(options, prefix)
    network_spec = _normalise_connection(options, prefix)
    volumes = _normalise_mounts(options, prefix)
    logs = _normalise_logs(options, prefix)
    spec = {
        "node_id": str(options.get("node_id") or "").strip(),
        "flist": flist,
        "hub_url": str(options.get("hub_url") or "").strip(),
        "env": env,
        "secret_env": secret_env,
        "entrypoint": entrypoint,
        "interactive": interactive,
        "volumes": volumes,
        "capacity": capacity,
        "network_connection": network_spec,
        "logs": logs,
    }
    if not spec["node_id"]:
        raise SpecError("%snode_id: %r must be a node id" % (prefix, options.get("node_id")))
    return spec, warnings


def ip_in_node_subnet(ip_address: str, node_iprange: str, option: str) -> None:
    """Fail unless ``ip_address`` is a usable host of the node's /24 (not .0, .1 (gateway) or .255)."""
    try:
        subnet = ipaddress.IPv4Network(node_iprange, strict=False)
    except ValueError:
        raise SpecError("%s: the network's range for this node %r is not an IPv4 range" % (option, node_iprange))
    address = ipaddress.IPv4Address(ip_address)
    if address not in subnet:
        raise SpecError("%s: %r is not inside the node's subnet %s" % (option, ip_address, subnet))
    reserved = (subnet.network_address, subnet.network_address + 1, subnet.broadcast_address)
    if address in reserved:
        raise SpecError(
            "%s: %r is reserved in %s (network, gateway .1 or broadcast address)" % (option, ip_address, subnet)
        )


def diff(before: Any, after: Any) -> Dict[str, Any]:
    """An Ansible ``diff`` dict; both sides masked."""
    return {"before": masked(before or {}), "after": masked(after or {})}
