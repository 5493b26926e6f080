"""``diarytrial study_create FILE``."""
