//! The validator key file: a 32-byte ed25519 secret seed in hex, readable by its owner only. The same key
//! signs consensus messages and is the node's libp2p identity (its peer id follows from the public key).

use anyhow::{bail, Context, Result};
use purse_types::{Address, Keypair, PublicKey};
use std::fs::{self, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

/// Unix mode of a key file: read and write for its owner only.
pub const KEY_FILE_MODE: u32 = 0o600;
/// Unix mode of the directory holding key files.
pub const KEY_DIR_MODE: u32 = 0o700;
/// Largest key file read (a hex seed and a newline; anything much larger is not a key file).
pub const MAX_KEY_FILE_BYTES: u64 = 1024;

/// What identifies a key in the network: its public key, account address and libp2p peer id.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct KeyInfo {
    /// Public key, hex.
    pub public_key: PublicKey,
    /// Account address (`purse1…`).
    pub address: Address,
    /// libp2p peer id.
    pub peer_id: String,
}

impl KeyInfo {
    /// The identifiers of `key`.
    pub fn of(key: &PublicKey) -> Result<KeyInfo> {
        let peer = purse_network::identity::peer_id_from_public(key).context("deriving the peer id")?;
        Ok(KeyInfo { public_key: *key, address: key.address(), peer_id: peer.to_string() })
    }
}

impl std::fmt::Display for KeyInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "public key: {}", self.public_key.to_hex())?;
        writeln!(f, "address:    {}", self.address)?;
        write!(f, "peer id:    {}", self.peer_id)
    }
}

/// A fresh random key from the operating system's generator.
pub fn generate() -> Keypair {
    Keypair::generate(&mut rand_core::OsRng)
}

/// Writes `key`'s seed to `path` (mode 0600, parent directory created with mode 0700). Refuses to replace an
/// existing file unless `overwrite`.
pub fn write_key_file(path: &Path, key: &Keypair, overwrite: bool) -> Result<()> {
    if let Some(dir) = path.parent() {
        if !dir.as_os_str().is_empty() && !dir.exists() {
            fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
            fs::set_permissions(dir, fs::Permissions::from_mode(KEY_DIR_MODE))
                .with_context(|| format!("setting the mode of {}", dir.display()))?;
        }
    }
    if path.exists() && !overwrite {
        bail!("{} already exists (pass --force to replace it)", path.display());
    }
    let tmp = path.with_extension("tmp");
    let _ = fs::remove_file(&tmp);
    {
        let mut f = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(KEY_FILE_MODE)
            .open(&tmp)
            .with_context(|| format!("creating {}", tmp.display()))?;
        let seed = key.seed();
        let text = zeroize::Zeroizing::new(format!("{}\n", hex::encode(&seed[..])));
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
    }
    fs::rename(&tmp, path).with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

/// Reads a key file written by [`write_key_file`]. Warns (does not fail) when others may read it.
pub fn read_key_file(path: &Path) -> Result<Keypair> {
    let meta = fs::metadata(path).with_context(|| format!("reading the key file {}", path.display()))?;
    if meta.len() > MAX_KEY_FILE_BYTES {
        bail!("{} is not a key file ({} bytes)", path.display(), meta.len());
    }
    if meta.permissions().mode() & 0o077 != 0 {
        tracing::warn!(path = %path.display(), "key file is readable by other users; chmod 600 it");
    }
    let text = zeroize::Zeroizing::new(
        fs::read_to_string(path).with_context(|| format!("reading the key file {}", path.display()))?,
    );
    let mut seed = zeroize::Zeroizing::new([0u8; 32]);
    hex::decode_to_slice(text.trim(), &mut seed[..])
        .with_context(|| format!("{}: expected 64 hex characters (an ed25519 seed)", path.display()))?;
    Ok(Keypair::from_seed(&seed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_file_round_trip_and_mode() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys").join("validator.key");
        let key = generate();
        write_key_file(&path, &key, false).unwrap();
        let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, KEY_FILE_MODE);
        let back = read_key_file(&path).unwrap();
        assert_eq!(back.public(), key.public());
        // No silent replacement.
        assert!(write_key_file(&path, &generate(), false).is_err());
        let other = generate();
        write_key_file(&path, &other, true).unwrap();
        assert_eq!(read_key_file(&path).unwrap().public(), other.public());
        let info = KeyInfo::of(&other.public()).unwrap();
        assert!(info.address.to_string().starts_with("purse1"));
        assert!(info.to_string().contains(&info.peer_id));
    }

    #[test]
    fn garbage_key_file_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k");
        fs::write(&path, "not hex").unwrap();
        assert!(read_key_file(&path).is_err());
        assert!(read_key_file(&dir.path().join("missing")).is_err());
    }
}
