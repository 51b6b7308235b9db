# The two commands of the README, plus development shortcuts.
.PHONY: demo test venv localgrid clean bench reliability

demo:  ## deploy a container end to end on a local grid (creates .venv on first run)
	scripts/demo.sh

test:  ## run every test: localgrid, sanity, units, integration, lint, docs (creates the venvs)
	scripts/test.sh

venv:
	scripts/venv.sh --with-219

localgrid:  ## run a localgrid in the foreground on 127.0.0.1:8080
	scripts/venv.sh && .venv/bin/python -m localgrid serve --host 127.0.0.1 --port 8080 --state localgrid-state.db

clean:
	rm -rf build tests/output localgrid-state.db*

bench:  ## speed and memory benchmarks (ratios measured in one run)
	scripts/bench.sh

reliability:  ## issue 13's reliability suite in full: 20 fault seeds x 10 containers, SIGKILLs, concurrent runs (about 2 hours)
	scripts/reliability.sh
