"""One router per module; `ROUTERS` is the table `create_app` mounts."""

from __future__ import annotations

from fastapi import APIRouter

from api.routers import access, system

DIRECT_ROUTERS: tuple[APIRouter, ...] = (system.router,)
"""Routers without prefix or dependencies whose routes go straight onto the app."""

ROUTERS: tuple[APIRouter, ...] = (access.router,)
