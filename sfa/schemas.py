"""Pydantic shapes of SFA's contacts, accounts, consents, teams and timeline."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from sfa.models import Channel


class ConsentIn(BaseModel):
    channel: Channel
    granted: bool
    source: str = Field(min_length=1, max_length=200)


class ConsentRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    channel: str
    granted: bool
    source: str
    recorded_at: datetime


class ContactFields(BaseModel):
    first_name: str | None = Field(default=None, max_length=100)
    last_name: str | None = Field(default=None, max_length=100)
    email: str | None = Field(default=None, max_length=320)
    phone: str | None = Field(default=None, max_length=40)
    country: str | None = None
    time_zone: str | None = None
    language: str | None = Field(default=None, max_length=8)
    preferred_channel: str | None = None
    job_title: str | None = Field(default=None, max_length=200)
    postal_address: str | None = Field(default=None, max_length=500)
    attributes: dict[str, Any] | None = None
    source: str | None = Field(default=None, max_length=100)
    account_id: int | None = None
    owner_id: int | None = None


class ContactCreate(ContactFields):
    consents: list[ConsentIn] = Field(default_factory=list)


class ContactUpdate(ContactFields):
    """Only the fields sent are changed."""


class ContactRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    first_name: str | None
    last_name: str | None
    email: str | None
    phone: str | None
    country: str | None
    time_zone: str
    language: str | None
    preferred_channel: str | None
    job_title: str | None
    postal_address: str | None
    attributes: dict[str, Any]
    source: str | None
    account_id: int | None
    owner_id: int | None
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None
    merged_into_id: int | None
    version: int


class ContactDetail(ContactRead):
    consents: list[ConsentRead] = Field(default_factory=list)


class AccountCreate(BaseModel):
    name: str = Field(min_length=1, max_length=300)
    parent_id: int | None = None
    owner_id: int | None = None
    industry: str | None = Field(default=None, max_length=100)
    country: str | None = None
    website: str | None = Field(default=None, max_length=300)
    attributes: dict[str, Any] = Field(default_factory=dict)


class AccountRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    parent_id: int | None
    owner_id: int | None
    industry: str | None
    country: str | None
    website: str | None
    attributes: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    version: int


class TeamCreate(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    manager_id: int | None = None
    member_ids: list[int] = Field(default_factory=list)


class TeamRead(BaseModel):
    id: int
    name: str
    manager_id: int | None
    member_ids: list[int]


class TimelineRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    contact_id: int
    occurred_at: datetime
    kind: str
    summary: str
    module: str
    ref: str | None
    original_contact_id: int | None


class MergeRequest(BaseModel):
    duplicate_id: int


class AccountUpdate(BaseModel):
    """Only the fields sent are changed."""

    name: str | None = Field(default=None, min_length=1, max_length=300)
    parent_id: int | None = None
    owner_id: int | None = None
    industry: str | None = Field(default=None, max_length=100)
    country: str | None = None
    website: str | None = Field(default=None, max_length=300)
    attributes: dict[str, Any] | None = None
