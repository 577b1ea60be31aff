"""Who publishes a CSAF advisory (the document's publisher block)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Publisher:
    name: str
    namespace: str  # a URI naming the publisher, e.g. https://clearinghouse.example.gov
    category: str = "coordinator"
