"""The `tenure` command line: thin verbs over the services."""
