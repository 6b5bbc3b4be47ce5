"""rostersync: an open-source roster data-sync hub for K-12 school districts."""

__version__ = "0.1.0"
