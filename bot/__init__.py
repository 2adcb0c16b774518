"""Hamsa for Slack: preview Hamsa voice-agent conversations without leaving Slack."""

__version__ = "0.1.0"
