"""Every operational table, one module per domain concept. Importing this registers them all."""

from tenure.model.account import Account, AccountOwnership
from tenure.model.base import Base
from tenure.model.contact import Contact, ContactLevel, ContactRole
from tenure.model.contract import BillingPeriod, Contract, ContractStatus, RenewalOutcome
from tenure.model.feature import Feature
from tenure.model.import_run import ImportRun
from tenure.model.source import Source
from tenure.model.survey import SurveyKind, SurveyResponse
from tenure.model.ticket import Ticket, TicketPriority
from tenure.model.touchpoint import Touchpoint, TouchpointKind, touchpoint_attendee
from tenure.model.user import User, UserRole
from tenure.model.web import ApiToken, AccountTeamMember, AccountTeamRole, AuditLog, SavedView

__all__ = [
    "AccountTeamMember",
    "AccountTeamRole",
    "ApiToken",
    "AuditLog",
    "SavedView",
    "Account",
    "AccountOwnership",
    "Base",
    "BillingPeriod",
    "Contact",
    "ContactLevel",
    "ContactRole",
    "Contract",
    "ContractStatus",
    "Feature",
    "ImportRun",
    "RenewalOutcome",
    "Source",
    "SurveyKind",
    "SurveyResponse",
    "Ticket",
    "TicketPriority",
    "Touchpoint",
    "TouchpointKind",
    "User",
    "UserRole",
    "touchpoint_attendee",
]
