"""Participants' phones: enrolment links and the long-lived, revocable device sessions."""
