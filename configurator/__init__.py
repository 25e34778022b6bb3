"""Constraint-based product configurator: models, solving, explanation, pricing, BOM.

The engine is pure Python with no database and no HTTP:

- `configurator.formats.native | featureide | xcsp` import a `model.ProductModel`;
- `engine.Configurator(model)` compiles it once per model version (thread-safe,
  shared by all sessions) and answers `valid_domains(choices)`;
- `session.Session(cfg, choices, domains)` is one dialog: `choose`, `unset`,
  `explain`, `state`, `complete`, `bom`;
- `explain`, `optimise` (completion, price range), `counting` and `pricing`
  hold the functions behind those methods.
"""
