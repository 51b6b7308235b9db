#!/usr/bin/env bash
# Runs a job playbook and an inventory update through ansible-runner, the engine of AWX, with the
# threefold.grid credential injected as environment variables; see run_job.py.
set -eux
python run_job.py ../../integration_config.yml
