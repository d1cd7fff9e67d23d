"""Who may do what: users and passwords, sessions, API tokens, roles and the audit log."""
