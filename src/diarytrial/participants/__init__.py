"""The participants app: screening, consent, enrolment, the planned schedule and withdrawal."""
