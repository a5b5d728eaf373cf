"""opus-dred-conformance: conformance and reference bitstream suite for Opus DRED."""

__version__ = "0.1.0"
