"""Who may do what (CONTRACT §8), without any web framework: the three groups and what a caller is.

Groups are Cognito user-pool groups, read from the token's ``cognito:groups`` claim. Each group includes
the ones before it: ``viewer`` < ``importer`` < ``admin``. A user in several groups has the highest one;
group names we do not know are ignored. Local mode and stages without sign-in have one caller, ``admin``.

The REST API checks them through ``product_importer.api.permissions``; the WebSocket through the
``connect_authorizer`` (which passes the caller's group to ``$connect``) and ``realtime.sessions``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, cast

Group = Literal["viewer", "importer", "admin"]
GROUPS: tuple[Group, ...] = ("viewer", "importer", "admin")  # ascending: each includes the ones before
GROUPS_CLAIM = "cognito:groups"


def rank(group: str | None) -> int:
    """0 for no (or an unknown) group, 1 viewer, 2 importer, 3 admin."""
    return GROUPS.index(cast(Group, group)) + 1 if group in GROUPS else 0


def highest_group(names: Iterable[str]) -> Group | None:
    known = [name for name in names if name in GROUPS]
    return cast(Group, max(known, key=rank)) if known else None


def groups_from_claims(claims: Mapping[str, Any]) -> frozenset[str]:
    """``cognito:groups`` as Cognito puts it in a token (a JSON list), or as API Gateway flattens it
    into an authorizer context (``"[admin viewer]"`` or ``"admin,viewer"``)."""
    raw = claims.get(GROUPS_CLAIM)
    if raw is None:
        return frozenset()
    if isinstance(raw, str):
        return frozenset(part for part in raw.strip("[]").replace(",", " ").split() if part)
    if isinstance(raw, list | tuple | set | frozenset):
        return frozenset(str(part) for part in raw)
    return frozenset()


def needs_message(group: Group) -> str:
    """The 403 ``detail``: names exactly the group needed (and only that one)."""
    return f"this needs the {group} group: ask an administrator to add you to it"


@dataclass(frozen=True)
class Caller:
    """Who is calling: the token's subject and username (None without sign-in) and its groups."""

    subject: str | None
    username: str | None
    groups: frozenset[str]

    @property
    def group(self) -> Group | None:
        return highest_group(self.groups)

    def may(self, needed: Group) -> bool:
        return rank(self.group) >= rank(needed)

    @classmethod
    def from_claims(cls, claims: Mapping[str, Any]) -> Caller:
        username = claims.get("username") or claims.get("cognito:username")
        return cls(
            subject=str(claims["sub"]) if claims.get("sub") else None,
            username=str(username) if username else None,
            groups=groups_from_claims(claims),
        )


# Local mode and stages without sign-in: everyone is admin (CONTRACT §8).
EVERYONE_ADMIN = Caller(subject=None, username=None, groups=frozenset({"admin"}))
