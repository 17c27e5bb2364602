"""The OpenAPI 3.1 document, generated from the pydantic contracts at start (never kept by hand)."""
from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from contracts import Problem, Receipt, Report, ReportKind, UploadPreview
from contracts.consultations import Consultation, ConsultationReceipt, SupervisionUpdate
from contracts.status import ClueStatus, Health, ReportStatus, WorkOrderStatus

REF = "#/components/schemas/{model}"
SIGNED = [{"keyId": [], "timestamp": [], "nonce": [], "signature": []}, {"keyId": [], "timestamp": [], "signature": []}]
SIGNING_TEXT = (
    "Every request under /api/v1 is signed with `X-Gateway-Key-Id: <key id>` and `X-Gateway-Timestamp: <unix seconds>`, and either "
    "signature v2: `X-Gateway-Nonce: <16–64 of A–Z a–z 0–9 _ ->` and "
    "`X-Gateway-Signature: v2=<hex HMAC-SHA256 of \"<timestamp>.<nonce>.<METHOD>.<path>?<query>.<raw body>\">` "
    "(path and query exactly as on the request line; the `?` always there), or signature v1: "
    "`X-Gateway-Signature: sha256=<hex HMAC-SHA256 of \"<timestamp>.<raw body>\">` (unless the deployment turned v1 off). "
    "The raw body is empty for GET. A timestamp more than 300 s off, a wrong signature, an unknown or revoked key, a v2 nonce "
    "seen before, or a v1 POST or PATCH seen before (a replay) get 401 and nothing is stored; a key whose role may not use the "
    "endpoint gets 403 (command-center keys push and read their own reports; workstation and office keys file Table 1s and "
    "update supervision entries). A resend must be signed afresh."
)
FORBIDDEN = "This key's role may not use this endpoint (a workstation key on the command center's endpoints, or the reverse)."


def _problem(ref: str, description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/problem+json": {"schema": {"$ref": ref}}}}


def build_openapi() -> dict[str, Any]:
    models: list[tuple[type[BaseModel], str]] = [
        (Report, "validation"), (Receipt, "serialization"), (Problem, "serialization"), (UploadPreview, "serialization"),
        (ReportStatus, "serialization"), (WorkOrderStatus, "serialization"), (ClueStatus, "serialization"), (Health, "serialization"),
        (Consultation, "validation"), (ConsultationReceipt, "serialization"), (SupervisionUpdate, "validation"),
    ]
    refs, top = models_json_schema(models, ref_template=REF)  # type: ignore[arg-type]
    ref = {model: refs[(model, mode)]["$ref"] for model, mode in models}  # type: ignore[index]
    problem = ref[Problem]
    unauthorized = _problem(problem, "Not signed, badly signed, stale, replayed, or an unknown or revoked key.")
    forbidden = _problem(problem, FORBIDDEN)
    report_link = {"ReportStatus": {"operationId": "reportStatus", "parameters": {"report_id": "$response.body#/report_id"}}}
    receipt_responses = {
        "202": {"description": "Stored durably; processing has started.", "content": {"application/json": {"schema": {"$ref": ref[Receipt]}}},
                "links": report_link},
        "200": {"description": "The same report was received before: the original receipt, with duplicate true.",
                "content": {"application/json": {"schema": {"$ref": ref[Receipt]}}}},
        "401": unauthorized,
        "403": forbidden,
        "409": _problem(problem, "The same report_id was received before with a different body."),
        "413": _problem(problem, "The body is larger than the configured limit."),
        "415": _problem(problem, "Wrong content type."),
        "422": _problem(problem, "Not valid: `errors` names every bad field, with the record index (or spreadsheet row)."),
    }
    table1_links = {
        "ConsultationStatus": {"operationId": "consultationStatus", "parameters": {"consultation_id": "$response.body#/consultation_id"}},
        "UpdateSupervision": {"operationId": "updateSupervision", "parameters": {"supervision_id": "$response.body#/supervision_ids/0"}},
    }
    table1_responses = {
        "201": {"description": "Stored: the activity's first Table 1.", "content": {"application/json": {"schema": {"$ref": ref[ConsultationReceipt]}}},
                "links": table1_links},
        "200": {"description": "A revision, or the same document again (nothing changed).",
                "content": {"application/json": {"schema": {"$ref": ref[ConsultationReceipt]}}}},
        "401": unauthorized,
        "403": _problem(problem, FORBIDDEN + " Or a workstation's key filing for another workstation."),
        "413": _problem(problem, "The body is larger than the configured limit."),
        "415": _problem(problem, "Wrong content type."),
        "422": _problem(problem, "Not valid (every problem named, with the form's row for a spreadsheet), or links to unknown clues or tickets."),
    }
    partial_param = {
        "name": "partial", "in": "query", "required": False,
        "description": "true: store the good records and list the rejected ones in the receipt, instead of rejecting the whole report.",
        "schema": {"type": "boolean", "default": False},
    }
    upload_schema = {
        "type": "object",
        "required": ["kind", "report_id", "file"],
        "properties": {
            "kind": {"type": "string", "enum": [k.value for k in ReportKind]},
            "report_id": {"type": "string", "pattern": r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$", "maxLength": 128},
            "period_start": {"type": "string", "format": "date", "description": "Required for weekly and monthly reports."},
            "period_end": {"type": "string", "format": "date"},
            "title": {"type": "string", "maxLength": 300},
            "file": {"type": "string", "contentMediaType": "application/octet-stream",
                     "description": ".xlsx, .csv (UTF-8 with or without BOM, or GB18030), .jsonl (one record per line) or .json (a whole report)."},
        },
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Hotline–CPPCC gateway",
            "version": "1",
            "description": "Reports from the 12345 command center in; where they went, out.\n\n" + SIGNING_TEXT,
        },
        "components": {
            "schemas": top.get("$defs", {}),
            "securitySchemes": {
                "keyId": {"type": "apiKey", "in": "header", "name": "X-Gateway-Key-Id"},
                "timestamp": {"type": "apiKey", "in": "header", "name": "X-Gateway-Timestamp"},
                "nonce": {"type": "apiKey", "in": "header", "name": "X-Gateway-Nonce", "description": "Signature v2: a new one for every request."},
                "signature": {"type": "apiKey", "in": "header", "name": "X-Gateway-Signature", "description": SIGNING_TEXT},
            },
        },
        "paths": {
            "/api/v1/reports": {
                "post": {
                    "operationId": "pushReport",
                    "summary": "Push a report (周报/月报/快报/专报/突发性重点问题)",
                    "security": SIGNED,
                    "parameters": [partial_param],
                    "requestBody": {"required": True, "content": {"application/json": {"schema": {"$ref": ref[Report]}}}},
                    "responses": receipt_responses,
                }
            },
            "/api/v1/reports/upload": {
                "post": {
                    "operationId": "uploadReport",
                    "summary": "Upload a report as a file (.xlsx, .csv, .jsonl, .json)",
                    "description": "Spreadsheet columns are found by their usual Chinese headers: 工单编号, 受理时间/来电时间, 渠道/来源, "
                                   "问题分类/诉求类别 (or 一级分类, 二级分类, 三级分类), 所属区/区县, 街道/乡镇, 社区/村, 地址/事发地址, "
                                   "诉求内容/来电内容, 来电人/姓名, 联系电话/电话, 承办单位/主办单位, 办理状态, 满意度, and a Beijing 12345 "
                                   "export's own (主要内容 with 标题, 被反映区, 被反映街乡镇, 问题点位, 工单类型, 工单状态, 工单来源, "
                                   "来电人电话/账号, 处理结果, 办结时间, 处理时限, 重复反映告知单量, 企业名称); another platform's headers "
                                   "are mapped in the deployment's configuration (columns:). Columns not read are listed in the receipt's "
                                   "`columns.ignored`, never failed on. Title rows above the header and blank rows are skipped; a bad row "
                                   "is named by its row number.",
                    "security": SIGNED,
                    "parameters": [partial_param, {
                        "name": "dry_run", "in": "query", "required": False,
                        "description": "true: store nothing; answer 200 with how the columns were read, how many rows are good, "
                                       "the first problems by row and the first three work orders as they would be stored (masked).",
                        "schema": {"type": "boolean", "default": False},
                    }],
                    "requestBody": {"required": True, "content": {"multipart/form-data": {"schema": upload_schema}}},
                    "responses": {**receipt_responses, "200": {
                        "description": "The same report was received before: the original receipt, with duplicate true. "
                                       "With ?dry_run=true: what the upload would store (nothing was stored).",
                        "content": {"application/json": {"schema": {"oneOf": [{"$ref": ref[Receipt]}, {"$ref": ref[UploadPreview]}]}}}}},
                }
            },
            "/api/v1/reports/{report_id}": {
                "get": {
                    "operationId": "reportStatus",
                    "summary": "Where a report's records are in the pipeline, and its clue packets",
                    "security": SIGNED,
                    "parameters": [{"name": "report_id", "in": "path", "required": True, "schema": {"type": "string"}}],
                    "responses": {
                        "200": {"description": "The report's status.", "content": {"application/json": {"schema": {"$ref": ref[ReportStatus]}}}},
                        "401": unauthorized,
                        "403": forbidden,
                        "404": _problem(problem, "No such report from this client."),
                    },
                }
            },
            "/api/v1/work-orders/{ticket_no}": {
                "get": {
                    "operationId": "workOrderStatus",
                    "summary": "What became of one work order (personal data masked)",
                    "security": SIGNED,
                    "parameters": [{"name": "ticket_no", "in": "path", "required": True, "schema": {"type": "string"}}],
                    "responses": {
                        "200": {"description": "The work order.", "content": {"application/json": {"schema": {"$ref": ref[WorkOrderStatus]}}}},
                        "401": unauthorized,
                        "403": forbidden,
                        "404": _problem(problem, "No such work order."),
                    },
                }
            },
            "/api/v1/clues/{clue_id}": {
                "get": {
                    "operationId": "clueStatus",
                    "summary": "One clue (线索) of a report this client sent: title, type, reason, keywords, places, hotness, rank, tickets, masked samples",
                    "security": SIGNED,
                    "parameters": [{"name": "clue_id", "in": "path", "required": True, "schema": {"type": "string"}}],
                    "responses": {
                        "200": {"description": "The clue.", "content": {"application/json": {"schema": {"$ref": ref[ClueStatus]}}}},
                        "401": unauthorized,
                        "403": forbidden,
                        "404": _problem(problem, "No such clue of a report from this client."),
                    },
                }
            },
            "/api/v1/consultations": {
                "post": {
                    "operationId": "fileConsultation",
                    "summary": "File a Table 1 (附表1 协商议事活动开展情况表), or a revision of one",
                    "description": "Signed with the workstation's key (which files for its own workstation only). Filing the same "
                                   "activity again (same activity_id, or same date and topic) is a revision; every revision is kept. "
                                   "Due 3 working days after the activity on the official calendar; a later one is accepted and marked late.",
                    "security": SIGNED,
                    "requestBody": {"required": True, "content": {"application/json": {"schema": {"$ref": ref[Consultation]}}}},
                    "responses": table1_responses,
                }
            },
            "/api/v1/consultations/upload": {
                "post": {
                    "operationId": "uploadConsultation",
                    "summary": "File a Table 1 as the filled 附表1 form (.xlsx; `gateway template table1` writes a blank one)",
                    "security": SIGNED,
                    "requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
                        "type": "object", "required": ["file"],
                        "properties": {"file": {"type": "string", "contentMediaType": "application/octet-stream"},
                                       "activity_id": {"type": "string", "maxLength": 100}},
                    }}}},
                    "responses": table1_responses,
                }
            },
            "/api/v1/consultations/{consultation_id}": {
                "get": {
                    "operationId": "consultationStatus",
                    "summary": "A Table 1 as filed, its revisions, items, links and supervision entries",
                    "security": SIGNED,
                    "parameters": [{"name": "consultation_id", "in": "path", "required": True, "schema": {"type": "string"}}],
                    "responses": {
                        "200": {"description": "The Table 1.", "content": {"application/json": {"schema": {"type": "object"}}}},
                        "401": unauthorized,
                        "403": forbidden,
                        "404": _problem(problem, "No such Table 1 for this key (another workstation's is not shown)."),
                    },
                }
            },
            "/api/v1/supervision/{supervision_id}": {
                "patch": {
                    "operationId": "updateSupervision",
                    "summary": "Progress of a supervision entry (督办): progress, problems, way forward, done",
                    "security": SIGNED,
                    "parameters": [{"name": "supervision_id", "in": "path", "required": True, "schema": {"type": "string"}}],
                    "requestBody": {"required": True, "content": {"application/json": {"schema": {"$ref": ref[SupervisionUpdate]}}}},
                    "responses": {
                        "200": {"description": "The entry as it is now.", "content": {"application/json": {"schema": {"type": "object"}}}},
                        "401": unauthorized,
                        "403": forbidden,
                        "404": _problem(problem, "No such entry for this key."),
                        "415": _problem(problem, "Wrong content type."),
                        "422": _problem(problem, "Not valid, or the entry was withdrawn."),
                    },
                }
            },
            "/healthz": {
                "get": {
                    "operationId": "health",
                    "summary": "Liveness and database reachability (not signed)",
                    "responses": {
                        "200": {"description": "Healthy.", "content": {"application/json": {"schema": {"$ref": ref[Health]}}}},
                        "503": {"description": "The database cannot be reached.", "content": {"application/json": {"schema": {"$ref": ref[Health]}}}},
                    },
                }
            },
        },
    }
