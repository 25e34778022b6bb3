"""The baseline of `bench_api_me.py`: a bare FastAPI app answering the same JSON."""

from __future__ import annotations

from fastapi import FastAPI

app = FastAPI()


@app.get("/api/v1/me")
async def me() -> dict[str, object]:
    return {"name": "bench", "role": "admin", "user_id": None}
