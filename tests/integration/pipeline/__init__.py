"""Tests of gateway/pipeline/."""
