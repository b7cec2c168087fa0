"""Built-in tasks: one package per Kaggle competition (layout, split, metric, synthetic data)."""
