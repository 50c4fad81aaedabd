"""Files: atomic writes, model files, checkpoints and tabular data."""
