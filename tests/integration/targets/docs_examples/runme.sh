#!/usr/bin/env bash
# Runs every YAML example of the guides (see run_examples.py) against the localgrid of
# integration_config.yml.
set -eux
exec "${ANSIBLE_TEST_PYTHON_INTERPRETER:-python3}" run_examples.py "$@"
