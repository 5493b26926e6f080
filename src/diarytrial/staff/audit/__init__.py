"""The audit trail as people read it: a study's, a participant's, a user's and a record's."""
