"""Site monitoring: the study dashboard, its JSON, and the daily digest. Blinded: computed
without allocation, from the visit calendar and the one definition of diary compliance."""
