# Copyright: Contributors to the threefold.grid collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# This module_utils file is private to the threefold.grid collection and may change at any time.

"""What the modules that register reservations share: their common options and one runner.

zos_container, zos_volume and zos_network each manage one named resource in its own reservation;
they subclass ResourceRunner and supply only their spec normalisation (``present``) and the
resource they return (``view``). zos_reservation reuses the option handling and the failure path::

    class VolumeRunner(ResourceRunner):
        kind = "volume"            # metadata kind, and the key of the module's return value
        workload_list = "volumes"  # the diff shows this one workload; None shows the whole reservation

        def present(self):
            spec = ...             # normalised and checked, SpecError on a wrong option
            return self.deploy(lambda: {"volumes": [...]}, spec, self.lifetime(), currencies, payment)

        def view(self, reservation, replaced=None, payment=None):
            return {...} or None

    zmodule.exit(**VolumeRunner(zmodule).run())

``run()`` calls the method named by the ``state`` option, fails with the option error for a spec
error and, for a lifecycle error, with its ``failure`` and the resource as far as it is known.
"""

from __future__ import annotations

from ansible_collections.threefold.grid.plugins.module_utils._base import wait_argument_spec
from ansible_collections.threefold.grid.plugins.module_utils._payment import payment_argument_spec
from ansible_collections.threefold.grid.plugins.module_utils._reservation import LifecycleError, ReservationLifecycle
from ansible_collections.threefold.grid.plugins.module_utils._spec import SpecError, lifetime, parse_duration


def reservation_argument_spec():
    """duration, expires_at, renew_before, payment and the wait options (doc fragments threefold.grid.lifetime,
    threefold.grid.payment and threefold.grid.wait)."""
    spec = dict(
        duration=dict(type="str"),
        expires_at=dict(type="str"),
        renew_before=dict(type="str", no_log=False),
        payment=dict(type="dict", options=payment_argument_spec()),
    )
    spec.update(wait_argument_spec())
    return spec


def container_argument_spec(required):
    """The options of one container: zos_container's, and those of each of zos_reservation's containers.

    ``required`` marks node_id, flist and network_connection required (zos_container needs them only for
    state=present).
    """
    return dict(
        node_id=dict(type="str", required=required),
        flist=dict(type="str", required=required),
        hub_url=dict(type="str", default=""),
        env=dict(type="dict", default={}),
        secret_env=dict(type="dict", default={}, no_log=True),
        entrypoint=dict(type="str", default=""),
        interactive=dict(type="bool", default=False),
        volumes=dict(type="list", elements="dict", default=[], options=dict(
            volume=dict(type="str", required=True),
            mountpoint=dict(type="str", required=True),
        )),
        capacity=dict(type="dict", default={}, options=dict(
            cpu=dict(type="int", default=1),
            memory=dict(type="int", default=1024),
            disk_size=dict(type="int", default=256),
            disk_type=dict(type="str", choices=["SSD", "HDD"], default="SSD"),
        )),
        network_connection=dict(type="dict", required=required, options=dict(
            name=dict(type="str", required=True),
            ip_address=dict(type="str", required=True),
            public_ipv6=dict(type="bool", default=False),
        )),
        logs=dict(type="list", elements="dict", default=[], options=dict(
            stdout=dict(type="str", required=True),
            stderr=dict(type="str", required=True),
        )),
    )


def check_volume_type(volume_type, option="type"):
    """Refuse what the explorer refuses, before anything is signed: since tfexplorer v0.3.2 volumes are SSD."""
    if volume_type != "SSD":
        raise SpecError("%s: %r volumes are refused by the explorer (since v0.3.2 volumes must be SSD); use %s=SSD"
                        % (option, volume_type, option))


class ResourceRunner:
    kind = None            # metadata kind of the reservation, also the module's return key
    workload_list = None   # the data_reservation list whose single workload the diff shows; None: the whole
    returns_estimate = True
    spec_errors = (SpecError,)

    def __init__(self, zmodule):
        self.zmodule = zmodule
        self.params = zmodule.params
        self.name = self.params.get("name")
        self.lifecycle = ReservationLifecycle(zmodule)

    # ---- what a module supplies ----------------------------------------------------------------

    def present(self):
        raise NotImplementedError

    def view(self, reservation, replaced=None, payment=None):
        """The returned resource from a lifecycle reservation view (None stays None)."""
        raise NotImplementedError

    def present_returns(self, outcome):
        return {self.kind: self.view(outcome["reservation"], outcome["replaced"], outcome["payment"])}

    def absent_returns(self, outcome):
        reservations = outcome["reservations"]
        return {self.kind: self.view(reservations[0]) if reservations else None}

    def failure_returns(self, error):
        return {self.kind: self.view(error.reservation, payment=error.payment)}

    # ---- shared flow ---------------------------------------------------------------------------

    def wait_options(self):
        return dict(wait=self.params["wait"], wait_timeout=self.params["wait_timeout"],
                    wait_sleep=self.params["wait_sleep"])

    def lifetime(self):
        """(lifetime, renew_before seconds or None) from the lifetime options."""
        renew_before = self.params["renew_before"]
        return (lifetime(self.params["duration"], self.params["expires_at"]),
                parse_duration(renew_before, "renew_before") if renew_before else None)

    def deploy(self, workloads, spec, life, currencies, payment):
        """Make sure the reservation holds ``workloads`` (see ReservationLifecycle.ensure_present); the module result."""
        reservation_lifetime, renew_before = life
        outcome = self.lifecycle.ensure_present(
            self.name, self.kind, workloads, spec, reservation_lifetime, currencies=currencies, payment=payment,
            renew_before=renew_before, **self.wait_options())
        result = dict(self.present_returns(outcome), changed=outcome["changed"], action=outcome["action"])
        if self.returns_estimate and outcome["estimate"] is not None:
            result["estimate"] = outcome["estimate"]
        if self.zmodule.diff_mode:
            result["diff"] = self.diff(outcome["diff"])
        return result

    def absent(self):
        outcome = self.lifecycle.ensure_absent(self.name, self.kind, **self.wait_options())
        return self.absent_result(outcome, self.absent_returns(outcome))

    def absent_result(self, outcome, returns):
        result = dict(returns, changed=outcome["changed"], action="cancel" if outcome["changed"] else "none")
        if self.zmodule.diff_mode:
            result["diff"] = self.diff(outcome["diff"])
        return result

    def diff(self, diff):
        if self.workload_list is None:
            return diff
        return {"before": self._diff_side(diff["before"]), "after": self._diff_side(diff["after"])}

    def _diff_side(self, described):
        """The one workload of the reservation, with the reservation's expiry and currencies."""
        if not described:
            return {}
        shown = dict((described.get(self.workload_list) or [{}])[0])
        shown.pop("workload_id", None)
        shown["expires_at"] = described.get("expires_at")
        shown["currencies"] = described.get("currencies")
        return shown

    def run(self):
        try:
            # The state option's choices name the methods.
            result = getattr(self, self.params["state"])()
        except self.spec_errors as error:
            self.zmodule.fail(str(error))
        except LifecycleError as error:
            extra = self.failure_returns(error)
            if error.failure:
                extra["failure"] = error.failure
            self.zmodule.fail(error.msg, **extra)
        for warning in self.lifecycle.warnings:
            self.zmodule.module.warn(warning)
        return result
