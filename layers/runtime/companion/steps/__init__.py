"""One model call's worth of work around Bedrock: pre-process a prompt, resolve an answer from S3, post-process it."""
