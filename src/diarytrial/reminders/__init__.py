"""Diary reminders: e-mail and Web Push when a participant's window opens, and a calendar feed."""
