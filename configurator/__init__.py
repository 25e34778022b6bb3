"""Constraint-based product configurator: models, solving, explanation, pricing, BOM.

The engine is pure Python with no database and no HTTP. Build one
`configurator.engine.Configurator` per product model version (compiling is the
expensive part) and drive dialogs through `configurator.session.Session` or
the stateless `Configurator.state(choices)`.
"""
