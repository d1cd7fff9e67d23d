"""Every operational table, one module per domain concept. Importing this registers them all."""

from tenure.model.account import Account, AccountOwnership
from tenure.model.account_judgement import JUDGEMENTS_CHANGED, AccountJudgement, JudgementState
from tenure.model.base import Base
from tenure.model.churn_record import ChurnRecord
from tenure.model.churn_risk import ChurnRiskScore
from tenure.model.connection import Connection, SyncCursor, SyncRun
from tenure.model.contact import Contact, ContactLevel, ContactRole
from tenure.model.contract import BillingPeriod, Contract, ContractStatus, RenewalOutcome
from tenure.model.cta import (
    Cta,
    CtaEvent,
    CtaOutcome,
    CtaPriority,
    CtaStatus,
    CtaStep,
    CtaType,
    RuleEvaluation,
)
from tenure.model.daily_run import DailyRun
from tenure.model.desired_outcome import DesiredOutcome
from tenure.model.engagement_message import EngagementMessage, MessageStatus
from tenure.model.feature import Feature
from tenure.model.fx_rate import FxRate, ReportingCurrency
from tenure.model.handoff import AccountHandoff, HandoffStep
from tenure.model.health_score import HealthScore
from tenure.model.identity_alias import IdentityAlias
from tenure.model.import_run import ImportRun
from tenure.model.lifecycle_stage import LifecycleSetting, LifecycleStage
from tenure.model.login_failure import LoginFailure
from tenure.model.maturity_assessment import MaturityAssessment
from tenure.model.metric_snapshot import MetricSnapshot
from tenure.model.milestone import Milestone, MilestoneTemplate, SuccessPlan
from tenure.model.opportunity import (
    ForecastCategory,
    Opportunity,
    OpportunityKind,
    OpportunityStatus,
)
from tenure.model.outbox import OutboxMessage, OutboxStatus
from tenure.model.playbook_rule import PlaybookRule
from tenure.model.referral import AdvocacyKind, Referral
from tenure.model.scorecard_version import (
    BacktestStatus,
    ScorecardBacktest,
    ScorecardComparison,
    ScorecardVersion,
)
from tenure.model.slack_alert import SlackAlert
from tenure.model.source import Source
from tenure.model.source_identity import IdentitySystem, SourceIdentity
from tenure.model.stored_figures import FigureSnapshot, KpiFigures, KpiFiguresRow
from tenure.model.survey import SurveyKind, SurveyResponse
from tenure.model.survey_campaign import SurveyCampaign, SurveyLink
from tenure.model.ticket import Ticket, TicketPriority
from tenure.model.touchpoint import Touchpoint, TouchpointKind, touchpoint_attendee
from tenure.model.user import User, UserRole
from tenure.model.user_session import UserSession
from tenure.model.web import AccountTeamMember, AccountTeamRole, ApiToken, AuditLog, SavedView
from tenure.model.webhook import (
    DeliveryStatus,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookFormat,
)
from tenure.model.write_back import WriteBack

__all__ = [
    "JUDGEMENTS_CHANGED",
    "Account",
    "AccountHandoff",
    "AccountJudgement",
    "AccountOwnership",
    "AccountTeamMember",
    "AccountTeamRole",
    "AdvocacyKind",
    "ApiToken",
    "AuditLog",
    "BacktestStatus",
    "Base",
    "BillingPeriod",
    "ChurnRecord",
    "ChurnRiskScore",
    "Connection",
    "Contact",
    "ContactLevel",
    "ContactRole",
    "Contract",
    "ContractStatus",
    "Cta",
    "CtaEvent",
    "CtaOutcome",
    "CtaPriority",
    "CtaStatus",
    "CtaStep",
    "CtaType",
    "DailyRun",
    "DeliveryStatus",
    "DesiredOutcome",
    "EngagementMessage",
    "Feature",
    "FigureSnapshot",
    "ForecastCategory",
    "FxRate",
    "HandoffStep",
    "HealthScore",
    "IdentityAlias",
    "IdentitySystem",
    "ImportRun",
    "JudgementState",
    "KpiFigures",
    "KpiFiguresRow",
    "LifecycleSetting",
    "LifecycleStage",
    "LoginFailure",
    "MaturityAssessment",
    "MessageStatus",
    "MetricSnapshot",
    "Milestone",
    "MilestoneTemplate",
    "Opportunity",
    "OpportunityKind",
    "OpportunityStatus",
    "OutboxMessage",
    "OutboxStatus",
    "PlaybookRule",
    "Referral",
    "RenewalOutcome",
    "ReportingCurrency",
    "RuleEvaluation",
    "SavedView",
    "ScorecardBacktest",
    "ScorecardComparison",
    "ScorecardVersion",
    "SlackAlert",
    "Source",
    "SourceIdentity",
    "SuccessPlan",
    "SurveyCampaign",
    "SurveyKind",
    "SurveyLink",
    "SurveyResponse",
    "SyncCursor",
    "SyncRun",
    "Ticket",
    "TicketPriority",
    "Touchpoint",
    "TouchpointKind",
    "User",
    "UserRole",
    "UserSession",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookEndpoint",
    "WebhookFormat",
    "WriteBack",
    "touchpoint_attendee",
]
