"""Sales teams: a name, a manager and members (a user is in at most one team)."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from core.auth import Principal, Role, User
from core.clock import Clock
from core.errors import Conflict, InvalidInput, NotFound
from sfa.models import Team, TeamMember
from sfa.schemas import TeamCreate, TeamRead


def _check_users(session: Session, ids: list[int], field: str) -> None:
    found = set(session.scalars(select(User.id).where(User.id.in_(ids))))
    missing = [i for i in ids if i not in found]
    if missing:
        raise InvalidInput(field, f"no users {missing}")


def create_team(session: Session, data: TeamCreate, *, actor: Principal, clock: Clock) -> TeamRead:
    """Add a team (admin only); members move out of any previous team."""
    actor.require()
    if session.scalar(select(Team.id).where(Team.name == data.name)) is not None:
        raise Conflict(f"a team named {data.name!r} exists", field="name")
    if data.manager_id is not None:
        _check_users(session, [data.manager_id], "manager_id")
    _check_users(session, data.member_ids, "member_ids")
    team = Team(name=data.name, manager_id=data.manager_id, created_at=clock.now())
    session.add(team)
    session.flush()
    set_members(session, team.id, data.member_ids)
    return TeamRead(
        id=team.id, name=team.name, manager_id=team.manager_id, member_ids=sorted(data.member_ids)
    )


def set_members(session: Session, team_id: int, user_ids: list[int]) -> None:
    if not user_ids:
        return
    session.execute(delete(TeamMember).where(TeamMember.user_id.in_(user_ids)))
    session.add_all(TeamMember(user_id=u, team_id=team_id) for u in sorted(set(user_ids)))
    session.flush()


def add_members(session: Session, team_id: int, user_ids: list[int], *, actor: Principal) -> None:
    actor.require()
    if session.get(Team, team_id) is None:
        raise NotFound("team", team_id)
    _check_users(session, user_ids, "member_ids")
    set_members(session, team_id, user_ids)


def list_teams(session: Session, *, actor: Principal) -> list[TeamRead]:
    actor.require(Role.MANAGER, Role.REP, Role.PLANNER)
    members: dict[int, list[int]] = {}
    for user_id, team_id in session.execute(select(TeamMember.user_id, TeamMember.team_id)):
        members.setdefault(team_id, []).append(user_id)
    return [
        TeamRead(
            id=t.id, name=t.name, manager_id=t.manager_id, member_ids=sorted(members.get(t.id, []))
        )
        for t in session.scalars(select(Team).order_by(Team.id))
    ]


def team_of_users(session: Session) -> dict[int, tuple[int, str]]:
    """user id -> (team id, team name)."""
    query = select(TeamMember.user_id, Team.id, Team.name).join(Team, Team.id == TeamMember.team_id)
    return {u: (t, n) for u, t, n in session.execute(query)}
