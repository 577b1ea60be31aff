"""Everything that leaves the workstation: PDF, signatures, packages, OSCAL, CSAF."""
