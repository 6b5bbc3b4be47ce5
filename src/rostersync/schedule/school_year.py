"""First day of school: the start of the new school year, from the calendar the source reports.

The calendar is the roster's `academicSessions` table; school years are the rows of type
`schoolYear`, and the first day of the new school year is the earliest `startDate` of a school
year that has not started yet (or starts today), across all of the source's schools. The function
lives with the run (:mod:`rostersync.sync.calendar`), which records the SIS's first day on every
run; it is re-exported here for the scheduler's readers.
"""

from __future__ import annotations

from rostersync.sync.calendar import first_day_of_school

__all__ = ["first_day_of_school"]
