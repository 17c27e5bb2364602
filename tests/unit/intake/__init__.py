"""Tests of gateway/intake/."""
