"""The version of datadiet (read by manifests and the CLI)."""

__version__ = "0.1.0"
