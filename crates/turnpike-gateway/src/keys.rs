//! Subscription keys, kept in an embedded SQLite database under the data folder, never in the
//! artifact folder.

use std::path::{Path, PathBuf};

use rusqlite::{Connection, OptionalExtension, params};

/// The database file inside the data folder.
pub const DB_FILE: &str = "turnpike.db";

/// Which of a subscription's two keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Which {
    /// The primary key.
    Primary,
    /// The secondary key.
    Secondary,
}

impl Which {
    /// `primary` or `secondary`.
    pub fn name(self) -> &'static str {
        match self {
            Which::Primary => "primary",
            Which::Secondary => "secondary",
        }
    }
}

/// One subscription's keys.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyRow {
    /// The subscription's name (its folder name).
    pub name: String,
    /// The primary key.
    pub primary: String,
    /// The secondary key.
    pub secondary: String,
    /// When the row was last changed, as UTC text.
    pub updated: String,
}

/// The key store: one SQLite file.
#[derive(Debug)]
pub struct KeyStore {
    conn: Connection,
    path: PathBuf,
}

/// A key store error, as a lowercase message.
pub type Error = String;

fn db_err(e: rusqlite::Error) -> Error {
    format!("key database: {}", e.to_string().to_lowercase())
}

impl KeyStore {
    /// Opens (and creates, with its folder) the store under `data_dir`.
    pub fn open(data_dir: &Path) -> Result<KeyStore, Error> {
        std::fs::create_dir_all(data_dir).map_err(|e| {
            format!(
                "cannot create data folder `{}`: {}",
                data_dir.display(),
                e.to_string().to_lowercase()
            )
        })?;
        let path = data_dir.join(DB_FILE);
        let conn = Connection::open(&path).map_err(db_err)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(db_err)?;
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS subscription_keys (
                 name TEXT PRIMARY KEY NOT NULL,
                 primary_key TEXT NOT NULL UNIQUE,
                 secondary_key TEXT NOT NULL UNIQUE,
                 updated TEXT NOT NULL
             );",
        )
        .map_err(db_err)?;
        Ok(KeyStore { conn, path })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A number that changes whenever another connection commits a change to the database
    /// (SQLite's `data_version`): how a running gateway notices `turnpike keys`.
    pub fn data_version(&self) -> Result<i64, Error> {
        self.conn
            .query_row("PRAGMA data_version", [], |r| r.get(0))
            .map_err(db_err)
    }

    /// Every subscription's keys, by name.
    pub fn all(&self) -> Result<Vec<KeyRow>, Error> {
        let mut st = self
            .conn
            .prepare(
                "SELECT name, primary_key, secondary_key, updated FROM subscription_keys ORDER BY name",
            )
            .map_err(db_err)?;
        let rows = st
            .query_map([], |r| {
                Ok(KeyRow {
                    name: r.get(0)?,
                    primary: r.get(1)?,
                    secondary: r.get(2)?,
                    updated: r.get(3)?,
                })
            })
            .map_err(db_err)?;
        rows.collect::<Result<Vec<_>, _>>().map_err(db_err)
    }

    /// One subscription's keys.
    pub fn get(&self, name: &str) -> Result<Option<KeyRow>, Error> {
        self.conn
            .query_row(
                "SELECT name, primary_key, secondary_key, updated FROM subscription_keys WHERE name = ?1",
                params![name],
                |r| {
                    Ok(KeyRow {
                        name: r.get(0)?,
                        primary: r.get(1)?,
                        secondary: r.get(2)?,
                        updated: r.get(3)?,
                    })
                },
            )
            .optional()
            .map_err(db_err)
    }

    /// The keys of `name`, created (random) when the subscription has none yet.
    pub fn ensure(&self, name: &str) -> Result<KeyRow, Error> {
        if let Some(row) = self.get(name)? {
            return Ok(row);
        }
        self.conn
            .execute(
                "INSERT INTO subscription_keys (name, primary_key, secondary_key, updated) VALUES (?1, ?2, ?3, ?4)",
                params![name, new_key()?, new_key()?, now_text()],
            )
            .map_err(db_err)?;
        self.get(name)?
            .ok_or_else(|| format!("subscription `{name}` vanished from the key database"))
    }

    /// Sets one or both keys of `name` (creating its row). A key that another subscription
    /// already uses is refused.
    pub fn set(
        &self,
        name: &str,
        primary: Option<&str>,
        secondary: Option<&str>,
    ) -> Result<KeyRow, Error> {
        let current = self.ensure(name)?;
        for key in [primary, secondary].into_iter().flatten() {
            check_key(key)?;
            let owner: Option<String> = self
                .conn
                .query_row(
                    "SELECT name FROM subscription_keys WHERE (primary_key = ?1 OR secondary_key = ?1) AND name <> ?2",
                    params![key, name],
                    |r| r.get(0),
                )
                .optional()
                .map_err(db_err)?;
            if let Some(owner) = owner {
                return Err(format!(
                    "that key already belongs to subscription `{owner}`; keys must be unique"
                ));
            }
        }
        let p = primary.unwrap_or(&current.primary);
        let s = secondary.unwrap_or(&current.secondary);
        if p == s {
            return Err("the primary and the secondary key must differ".into());
        }
        if p == current.primary && s == current.secondary {
            return Ok(current);
        }
        // The two columns are unique: clear them first so that swapping keys works.
        let tx = self.conn.unchecked_transaction().map_err(db_err)?;
        tx.execute(
            "UPDATE subscription_keys SET primary_key = ?2, secondary_key = ?3 WHERE name = ?1",
            params![name, format!("\u{0}p{name}"), format!("\u{0}s{name}")],
        )
        .map_err(db_err)?;
        tx.execute(
            "UPDATE subscription_keys SET primary_key = ?2, secondary_key = ?3, updated = ?4 WHERE name = ?1",
            params![name, p, s, now_text()],
        )
        .map_err(db_err)?;
        tx.commit().map_err(db_err)?;
        self.get(name)?
            .ok_or_else(|| format!("subscription `{name}` vanished from the key database"))
    }

    /// Sets the keys of several subscriptions at once, as one change: keys may move between
    /// them (a swap, a secondary promoted to primary). `None` keeps a key as it is.
    pub fn set_many(
        &self,
        changes: &[(String, Option<String>, Option<String>)],
    ) -> Result<(), Error> {
        let mut finals: Vec<(String, String, String)> = Vec::new();
        for (name, p, s) in changes {
            let current = self.ensure(name)?;
            let p = p.clone().unwrap_or(current.primary);
            let s = s.clone().unwrap_or(current.secondary);
            for key in [&p, &s] {
                check_key(key)?;
            }
            if p == s {
                return Err(format!(
                    "the primary and the secondary key of `{name}` must differ"
                ));
            }
            finals.push((name.clone(), p, s));
        }
        let mut seen = std::collections::HashMap::new();
        for (name, p, s) in &finals {
            for key in [p, s] {
                if let Some(other) = seen.insert(key.clone(), name.clone()) {
                    return Err(format!(
                        "subscriptions `{other}` and `{name}` are given the same key; keys must be unique"
                    ));
                }
                let owner: Option<String> = self
                    .conn
                    .query_row(
                        "SELECT name FROM subscription_keys WHERE primary_key = ?1 OR secondary_key = ?1",
                        params![key],
                        |r| r.get(0),
                    )
                    .optional()
                    .map_err(db_err)?;
                if let Some(owner) = owner
                    && !finals.iter().any(|(n, ..)| *n == owner)
                {
                    return Err(format!(
                        "a key given to `{name}` already belongs to subscription `{owner}`; keys must be unique"
                    ));
                }
            }
        }
        let tx = self.conn.unchecked_transaction().map_err(db_err)?;
        for (name, ..) in &finals {
            tx.execute(
                "UPDATE subscription_keys SET primary_key = ?2, secondary_key = ?3 WHERE name = ?1",
                params![name, format!("\u{0}p{name}"), format!("\u{0}s{name}")],
            )
            .map_err(db_err)?;
        }
        let now = now_text();
        for (name, p, s) in &finals {
            tx.execute(
                "UPDATE subscription_keys SET primary_key = ?2, secondary_key = ?3, updated = ?4 WHERE name = ?1",
                params![name, p, s, now],
            )
            .map_err(db_err)?;
        }
        tx.commit().map_err(db_err)
    }

    /// Replaces one key of `name` with a new random one.
    pub fn regenerate(&self, name: &str, which: Which) -> Result<KeyRow, Error> {
        let key = new_key()?;
        match which {
            Which::Primary => self.set(name, Some(&key), None),
            Which::Secondary => self.set(name, None, Some(&key)),
        }
    }
}

/// A key a user sets: printable ASCII without spaces, 8 to 256 characters.
fn check_key(key: &str) -> Result<(), Error> {
    if !(8..=256).contains(&key.len()) {
        return Err(format!(
            "a key must be 8 to 256 characters long; `{}` has {}",
            mask(key),
            key.len()
        ));
    }
    if !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err("a key may hold only printable ASCII characters without spaces".into());
    }
    Ok(())
}

/// A new random key: 32 lower-case hex digits, as APIM generates them.
pub fn new_key() -> Result<String, Error> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes)
        .map_err(|e| format!("no random source: {}", e.to_string().to_lowercase()))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// A key shortened for listings: its first four characters.
pub fn mask(key: &str) -> String {
    let head: String = key.chars().take(4).collect();
    format!("{head}…")
}

fn now_text() -> String {
    crate::time::rfc3339(std::time::SystemTime::now())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> (KeyStore, PathBuf) {
        let dir = std::env::temp_dir().join(format!(
            "turnpike-keys-{}-{}",
            std::process::id(),
            new_key().unwrap_or_default()
        ));
        (KeyStore::open(&dir).expect("opens"), dir)
    }

    #[test]
    fn keys_are_created_once_and_kept() {
        let (s, dir) = store();
        let a = s.ensure("one").expect("ensure");
        assert_eq!(a.primary.len(), 32);
        assert_ne!(a.primary, a.secondary);
        assert_eq!(s.ensure("one").expect("again"), a);
        drop(s);
        let s = KeyStore::open(&dir).expect("reopens");
        assert_eq!(s.get("one").expect("get"), Some(a));
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn keys_move_between_subscriptions_in_one_change() {
        let (s, dir) = store();
        let a = s.ensure("a").expect("a");
        let b = s.ensure("b").expect("b");
        // Swap a's primary with b's primary, and promote b's secondary... in one change.
        s.set_many(&[
            ("a".into(), Some(b.primary.clone()), None),
            ("b".into(), Some(a.primary.clone()), None),
        ])
        .expect("swap across subscriptions");
        assert_eq!(s.get("a").expect("get").expect("a").primary, b.primary);
        assert_eq!(s.get("b").expect("get").expect("b").primary, a.primary);
        let b2 = s.get("b").expect("get").expect("b");
        s.set_many(&[(
            "b".into(),
            Some(b2.secondary.clone()),
            Some("fresh-key-000001".into()),
        )])
        .expect("promote the secondary");
        let err = s
            .set_many(&[("c".into(), Some(b.primary.clone()), None)])
            .expect_err("taken by a subscription outside the change");
        assert!(err.contains("already belongs to subscription `a`"), "{err}");
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn set_swap_regenerate_and_uniqueness() {
        let (s, dir) = store();
        let a = s.ensure("a").expect("a");
        s.ensure("b").expect("b");
        let swapped = s
            .set("a", Some(&a.secondary), Some(&a.primary))
            .expect("swap");
        assert_eq!(swapped.primary, a.secondary);
        let err = s.set("b", Some(&a.primary), None).expect_err("taken");
        assert!(err.contains("already belongs to subscription `a`"), "{err}");
        assert!(s.set("b", Some("short"), None).is_err());
        assert!(s.set("b", Some("has a space"), None).is_err());
        let r = s.regenerate("a", Which::Secondary).expect("regenerate");
        assert_eq!(r.primary, swapped.primary);
        assert_ne!(r.secondary, swapped.secondary);
        let _ = std::fs::remove_dir_all(dir);
    }
}
