"""The administrator's pages of a study's people: invitations, roles, accounts."""
