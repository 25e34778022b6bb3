"""Builders for tests: plain functions that go through the services."""

from __future__ import annotations

from datetime import UTC, datetime

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
"""The frozen 'now' of every test: a Monday morning."""
