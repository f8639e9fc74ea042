"""The core of the app: importable without azure.functions."""
