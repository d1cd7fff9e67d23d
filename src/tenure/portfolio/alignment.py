"""The Alignment page of one account: every team sees the same data and the renewal goal.

One read model for the account team — sales, services, CSM, support: the account's ARR and
renewal, the same health and churn risk the CSM sees, the account team, who holds the customer
now and the handoff history, the open CTAs, and what the reader may do (record a handoff, ask
for a rescue).
"""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel
from sqlalchemy.orm import Session

from tenure.accounts import fx_service
from tenure.accounts.service import get_account
from tenure.auth.permissions import Actor, can_edit_account
from tenure.health.schemas import AccountScore
from tenure.model import AccountTeamRole
from tenure.playbooks.schemas import CtaRead
from tenure.portfolio import handoff, rescue, signals
from tenure.portfolio.rows import account_row
from tenure.portfolio.schemas import AccountRow, TeamSeat
from tenure.portfolio.team import team_seats
from tenure.risk.schemas import ChurnRiskRead


class AlignmentView(BaseModel):
    account: AccountRow
    health: AccountScore | None
    churn_risk: ChurnRiskRead | None
    team: list[TeamSeat]
    handoff: handoff.HandoffView
    open_ctas: list[CtaRead]
    # The reader's seat on the account team (owner, account_executive, support_lead…), if any.
    your_seat: str | None
    can_record_handoff: bool
    can_request_rescue: bool


def alignment_view(session: Session, account_id: int, actor: Actor, as_of: date) -> AlignmentView:
    account = get_account(session, account_id)
    table = fx_service.rate_table(session, on=as_of)  # one for the row and the CTAs
    return AlignmentView(
        account=account_row(session, account_id, as_of, table),
        health=signals.account_health(session, account),
        churn_risk=signals.account_risk(session, account),
        team=_in_flow_order(team_seats(session, account_id)),
        handoff=handoff.handoff_view(session, account_id, as_of),
        open_ctas=signals.open_ctas(session, account_id, as_of, table),
        your_seat=rescue.team_role(session, actor, account),
        can_record_handoff=can_edit_account(session, actor.user, account),
        can_request_rescue=rescue.can_request_rescue(session, actor, account),
    )


def _in_flow_order(seats: list[TeamSeat]) -> list[TeamSeat]:
    """The account team in the order work flows: sales, services, CSM, support."""
    order = {role.value: i for i, role in enumerate(AccountTeamRole)}
    return sorted(seats, key=lambda s: (order[s.role], s.user_name))
