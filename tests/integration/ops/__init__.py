"""Tests of gateway/ops/."""
