"""SIMULATED Bedrock Agents, Agent Runtime (knowledge bases) and AgentCore answers for the Bedrock stand-in.

No agent, knowledge base or runtime exists: each action checks the request's required fields as the API does and
answers in the API's response shape, PascalCase as the ``aws-sdk`` integration returns it, with deterministic
placeholder content derived from the request. Actions not listed here fail with a validation error naming them;
answer such a state with ``--mock-config`` (its ``Return`` is the action's result).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Final

from sfn_offline.bedrock_api import BedrockServiceError

REGION: Final[str] = "us-east-1"
ACCOUNT: Final[str] = "123456789012"


def _required(request: dict[str, Any], *names: str) -> None:
    for name in names:
        if request.get(name) in (None, "", [], {}):
            raise BedrockServiceError(
                "ValidationException",
                f"1 validation error detected: Value null at '{name[:1].lower() + name[1:]}' failed to satisfy "
                "constraint: Member must not be null",
            )


def _digest(*parts: Any) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


def _now() -> str:
    return datetime.now(UTC).isoformat()


def _retrieve(request: dict[str, Any]) -> dict[str, Any]:
    _required(request, "KnowledgeBaseId", "RetrievalQuery")
    query = str((request.get("RetrievalQuery") or {}).get("Text", ""))
    seed = _digest(request["KnowledgeBaseId"], query)
    results = [
        {
            "Content": {"Text": f"[SIMULATED passage {rank + 1} for: {query[:60]}]", "Type": "TEXT"},
            "Location": {"Type": "S3", "S3Location": {"Uri": f"s3://simulated-kb/{seed[:8]}/doc-{rank + 1}.txt"}},
            "Score": round(0.9 - rank * 0.1, 2),
        }
        for rank in range(3)
    ]
    return {"RetrievalResults": results}


def _retrieve_and_generate(request: dict[str, Any]) -> dict[str, Any]:
    _required(request, "Input", "RetrieveAndGenerateConfiguration")
    query = str((request.get("Input") or {}).get("Text", ""))
    seed = _digest(request["RetrieveAndGenerateConfiguration"], query)
    text = f"[SIMULATED answer {seed[:8]} to: {query[:60]}]"
    return {
        "Output": {"Text": text},
        "Citations": [
            {
                "GeneratedResponsePart": {"TextResponsePart": {"Text": text, "Span": {"Start": 0, "End": len(text)}}},
                "RetrievedReferences": _retrieve({"KnowledgeBaseId": "simulated", "RetrievalQuery": {"Text": query}})[
                    "RetrievalResults"
                ][:1],
            }
        ],
        "SessionId": request.get("SessionId") or f"{seed[:8]}-{seed[8:12]}-{seed[12:16]}-{seed[16:20]}-{seed[20:32]}",
    }


def _ingestion_job(request: dict[str, Any], status: str) -> dict[str, Any]:
    job_id = request.get("IngestionJobId") or _digest(request.get("KnowledgeBaseId"), request.get("DataSourceId"))[:10]
    job: dict[str, Any] = {
        "KnowledgeBaseId": request["KnowledgeBaseId"],
        "DataSourceId": request["DataSourceId"],
        "IngestionJobId": str(job_id).upper(),
        "Status": status,
        "StartedAt": _now(),
        "UpdatedAt": _now(),
    }
    if status == "COMPLETE":
        job["Statistics"] = {
            "NumberOfDocumentsScanned": 0,
            "NumberOfNewDocumentsIndexed": 0,
            "NumberOfModifiedDocumentsIndexed": 0,
            "NumberOfDocumentsDeleted": 0,
            "NumberOfDocumentsFailed": 0,
        }
    return {"IngestionJob": job}


def _start_ingestion_job(request: dict[str, Any]) -> dict[str, Any]:
    _required(request, "KnowledgeBaseId", "DataSourceId")
    return _ingestion_job(request, "STARTING")


def _get_ingestion_job(request: dict[str, Any]) -> dict[str, Any]:
    _required(request, "KnowledgeBaseId", "DataSourceId", "IngestionJobId")
    # The simulated ingestion has nothing to index: it is complete when first asked.
    return _ingestion_job(request, "COMPLETE")


def _invoke_agent_runtime(request: dict[str, Any]) -> dict[str, Any]:
    _required(request, "AgentRuntimeArn", "Payload")
    seed = _digest(request["AgentRuntimeArn"], request["Payload"])
    return {
        "RuntimeSessionId": request.get("RuntimeSessionId") or seed[:33],
        "ContentType": "application/json",
        "StatusCode": 200,
        "Response": json.dumps({"result": f"[SIMULATED agent runtime answer {seed[:8]}]"}),
    }


def agent_actions() -> dict[str, Callable[[dict[str, Any]], dict[str, Any]]]:
    """Action name (PascalCase) -> its simulated answer."""
    return {
        "Retrieve": _retrieve,
        "RetrieveAndGenerate": _retrieve_and_generate,
        "StartIngestionJob": _start_ingestion_job,
        "GetIngestionJob": _get_ingestion_job,
        "InvokeAgentRuntime": _invoke_agent_runtime,
    }
