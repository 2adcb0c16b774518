"""Hamsa's API: the one client, its cache, the typed conversation, and the errors it raises."""
