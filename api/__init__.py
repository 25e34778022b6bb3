"""The composition root: HTTP app, wiring of the domain packages, CLI."""
