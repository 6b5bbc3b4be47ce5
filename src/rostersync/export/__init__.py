"""Outputs of the published roster: the OneRoster REST provider and the OneRoster CSV export."""
