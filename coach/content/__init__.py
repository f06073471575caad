"""The guide and the question bank as validated data: loaders, models and the README guide table."""
