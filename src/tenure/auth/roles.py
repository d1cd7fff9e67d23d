"""The roles a user can have, in a module of their own.

``tenure users create --role`` lists them in ``--help``; defined beside the ``user_account``
table they would load SQLAlchemy and every model into each ``tenure`` start-up.
"""

from __future__ import annotations

import enum


class UserRole(enum.StrEnum):
    admin = "admin"
    manager = "manager"
    csm = "csm"
    viewer = "viewer"
    # The people who hand a customer over (alignment): sales closes the deal and hands the
    # customer to services (implementation) or straight to the CSM; services hands it to the CSM.
    # They edit the accounts whose team they sit on, as a CSM does.
    sales = "sales"
    services = "services"
