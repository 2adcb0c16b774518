"""State replicas must share, behind one interface: in-process here, Redis when ``REDIS_URL`` is set."""
