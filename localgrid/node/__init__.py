"""Simulated 0-OS nodes: each one polls the explorer over HTTP and provisions like 0-OS v0.3.x."""
