"""The Warp Oz integration API."""
