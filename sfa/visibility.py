"""Who sees what: a rep their own records, a manager their sub-tree and teams, admin all.

`owner_filter` turns a Principal into a SQL condition on an `owner_id`
column; every SFA read and write goes through it, so visibility is enforced
in the service layer, not in the routers. The manager's sub-tree is a
recursive CTE over `core_users.manager_id` (SQLite and PostgreSQL alike).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Select, false, not_, or_, select, true, union
from sqlalchemy.orm import Session

from core.auth import Principal, Role, User
from core.errors import PermissionDenied
from sfa.models import Team, TeamMember

SEE_ALL = frozenset({Role.ADMIN, Role.PLANNER, Role.INTEGRATION})
"""Roles that read every record (planners build campaigns, integrations push leads)."""


def subtree_ids(user_id: int) -> Select[Any]:
    """The ids of `user_id`, everyone whose manager chain reaches them, and their teams."""
    tree = select(User.id.label("id")).where(User.id == user_id).cte("tree", recursive=True)
    tree = tree.union_all(select(User.id).where(User.manager_id == tree.c.id))
    members = (
        select(TeamMember.user_id)
        .join(Team, Team.id == TeamMember.team_id)
        .where(Team.manager_id == user_id)
    )
    combined = union(select(tree.c.id), members).subquery()
    return select(combined.c[0])


def owner_filter(
    principal: Principal, column: Any, *, tree: Select[Any] | None = None
) -> ColumnElement[bool]:
    """The condition on `column` (an owner_id) that keeps what `principal` may see.

    `tree` is a manager's `subtree_ids`, to share when one query filters
    several owner columns (a query may hold only one CTE of a name).
    """
    if principal.role in SEE_ALL:
        return true()
    if principal.user_id is None:
        return false()
    if principal.role is Role.MANAGER:
        ids = tree if tree is not None else subtree_ids(principal.user_id)
        in_tree: ColumnElement[bool] = column.in_(ids)
        return in_tree
    if principal.role is Role.REP:
        own: ColumnElement[bool] = column == principal.user_id
        return own
    return false()


def hidden_filter(
    principal: Principal, column: Any, *, tree: Select[Any] | None = None
) -> ColumnElement[bool]:
    """The condition on `column` (an owner_id, maybe NULL) that keeps what `principal` may NOT see.

    The exact complement of `owner_filter`: a NULL owner is hidden from all
    but the see-all roles (SQL's `NOT (NULL IN ...)` would be NULL, not true).
    """
    if principal.role in SEE_ALL:
        return false()
    return or_(column.is_(None), not_(owner_filter(principal, column, tree=tree)))


def can_own(session: Session, principal: Principal, owner_id: int | None) -> bool:
    """May `principal` give a record to `owner_id`? (itself, its sub-tree, or anyone for admin)."""
    if principal.is_admin or principal.role is Role.INTEGRATION:
        return True
    if owner_id is None or principal.user_id is None:
        return False
    if principal.role is Role.REP:
        return owner_id == principal.user_id
    if principal.role is Role.MANAGER:
        found = session.scalar(
            select(User.id).where(owner_filter(principal, User.id)).where(User.id == owner_id)
        )
        return found is not None
    return False


def check_owner(session: Session, principal: Principal, owner_id: int | None) -> None:
    """Raise PermissionDenied when `principal` may not assign a record to `owner_id`."""
    if not can_own(session, principal, owner_id):
        raise PermissionDenied(f"you may not assign records to user {owner_id}")


def default_owner(principal: Principal, owner_id: int | None) -> int | None:
    """The owner of a new record: the one asked for, else the caller."""
    return owner_id if owner_id is not None else principal.user_id


WRITERS = (Role.REP, Role.MANAGER)
READERS = (Role.REP, Role.MANAGER, Role.PLANNER)


def require_writer(principal: Principal) -> None:
    principal.require(*WRITERS)


def require_reader(principal: Principal) -> None:
    principal.require(*READERS)
