"""Hiloop Bridge: a human in the loop of Warp Oz coding agents, through Slack."""

__version__ = "0.1.0"
