//! # The mailbox connection, as last reported
//!
//! The IMAP watcher writes the state of its connection into a small file inside the store
//! folder, and `intake status` reads it back. The value lives with the store, which reads it,
//! rather than with the adapter that writes it, so that the store knows no mail source.

/// Where the watcher writes its connection state, inside the store folder.
pub fn state_file(store_dir: &std::path::Path) -> std::path::PathBuf {
    store_dir.join("mailbox-state.json")
}

/// Where the watcher of the mailbox named `name` among several (`[[mailbox]] name`) writes
/// its connection state; the one `[mailbox]`'s is [`state_file`].
pub fn state_file_of(store_dir: &std::path::Path, name: Option<&str>) -> std::path::PathBuf {
    match name {
        Some(n) => store_dir.join(format!("mailbox-state-{n}.json")),
        None => state_file(store_dir),
    }
}

/// The watcher's connection, as `intake status` shows it.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct ConnectionState {
    /// `user@host`.
    pub account: String,
    /// The mailbox watched.
    pub mailbox: String,
    /// `connected` or `disconnected`.
    pub state: String,
    /// `idle` or `poll` when connected.
    pub mode: Option<String>,
    /// Since when (RFC 3339, UTC).
    pub since: String,
    /// The last error, when disconnected.
    pub error: Option<String>,
}

/// The connection states the watchers of named mailboxes (`[[mailbox]]`) wrote, by name.
pub fn named_states(store_dir: &std::path::Path) -> Vec<ConnectionState> {
    let Ok(entries) = std::fs::read_dir(store_dir) else {
        return Vec::new();
    };
    let mut found: Vec<(String, ConnectionState)> = entries
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let named = name.strip_prefix("mailbox-state-")?.strip_suffix(".json")?;
            let state = serde_json::from_slice(&std::fs::read(e.path()).ok()?).ok()?;
            Some((named.to_string(), state))
        })
        .collect();
    found.sort_by(|a, b| a.0.cmp(&b.0));
    found.into_iter().map(|(_, s)| s).collect()
}
