//! Incremental SSE parser (filled in by the providers work).
