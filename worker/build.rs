//! Embeds the names of the `migrations/*.sql` files, in order, into the
//! Worker: it checks that the database has them all (it never applies them;
//! `npm run migrate` does). A new file is picked up by the next build, with
//! no registration step (the folder itself is watched).

fn main() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../migrations");
    println!("cargo:rerun-if-changed={}", dir.display());
    // The same selection and order as scripts/stack.mjs `migrate`.
    let mut versions: Vec<String> = std::fs::read_dir(&dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter_map(|n| n.strip_suffix(".sql").map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    versions.sort();
    let out = format!("pub const MIGRATIONS: &[&str] = &{versions:?};\n");
    let dest =
        std::path::Path::new(&std::env::var("OUT_DIR").unwrap_or_default()).join("migrations.rs");
    if let Err(e) = std::fs::write(&dest, out) {
        println!("cargo:warning=could not write migrations list: {e}");
    }
}
