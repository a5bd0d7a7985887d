//! Which database migrations a Worker build still needs.
//!
//! `npm run migrate` (scripts/stack.mjs) is the only code that applies
//! `migrations/*.sql`. The Worker only compares the files it was built with
//! (their names, embedded by `worker/build.rs` from the same folder, so a new
//! file needs no registration) with the versions recorded in
//! `schema_migrations`, and refuses to touch a database that lacks any of
//! them (503 with [`schema_behind`], `/healthz` names them).
//!
//! Invariant: a version counts as applied only when its exact name is
//! recorded; a recorded version this build does not know (a newer Worker
//! migrated first) is not an error.

use crate::error::{ApiError, ErrorCode};

/// The versions in `expected` (in their order) that `applied` lacks.
pub fn pending<'a>(expected: &[&'a str], applied: &[String]) -> Vec<&'a str> {
    expected
        .iter()
        .copied()
        .filter(|v| !applied.iter().any(|a| a == v))
        .collect()
}

/// The command that applies the pending migrations, as the operator types it.
pub const MIGRATE_COMMAND: &str = "DATABASE_URL=postgres://… npm run migrate";

/// 503 for a request that needs a database whose schema is behind this Worker.
pub fn schema_behind(pending: &[String]) -> ApiError {
    ApiError::new(
        ErrorCode::ServiceUnavailable,
        format!(
            "The database is missing {} migration(s) this Worker needs ({}); nothing was done. \
             The operator must run `{MIGRATE_COMMAND}`",
            pending.len(),
            pending.join(", ")
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn nothing_is_pending_when_every_file_is_recorded() {
        assert!(pending(&["0001_a", "0002_b"], &s(&["0002_b", "0001_a"])).is_empty());
    }

    #[test]
    fn missing_versions_are_pending_in_file_order() {
        assert_eq!(
            pending(&["0001_a", "0002_b", "0003_c"], &s(&["0002_b"])),
            vec!["0001_a", "0003_c"]
        );
    }

    #[test]
    fn an_empty_database_lacks_everything() {
        assert_eq!(pending(&["0001_a"], &[]), vec!["0001_a"]);
    }

    #[test]
    fn a_version_recorded_by_a_newer_worker_is_not_an_error() {
        assert!(pending(&["0001_a"], &s(&["0001_a", "0009_new"])).is_empty());
    }

    #[test]
    fn a_renamed_file_is_pending_under_its_new_name() {
        assert_eq!(
            pending(&["0001_init"], &s(&["0001_initial"])),
            vec!["0001_init"]
        );
    }

    #[test]
    fn the_503_names_the_versions_and_the_command() {
        let e = schema_behind(&s(&["0003_x", "0004_y"]));
        assert_eq!(e.status(), 503);
        assert_eq!(e.error_code(), ErrorCode::ServiceUnavailable);
        assert!(e.message().contains("0003_x, 0004_y"));
        assert!(e.message().contains("npm run migrate"));
    }
}
