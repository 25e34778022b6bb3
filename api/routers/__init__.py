"""One router per module; `ROUTERS` is the table `create_app` mounts."""

from __future__ import annotations

from fastapi import APIRouter

from api.routers import (
    access,
    campaigns,
    configurator,
    content,
    delivery,
    segments,
    sfa_contacts,
    sfa_leads,
    sfa_reports,
    sfa_sales,
    system,
    tracking,
)

DIRECT_ROUTERS: tuple[APIRouter, ...] = (system.router,)
"""Routers without prefix or dependencies whose routes go straight onto the app."""

ROUTERS: tuple[APIRouter, ...] = (
    access.router,
    sfa_contacts.router,
    sfa_leads.router,
    sfa_sales.router,
    sfa_reports.router,
    segments.router,
    campaigns.router,
    content.router,
    delivery.router,
    tracking.router,
    configurator.router,
)
