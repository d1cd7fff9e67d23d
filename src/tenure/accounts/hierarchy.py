"""Parent/child accounts: the links must form a tree — an A → B → A cycle is refused, naming it.

>>> find_cycle({1: 2, 2: 3, 3: 1, 4: 1}, [4])
[1, 2, 3, 1]
>>> find_cycle({1: 2, 2: 3}, [1, 2, 3]) is None
True
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tenure.errors import InvalidInput
from tenure.model import Account


def find_cycle(parents: Mapping[int, int], starts: Iterable[int]) -> list[int] | None:
    """The first cycle met following parent links up from ``starts``, as the ids around it
    (first id repeated at the end), or None."""
    done: set[int] = set()
    for start in starts:
        path: list[int] = []
        on_path: dict[int, int] = {}
        node: int | None = start
        while node is not None and node not in done:
            if node in on_path:
                return [*path[on_path[node] :], node]
            on_path[node] = len(path)
            path.append(node)
            node = parents.get(node)
        done.update(path)
    return None


def top_parent_of(parents: Mapping[int, int | None], account_id: int) -> int:
    """The account at the head of ``account_id``'s family (itself when it has no parent); the
    links form a tree (imports and edits refuse cycles), and a broken chain stops where it
    breaks.

    >>> top_parent_of({3: 2, 2: 1, 1: None}, 3), top_parent_of({1: None}, 1)
    (1, 1)
    """
    seen = {account_id}
    node = account_id
    while (parent := parents.get(node)) is not None and parent not in seen:
        seen.add(parent)
        node = parent
    return node


def descendants(session: Session, account_id: int) -> list[int]:
    """Every account below ``account_id`` (children, their children…), nearest first."""
    children: dict[int, list[int]] = {}
    for child, parent in session.execute(
        sa.select(Account.id, Account.parent_id)
        .where(Account.parent_id.is_not(None))
        .order_by(Account.id)
    ):
        if parent is not None:
            children.setdefault(parent, []).append(child)
    found: list[int] = []
    seen = {account_id}
    queue = [account_id]
    while queue:
        for child in children.get(queue.pop(0), []):
            if child not in seen:  # a stored cycle (from before the check) cannot loop here
                seen.add(child)
                found.append(child)
                queue.append(child)
    return found


def refuse_cycles(session: Session, account_ids: Iterable[int]) -> None:
    """Raise InvalidInput naming the chain when the parent links above these accounts loop."""
    starts = list(account_ids)
    if not starts:
        return
    session.flush()
    # Only linked accounts are read: a book has far fewer parent links than accounts.
    parents: dict[int, int] = {
        account_id: parent_id
        for account_id, parent_id in session.execute(
            sa.select(Account.id, Account.parent_id).where(Account.parent_id.is_not(None))
        )
        if parent_id is not None
    }
    cycle = find_cycle(parents, starts)
    if cycle is None:
        return
    names = dict(
        session.execute(
            sa.select(Account.id, Account.external_id).where(Account.id.in_(set(cycle)))
        ).all()
    )
    chain = " → ".join(names[i] for i in cycle)
    raise InvalidInput(
        f"parent accounts would form a cycle: {chain} (an account cannot be its own parent's "
        "parent); fix the parent of one of them"
    )
