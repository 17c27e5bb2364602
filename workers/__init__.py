"""Dramatiq actors, kept thin: each takes ids, calls one handler in gateway/, and returns."""
