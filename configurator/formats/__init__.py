"""Model importers: the native YAML/JSON format, FeatureIDE XML and XCSP 2.1 tables."""
