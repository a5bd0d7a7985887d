//! Provider base-URL checks (filled in by the owner-API work).
