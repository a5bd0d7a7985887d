//! Rule templates (filled in by the rules work).
