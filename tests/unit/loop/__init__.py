"""Tests of gateway/loop/."""
