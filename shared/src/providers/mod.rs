//! Provider translation (filled in by the providers work).
