"""Import items into a project from an uploaded file (streamed to disk, never held in
memory; the disk writes run on worker threads, never on the event loop)."""

from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path
from typing import Any, BinaryIO, Literal

from fastapi import APIRouter, Depends, Query, Request
from starlette.concurrency import run_in_threadpool

from annotary.config import Settings
from annotary.core.ingest.mapping import ImportOptions, parse_field_mapping
from annotary.services.identity.access import Actor
from annotary.services.imports import authorize_import, import_items
from annotary.storage.db import Database
from annotary.web.deps import current_actor, get_db, get_settings
from annotary.web.schemas import ERROR_RESPONSES, ImportReportOut

router = APIRouter(tags=["import"], responses=ERROR_RESPONSES)

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
WRITE_SIZE = 1 << 20
"""Bytes gathered from the request before one write to disk (one thread hop)."""
_RAW_BODY = {
    "requestBody": {
        "required": True,
        "description": "The file itself (JSONL, JSON array, CSV/TSV or Parquet)",
        "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
    }
}


@router.post(
    "/projects/{name}/import",
    summary="Import items from a file",
    response_model=ImportReportOut,
    openapi_extra=_RAW_BODY,
)
async def import_file(
    name: str,
    request: Request,
    file_format: str | None = Query(
        None, alias="format", description="jsonl, json, csv, tsv or parquet (default: filename)"
    ),
    filename: str = Query("upload.jsonl", description="Name used for the format and in errors"),
    kind: Literal["text", "prompt_responses", "conversation"] | None = Query(None),
    mapping: list[str] = Query([], alias="map", description="item_field=column (repeatable)"),
    meta: list[str] = Query([], description="Column kept as metadata (repeatable)"),
    id_column: str = Query("id"),
    decompose_turns: bool = Query(False),
    on_error: Literal["abort", "skip"] = Query("abort"),
    actor: Actor = Depends(current_actor),
    db: Database = Depends(get_db),
    settings: Settings = Depends(get_settings),
) -> dict[str, Any]:
    """The request body is the raw file (`application/octet-stream`), streamed to a
    temporary file (at most `ANNOTARY_MAX_UPLOAD_BYTES`, else 413 E711); options are
    the CLI's `import` options (managers and admins). Bad rows are listed in
    `errors`; with `on_error=abort` any bad row stores nothing."""
    # Refuse before receiving a file that would be refused anyway.
    await run_in_threadpool(authorize_import, db, actor, name)
    options = ImportOptions(
        kind=kind,
        fields=parse_field_mapping(mapping),
        metadata_keys=tuple(meta),
        id_key=id_column,
        decompose_turns=decompose_turns,
    )
    safe_name = _UNSAFE.sub("_", Path(filename).name).lstrip(".")[:100] or "upload"
    folder = Path(await run_in_threadpool(tempfile.mkdtemp, prefix="annotary-upload-"))
    try:
        path = folder / safe_name
        await _receive_file(request, path)
        report = await run_in_threadpool(
            lambda: import_items(
                db,
                name,
                path,
                options,
                file_format=file_format,
                on_error=on_error,
                rejects_path=folder / "rejects.jsonl",
                batch_size=settings.import_batch,
                actor=actor,
            )
        )
    finally:
        await run_in_threadpool(shutil.rmtree, folder, ignore_errors=True)
    body = report.to_dict()
    body.update(source=safe_name, rejects_path=None)  # the server's temporary paths mean nothing
    return body


async def _receive_file(request: Request, path: Path) -> None:
    """Write the request body to `path`, a megabyte per write, on worker threads.

    The request guard counts the bytes and stops the upload at its limit.
    """
    out: BinaryIO = await run_in_threadpool(path.open, "wb")
    try:
        pending = bytearray()
        async for chunk in request.stream():
            pending += chunk
            if len(pending) >= WRITE_SIZE:
                await run_in_threadpool(out.write, bytes(pending))
                pending.clear()
        if pending:
            await run_in_threadpool(out.write, bytes(pending))
    finally:
        await run_in_threadpool(out.close)
