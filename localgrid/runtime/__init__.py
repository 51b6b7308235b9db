"""What runs a node's workloads on this machine: nothing (simulated) or Linux namespaces."""
