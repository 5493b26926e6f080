"""The exports app: the trial dataset exported from the live database, blinded or not, and the
study's unblinding after the database lock.
"""
