"""Domain logic of the Lambda tasks: one module per task, each a model pair and one function."""
