"""The bottom of the live system: the error hierarchy and how an error is rendered.

Every app imports from here and from nothing above it; ``core`` imports no app.
"""
