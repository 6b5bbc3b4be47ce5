"""OneRoster CSV source options: the ``connector:`` block of a ``oneroster_csv`` source.

Where the packages come from — one package (``path``: a ``.zip`` or a folder) or a drop folder
(``drop_folder``) watched for new packages — and the limits that keep a hostile package from
exhausting the machine. Each option is declared once with its type, default and help.
"""

from __future__ import annotations

from typing import Any, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from rostersync.errors import ConfigValidationError, Problem


class CsvOptions(BaseModel):
    """Connector-specific settings of a OneRoster CSV source."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    path: str | None = Field(
        default=None,
        description="The package to import: a .zip file or a folder holding manifest.csv.",
    )
    drop_folder: str | None = Field(
        default=None,
        description=(
            "A folder watched for new packages (.zip files or folders), imported oldest first, "
            "one per sync; each is then moved to processed/ or failed/ with its report."
        ),
    )
    max_package_mb: int = Field(
        default=4096,
        ge=1,
        le=1_048_576,
        description="Largest package, uncompressed, in MiB (a zip bomb is refused unread).",
    )
    max_compression_ratio: int = Field(
        default=500,
        ge=10,
        le=100_000,
        description="Largest uncompressed/compressed size ratio of a zip (zip bombs exceed it).",
    )
    max_files: int = Field(
        default=100, ge=2, le=10_000, description="Most members a zip package may hold."
    )
    max_field_kb: int = Field(
        default=64,
        ge=1,
        le=65_536,
        description="Largest single cell, in KiB: a bigger one is an error naming its place.",
    )

    @model_validator(mode="after")
    def _one_place(self) -> Self:
        if (self.path is None) == (self.drop_folder is None):
            raise ValueError(
                "give exactly one of path (one package) or drop_folder (a folder of packages)"
            )
        return self


def parse_options(raw: Any, where: str = "connector") -> CsvOptions:
    """Validate the ``connector:`` block, reporting every problem with its path."""
    try:
        return CsvOptions.model_validate(raw or {})
    except ValidationError as exc:
        problems = [
            Problem(
                ".".join(str(p) for p in (where, *err["loc"])) if err["loc"] else where, err["msg"]
            )
            for err in exc.errors()
        ]
        raise ConfigValidationError(f"{where} (OneRoster CSV options)", problems) from exc
