"""Marketing automation.

Segments, campaigns and journeys, planning, content, outbox, returns.
"""
