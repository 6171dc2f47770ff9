"""opencode_4py: a terminal coding agent."""

__version__ = "1.2.2"
