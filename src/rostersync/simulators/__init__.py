"""Faithful local servers of the source apps rostersync syncs from (PowerSchool SIS first)."""
