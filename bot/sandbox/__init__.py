"""Loopback stand-ins for Hamsa and Slack, used by tests, the demo and the benchmarks."""
