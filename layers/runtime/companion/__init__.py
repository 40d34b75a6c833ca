"""Shared runtime of sfn-bedrock-companion: the model-family codec and the domain logic behind the Lambdas."""
