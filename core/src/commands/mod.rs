//! Command families, one module each. Every module exposes a `COMMANDS` table of
//! [`CommandSpec`]s; [`all`] joins them into the engine's table.

use crate::command::CommandSpec;

pub mod aof;
pub mod args;
pub mod bitmaps;
pub mod blocking;
pub mod client;
pub mod command_docs;
pub mod connection;
pub mod dump;
pub mod expire;
pub mod geo;
pub mod hashes;
pub mod hyperloglog;
pub mod info;
pub mod keys;
pub mod lists;
pub mod object;
pub mod persistence;
pub mod pubsub;
pub mod server;
pub mod sets;
pub mod sort;
pub mod streams;
pub mod strings;
pub mod transactions;
pub mod zsets;

/// Every top-level command spec of every family.
pub fn all() -> Vec<&'static CommandSpec> {
    let families: [&'static [CommandSpec]; 24] = [
        connection::COMMANDS,
        keys::COMMANDS,
        expire::COMMANDS,
        object::COMMANDS,
        strings::COMMANDS,
        bitmaps::COMMANDS,
        server::COMMANDS,
        client::COMMANDS,
        info::COMMANDS,
        command_docs::COMMANDS,
        lists::COMMANDS,
        hashes::COMMANDS,
        sets::COMMANDS,
        zsets::COMMANDS,
        streams::COMMANDS,
        blocking::COMMANDS,
        sort::COMMANDS,
        pubsub::COMMANDS,
        transactions::COMMANDS,
        hyperloglog::COMMANDS,
        geo::COMMANDS,
        dump::COMMANDS,
        persistence::COMMANDS,
        aof::COMMANDS,
    ];
    families.iter().flat_map(|f| f.iter()).collect()
}

#[cfg(test)]
mod tests {
    use super::all;
    use std::collections::HashSet;

    #[test]
    fn every_spec_has_a_handler_and_a_unique_name() {
        let mut seen = HashSet::new();
        for spec in all() {
            assert!(seen.insert(spec.name), "duplicate command {}", spec.name);
            assert_eq!(spec.name, spec.name.to_ascii_lowercase());
            assert!(!spec.summary.is_empty(), "{} lacks a summary", spec.name);
            if spec.subcommands.is_empty() {
                assert!(spec.handler.is_some(), "{} has no handler", spec.name);
            } else {
                for sub in spec.subcommands {
                    assert!(
                        sub.handler.is_some(),
                        "{}|{} has no handler",
                        spec.name,
                        sub.name
                    );
                    assert!(
                        !sub.summary.is_empty(),
                        "{}|{} lacks a summary",
                        spec.name,
                        sub.name
                    );
                }
            }
        }
    }
}
