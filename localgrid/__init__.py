"""localgrid: a ThreeFold Grid v2 on one machine (explorer API, simulated 0-OS nodes, Stellar ledger)."""

__version__ = "0.1.0"
