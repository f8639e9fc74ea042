"""Blueprints: thin adapters from Functions triggers to the core in `shared/`."""
