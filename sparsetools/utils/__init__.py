"""Shared helpers: input validation, dtype policy, thread control."""
