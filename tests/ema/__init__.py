"""Tests of the ema package."""
