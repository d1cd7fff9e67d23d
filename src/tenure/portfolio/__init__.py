"""The book of business as a CS team reads it: portfolio, today, renewals, Account 360.

Read models shared by the console pages, the REST API and the CLI (one data object, three
renderings); computed from the operational tables, never from raw events.
"""
