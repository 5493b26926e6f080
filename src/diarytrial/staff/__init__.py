"""Staff pages that compose what several apps hold: the studies' and the participants' pages.

A participant's page shows their schedule (participants), kits dispensed (randomization),
diary progress (diary) and adverse events (safety); the study's home page counts participants
by status. These pages sit above the apps they read, so no app needs to import another one
above it. Their templates stay with the apps (``participants/templates``, ``web/templates``).
"""
