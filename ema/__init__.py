"""Marketing automation: segments, campaigns and journeys, planning, content, outbox, returns."""
