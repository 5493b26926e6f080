"""Data queries: a staff member asks about a record, the site answers, the raiser closes or
re-opens; every step is a service with an audit event."""
