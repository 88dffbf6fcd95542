"""altinn-corr: a command-line client for the Altinn Correspondence API (sender side)."""

__version__ = "0.1.0"
