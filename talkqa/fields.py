"""What a field of a system's entity accepts: shared by connectors, simulators, the generic system and
the checks (so neither connectors nor simulators need the other to describe a field)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FieldSpec:
    """What a resource's field accepts: used by simulators to validate and by tests to draw values."""

    path: str
    kind: str = "string"  # string | date | email | country | phone | integer | float | boolean | list | any
    max_length: int | None = None
    required_on_create: bool = False
    nullable: bool = True
    read_only: bool = False  # assigned by the system (an identifier, a timestamp): never written
