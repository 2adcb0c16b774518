"""Benchmarks of the real app over HTTP against the loopback stand-ins: ``python -m bench [--quick]``."""
