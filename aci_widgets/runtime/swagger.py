"""The service's Swagger 2.0 document; a run() that declares its input (schema.py) supplies its own schemas."""

from __future__ import annotations

from typing import Any

_ANY_JSON: dict[str, Any] = {"description": "Any JSON document; run() receives the request body as text."}


def build_swagger(
    service_name: str,
    *,
    auth: bool,
    input_schema: dict[str, Any] | None = None,
    output_schema: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Describe ``GET /`` and ``POST /score`` the way Azure ML's generated swagger.json does.

    Without schemas the input and output are "any JSON"; a caller with an inference-schema passes its own.
    """
    error = {
        "description": "The service failed to execute due to an error.",
        "schema": {"$ref": "#/definitions/ErrorResponse"},
    }
    score: dict[str, Any] = {
        "operationId": "RunMLService",
        "description": "Run the web service's model and get the prediction output.",
        "parameters": [
            {
                "name": "serviceInputPayload",
                "in": "body",
                "description": "The input payload for executing the real-time machine learning service.",
                "schema": {"$ref": "#/definitions/ServiceInput"},
            }
        ],
        "responses": {
            "200": {
                "description": "The service processed the input correctly.",
                "schema": {"$ref": "#/definitions/ServiceOutput"},
            },
            "default": error,
        },
    }
    doc: dict[str, Any] = {
        "swagger": "2.0",
        "info": {
            "title": service_name,
            "description": "API specification for the Azure Machine Learning service " + service_name,
            "version": "1.0",
        },
        "schemes": ["http"],
        "consumes": ["application/json"],
        "produces": ["application/json"],
        "paths": {
            "/": {
                "get": {
                    "operationId": "ServiceHealthCheck",
                    "description": "Health check: answers Healthy while the service is up.",
                    "produces": ["text/plain"],
                    "responses": {
                        "200": {
                            "description": "The service is up: the body is 'Healthy'.",
                            "schema": {"type": "string"},
                        },
                        "default": error,
                    },
                }
            },
            "/score": {"post": score},
        },
        "definitions": {
            "ServiceInput": dict(input_schema or _ANY_JSON),
            "ServiceOutput": dict(output_schema or _ANY_JSON),
            "ErrorResponse": {"type": "object", "properties": {"error": {"type": "string"}}},
        },
    }
    if auth:
        doc["securityDefinitions"] = {
            "Bearer": {
                "type": "apiKey",
                "name": "Authorization",
                "in": "header",
                "description": "For example: Bearer abc123",
            }
        }
        score["security"] = [{"Bearer": []}]
    return doc


def with_schemas(
    doc: dict[str, Any], input_schema: dict[str, Any], output_schema: dict[str, Any] | None
) -> dict[str, Any]:
    """``doc`` with run()'s declared schemas (inference-schema's carry an ``example``) as ServiceInput and
    ServiceOutput, where azmlinfsrv's swagger.json puts them; no output schema keeps "any JSON"."""
    definitions = dict(doc.get("definitions") or {})
    definitions["ServiceInput"] = input_schema
    if output_schema is not None:
        definitions["ServiceOutput"] = output_schema
    return {**doc, "definitions": definitions}
