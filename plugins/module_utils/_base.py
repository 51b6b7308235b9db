# Copyright: Contributors to the threefold.grid collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# This module_utils file is private to the threefold.grid collection and may change at any time.

"""ZosModule: the Ansible side of every threefold.grid module.

It adds the common options (_argspec.py) to the module's, builds the GridSession the grid
layer works with, runs the module's Runner and is the one place that turns what the grid layer raises
into ``fail_json``: a GridError gives ``msg``, its structured ``failure`` and ``returns``; a missing
library gives ``missing_required_lib``; anything unexpected also gives ``exception`` (the traceback).
Nothing below this file imports AnsibleModule.
"""

from __future__ import annotations

import copy
import traceback
from typing import Any, Dict, NoReturn, Optional, Type

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.threefold.grid.plugins.module_utils._argspec import (
    dict_shape_problem,
    explorer_argument_spec,
    identity_argument_spec,
    option_value_problem,
    without_secrets,
)
from ansible_collections.threefold.grid.plugins.module_utils._errors import GridError, MissingLibraryError
from ansible_collections.threefold.grid.plugins.module_utils._explorer import HAS_HTTPX, HTTPX_IMPORT_ERROR
from ansible_collections.threefold.grid.plugins.module_utils._crypto import HAS_NACL, NACL_IMPORT_ERROR
from ansible_collections.threefold.grid.plugins.module_utils._session import IDENTITY_SOURCES, GridSession, Runner


class _Module(AnsibleModule):
    """AnsibleModule whose argument-spec failure names the option when a dict was given as a string."""

    def _load_params(self) -> None:
        super(_Module, self)._load_params()
        # Validation drops list items it cannot convert, so the shape check reads the options as given.
        self.given_params = copy.deepcopy(self.params)

    def fail_json(self, msg: str, **kwargs: Any) -> NoReturn:
        validation = vars(self).get("validation_result")
        if validation is not None and validation.errors.errors and not kwargs:
            # The first error of a dict given as a string comes from the no_log scan and names no option; that
            # scan also stopped masking, so the returned invocation must not show the options as they are.
            msg = dict_shape_problem(self.argument_spec, self.given_params) or msg
            self.params = without_secrets(self.argument_spec, self.params)
        super(_Module, self).fail_json(msg=msg, **kwargs)


class ZosModule:
    """An AnsibleModule with the common threefold.grid options, its GridSession and the one failure path."""

    def __init__(self, argument_spec: Dict[str, Any], identity: bool = True, **ansible_module_kwargs: Any) -> None:
        # Every module accepts the identity options, even those that never sign (identity=False), so that
        # one `module_defaults: group/threefold.grid.grid` block can carry them for the whole collection.
        spec = explorer_argument_spec()
        spec.update(identity_argument_spec())
        spec.update(argument_spec)
        kwargs = dict(ansible_module_kwargs)
        kwargs["mutually_exclusive"] = list(kwargs.get("mutually_exclusive") or []) + [list(IDENTITY_SOURCES)]
        kwargs["supports_check_mode"] = True
        self.module = _Module(argument_spec=spec, **kwargs)
        self.params = self.module.params
        problem = option_value_problem(self.params)
        if problem:
            self.module.fail_json(msg=problem)
        if not HAS_HTTPX:
            self.module.fail_json(msg=missing_required_lib("httpx"), exception=HTTPX_IMPORT_ERROR)
        if identity and not HAS_NACL:
            self.module.fail_json(msg=missing_required_lib("pynacl"), exception=NACL_IMPORT_ERROR)
        self.session = GridSession.from_options(self.params, check_mode=self.module.check_mode)

    @property
    def check_mode(self) -> bool:
        return self.module.check_mode

    @property
    def diff_mode(self) -> bool:
        return self.module._diff

    def run(self, runner_class: Type[Runner], params: Optional[Dict[str, Any]] = None) -> NoReturn:
        """Run the module's Runner (on ``params`` when given, else the module's) and exit with its result, or fail
        (the only failure path after the arg spec)."""
        try:
            result = runner_class(self.params if params is None else params, self.session, self.diff_mode).run()
        except MissingLibraryError as error:
            self.module.fail_json(msg=missing_required_lib(error.library), exception=error.import_error)
        except GridError as error:
            self.fail(error)
        except Exception as error:  # pylint: disable=broad-except
            # A bug, not a grid failure: the traceback goes with it (shown with -vvv).
            self.module.fail_json(msg="Unexpected error: %s: %s" % (type(error).__name__, error),
                                  exception=traceback.format_exc())
        for warning in self.session.warnings:
            self.module.warn(warning)
        self.module.exit_json(**result)

    def fail(self, error: GridError) -> NoReturn:
        extra: Dict[str, Any] = dict(error.returns)
        failure = error.to_failure()
        if failure:
            extra["failure"] = failure
        for warning in self.session.warnings:
            self.module.warn(warning)
        self.module.fail_json(msg=error.msg, **extra)
