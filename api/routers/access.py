"""Users and API keys, managed by admins."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, status
from pydantic import BaseModel, ConfigDict, EmailStr, Field
from sqlalchemy import select

from api.deps import ClockDep, RuntimeDep, SessionDep, require
from core.auth import ApiKey, Role, User, create_api_key, create_user, revoke_api_key

router = APIRouter(prefix="/api/v1", tags=["access"], dependencies=[Depends(require(Role.ADMIN))])


class UserCreate(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    email: EmailStr
    manager_id: int | None = None


class UserRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    email: str
    manager_id: int | None
    active: bool
    created_at: datetime


class ApiKeyCreate(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    role: Role
    user_id: int | None = None


class ApiKeyRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    role: Role
    display_prefix: str
    user_id: int | None
    created_at: datetime
    revoked_at: datetime | None


class ApiKeyCreated(ApiKeyRead):
    key: Annotated[str, Field(description="The clear key: shown once, never again")]


@router.post("/users", status_code=status.HTTP_201_CREATED, summary="Create a user")
def post_user(body: UserCreate, session: SessionDep, clock: ClockDep) -> UserRead:
    user = create_user(
        session, name=body.name, email=body.email, manager_id=body.manager_id, clock=clock
    )
    return UserRead.model_validate(user)


@router.get("/users", summary="List users")
def get_users(session: SessionDep) -> list[UserRead]:
    return [UserRead.model_validate(u) for u in session.scalars(select(User).order_by(User.id))]


@router.post("/apikeys", status_code=status.HTTP_201_CREATED, summary="Create an API key")
def post_apikey(body: ApiKeyCreate, session: SessionDep, clock: ClockDep) -> ApiKeyCreated:
    key, clear = create_api_key(
        session, name=body.name, role=body.role.value, user_id=body.user_id, clock=clock
    )
    return ApiKeyCreated(**ApiKeyRead.model_validate(key).model_dump(), key=clear)


@router.get("/apikeys", summary="List API keys (never the keys themselves)")
def get_apikeys(session: SessionDep) -> list[ApiKeyRead]:
    keys = session.scalars(select(ApiKey).order_by(ApiKey.id))
    return [ApiKeyRead.model_validate(k) for k in keys]


@router.delete("/apikeys/{name}", summary="Revoke an API key")
def delete_apikey(
    name: str, session: SessionDep, clock: ClockDep, runtime: RuntimeDep
) -> ApiKeyRead:
    key = revoke_api_key(session, name=name, clock=clock)
    runtime.principals.clear()
    return ApiKeyRead.model_validate(key)
