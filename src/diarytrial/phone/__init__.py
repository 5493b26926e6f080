"""The participant's phone diary: mobile pages under ``/d/``, an installable app that works
offline."""
