"""One router per module; `ROUTERS` is the table `create_app` mounts."""

from __future__ import annotations

from fastapi import APIRouter

from api.routers import access, system

ROUTERS: tuple[APIRouter, ...] = (system.router, access.router)
