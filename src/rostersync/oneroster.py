"""Facts of the OneRoster CSV binding that both ends of rostersync need: the files each
version's package holds, in manifest order. The exporter writes them; the OneRoster CSV source
reads them; neither may import the other, so the list lives here, once.
"""

from __future__ import annotations

from typing import Final

#: Every data file of each version, in manifest order.
FILE_SETS: Final[dict[str, tuple[str, ...]]] = {
    "1.1": (
        "academicSessions",
        "categories",
        "classes",
        "classResources",
        "courses",
        "courseResources",
        "demographics",
        "enrollments",
        "lineItems",
        "orgs",
        "resources",
        "results",
        "users",
    ),
    "1.2": (
        "academicSessions",
        "categories",
        "classes",
        "classResources",
        "courseResources",
        "courses",
        "demographics",
        "enrollments",
        "lineItemLearningObjectiveIds",
        "lineItems",
        "lineItemScoreScales",
        "orgs",
        "resources",
        "resultLearningObjectiveIds",
        "results",
        "resultScoreScales",
        "roles",
        "scoreScales",
        "userProfiles",
        "userResources",
        "users",
    ),
}
