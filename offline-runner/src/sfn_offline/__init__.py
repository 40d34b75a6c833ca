"""The offline runner: Step Functions state machines executed in-process with the real handlers, a Bedrock
stand-in and S3 emulated by moto. Dev tooling, never deployed."""
