//! btcli-compatible wallet folders (spec §12.3).
//!
//! Layout under a root folder (default `~/.tensornet/wallets`; `~/.bittensor/wallets` works as is):
//!
//! ```text
//! <root>/<wallet>/coldkey                 full keyfile, encrypted by default
//! <root>/<wallet>/coldkeypub.txt          public keyfile
//! <root>/<wallet>/hotkeys/<hotkey>        full keyfile, plain by default
//! <root>/<wallet>/hotkeys/<hotkey>pub.txt public keyfile
//! ```
//!
//! Writes are atomic (temporary file in the same folder, fsync, rename), files get mode 0600 and
//! created folders 0700. Every check that can refuse an operation (existing files, password,
//! encryption) happens before the first byte is written.

use crate::keyfile::{self, read_file};
use crate::{AccountId, KeyError, Keypair};
use std::io::Write;
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

/// Where a password comes from when an encrypted keyfile must be opened.
#[derive(Clone)]
pub enum PasswordSource {
    /// No password available: opening an encrypted file fails with
    /// [`KeyError::PasswordRequired`].
    None,
    /// The password itself.
    Text(Zeroizing<String>),
    /// The name of an environment variable holding the password.
    Env(String),
}

impl std::fmt::Debug for PasswordSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PasswordSource::None => f.write_str("PasswordSource::None"),
            PasswordSource::Text(_) => f.write_str("PasswordSource::Text(<redacted>)"),
            PasswordSource::Env(v) => write!(f, "PasswordSource::Env({v:?})"),
        }
    }
}

impl PasswordSource {
    /// The password, for the keyfile at `path` (used in errors).
    pub fn get(&self, path: &Path) -> Result<Zeroizing<String>, KeyError> {
        match self {
            PasswordSource::None => Err(KeyError::PasswordRequired {
                path: path.to_path_buf(),
            }),
            PasswordSource::Text(t) => Ok(t.clone()),
            PasswordSource::Env(var) => std::env::var(var).map(Zeroizing::new).map_err(|_| {
                KeyError::PasswordUnavailable(format!(
                    "environment variable {var} is not set (or not UTF-8)"
                ))
            }),
        }
    }
}

/// One wallet: a named folder under a wallets root. Opening does not touch the disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wallet {
    root: PathBuf,
    name: String,
}

/// Checks that a wallet or hotkey name is a plain file name.
fn check_name(name: &str) -> Result<(), KeyError> {
    let ok = !name.is_empty()
        && name != "."
        && name != ".."
        && !name.starts_with('.')
        && name.len() <= 128
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.' | '@' | '+'));
    if ok {
        Ok(())
    } else {
        Err(KeyError::InvalidName(name.to_string()))
    }
}

/// Expands a leading `~` to the home folder.
pub fn expand_home(path: &Path) -> PathBuf {
    let Some(s) = path.to_str() else {
        return path.to_path_buf();
    };
    if s == "~" || s.starts_with("~/") {
        if let Some(home) = std::env::var_os("HOME") {
            return PathBuf::from(home).join(s.trim_start_matches('~').trim_start_matches('/'));
        }
    }
    path.to_path_buf()
}

/// Creates a folder (and missing parents) with mode 0700 for the folders it creates.
fn create_dir(path: &Path) -> Result<(), KeyError> {
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        b.mode(0o700);
    }
    b.create(path).map_err(|e| KeyError::io(path, e))
}

/// Writes `data` to `path` atomically with mode 0600: temporary file in the same folder, fsync,
/// rename, fsync of the folder. On error the temporary file is removed and `path` is untouched.
pub fn write_atomic(path: &Path, data: &[u8]) -> Result<(), KeyError> {
    let dir = path
        .parent()
        .ok_or_else(|| KeyError::InvalidName(path.display().to_string()))?;
    create_dir(dir)?;
    let file_name = path
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| KeyError::InvalidName(path.display().to_string()))?;
    let tmp = dir.join(format!(
        ".{file_name}.tmp-{}-{:016x}",
        std::process::id(),
        rand::random::<u64>()
    ));
    let result = (|| {
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let mut f = opts.open(&tmp).map_err(|e| KeyError::io(&tmp, e))?;
        f.write_all(data).map_err(|e| KeyError::io(&tmp, e))?;
        f.sync_all().map_err(|e| KeyError::io(&tmp, e))?;
        drop(f);
        std::fs::rename(&tmp, path).map_err(|e| KeyError::io(path, e))
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
        return result;
    }
    // Make the rename durable; failure here does not undo the write.
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

impl Wallet {
    /// The default wallets root: `~/.tensornet/wallets`.
    pub fn default_root() -> PathBuf {
        expand_home(Path::new("~/.tensornet/wallets"))
    }

    /// A handle on wallet `name` under `root` (`~` is expanded). Validates the name only.
    pub fn open(root: impl AsRef<Path>, name: &str) -> Result<Wallet, KeyError> {
        check_name(name)?;
        Ok(Wallet {
            root: expand_home(root.as_ref()),
            name: name.to_string(),
        })
    }

    /// The names of the wallets (sub-folders) under `root`, sorted; empty if `root` is missing.
    pub fn list(root: impl AsRef<Path>) -> Result<Vec<String>, KeyError> {
        let root = expand_home(root.as_ref());
        let rd = match std::fs::read_dir(&root) {
            Ok(rd) => rd,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(KeyError::io(&root, e)),
        };
        let mut out = Vec::new();
        for entry in rd {
            let entry = entry.map_err(|e| KeyError::io(&root, e))?;
            let is_dir = entry.file_type().map(|t| t.is_dir()).unwrap_or(false);
            if let (true, Some(n)) = (is_dir, entry.file_name().to_str()) {
                if check_name(n).is_ok() {
                    out.push(n.to_string());
                }
            }
        }
        out.sort();
        Ok(out)
    }

    /// The wallet's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The wallets root.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The wallet's folder.
    pub fn path(&self) -> PathBuf {
        self.root.join(&self.name)
    }

    /// Whether the wallet's folder exists.
    pub fn exists(&self) -> bool {
        self.path().is_dir()
    }

    /// `<wallet>/coldkey`.
    pub fn coldkey_path(&self) -> PathBuf {
        self.path().join("coldkey")
    }

    /// `<wallet>/coldkeypub.txt`.
    pub fn coldkeypub_path(&self) -> PathBuf {
        self.path().join("coldkeypub.txt")
    }

    /// `<wallet>/hotkeys/<hotkey>`.
    pub fn hotkey_path(&self, hotkey: &str) -> Result<PathBuf, KeyError> {
        check_name(hotkey)?;
        Ok(self.path().join("hotkeys").join(hotkey))
    }

    /// `<wallet>/hotkeys/<hotkey>pub.txt`.
    pub fn hotkeypub_path(&self, hotkey: &str) -> Result<PathBuf, KeyError> {
        check_name(hotkey)?;
        Ok(self.path().join("hotkeys").join(format!("{hotkey}pub.txt")))
    }

    /// The wallet's existing folders and key files that group or others may read or write (btcli
    /// folders are often 0755). Callers warn about these; they are not an error. Empty on
    /// non-Unix systems.
    pub fn loose_permissions(&self) -> Vec<PathBuf> {
        let mut out = Vec::new();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mut paths = vec![
                self.path(),
                self.coldkey_path(),
                self.path().join("hotkeys"),
            ];
            for h in self.hotkeys().unwrap_or_default() {
                if let Ok(p) = self.hotkey_path(&h) {
                    paths.push(p);
                }
            }
            for p in paths {
                if let Ok(m) = std::fs::metadata(&p) {
                    if m.permissions().mode() & 0o077 != 0 {
                        out.push(p);
                    }
                }
            }
        }
        out
    }

    /// Whether the coldkey file exists.
    pub fn has_coldkey(&self) -> bool {
        self.coldkey_path().is_file()
    }

    /// Whether the coldkey file is encrypted (`$NACL` or a legacy scheme).
    pub fn coldkey_is_encrypted(&self) -> Result<bool, KeyError> {
        let data = read_file(&self.coldkey_path(), "coldkey")?;
        Ok(keyfile::detect(&data) != keyfile::Encryption::None)
    }

    /// Opens the coldkey, taking the password from `password` if the file is encrypted.
    pub fn coldkey(&self, password: &PasswordSource) -> Result<Keypair, KeyError> {
        let path = self.coldkey_path();
        self.coldkey_with(|| password.get(&path))
    }

    /// Opens the coldkey; `password` is called only if the file is encrypted.
    pub fn coldkey_with(
        &self,
        password: impl FnOnce() -> Result<Zeroizing<String>, KeyError>,
    ) -> Result<Keypair, KeyError> {
        let path = self.coldkey_path();
        let data = read_file(&path, "coldkey")?;
        keyfile::open_keypair(&data, &path, password)
    }

    /// The coldkey's account, from `coldkeypub.txt` (or, if that is missing, from a plaintext
    /// coldkey). Never needs a password.
    pub fn coldkeypub(&self) -> Result<AccountId, KeyError> {
        let path = self.coldkeypub_path();
        match read_file(&path, "coldkeypub.txt") {
            Ok(data) => keyfile::parse_public(&data, &path),
            Err(KeyError::NotFound { .. }) => {
                let cpath = self.coldkey_path();
                let data = read_file(&cpath, "coldkeypub.txt")?;
                if keyfile::detect(&data) != keyfile::Encryption::None {
                    return Err(KeyError::NotFound {
                        what: "coldkeypub.txt".into(),
                        path,
                    });
                }
                keyfile::parse_public(&data, &cpath)
            }
            Err(e) => Err(e),
        }
    }

    /// Opens a plaintext hotkey (the default for hotkeys). An encrypted one gives
    /// [`KeyError::PasswordRequired`]; use [`Wallet::hotkey_with`] for those.
    pub fn hotkey(&self, hotkey: &str) -> Result<Keypair, KeyError> {
        let path = self.hotkey_path(hotkey)?;
        self.hotkey_with(hotkey, &PasswordSource::None)
            .map_err(|e| match e {
                KeyError::PasswordRequired { .. } => KeyError::PasswordRequired { path },
                other => other,
            })
    }

    /// Opens a hotkey, taking a password from `password` if it is encrypted.
    pub fn hotkey_with(
        &self,
        hotkey: &str,
        password: &PasswordSource,
    ) -> Result<Keypair, KeyError> {
        let path = self.hotkey_path(hotkey)?;
        let data = read_file(&path, &format!("hotkey {hotkey:?}"))?;
        keyfile::open_keypair(&data, &path, || password.get(&path))
    }

    /// A hotkey's account, from `<hotkey>pub.txt` or else from a plaintext hotkey file.
    pub fn hotkeypub(&self, hotkey: &str) -> Result<AccountId, KeyError> {
        let path = self.hotkeypub_path(hotkey)?;
        match read_file(&path, &format!("hotkey {hotkey:?}")) {
            Ok(data) => keyfile::parse_public(&data, &path),
            Err(KeyError::NotFound { .. }) => {
                let hpath = self.hotkey_path(hotkey)?;
                let data = read_file(&hpath, &format!("hotkey {hotkey:?}"))?;
                if keyfile::detect(&data) != keyfile::Encryption::None {
                    return Err(KeyError::NotFound {
                        what: format!("{hotkey}pub.txt"),
                        path,
                    });
                }
                keyfile::parse_public(&data, &hpath)
            }
            Err(e) => Err(e),
        }
    }

    /// The names of this wallet's hotkeys, sorted (a hotkey is a file in `hotkeys/` or a
    /// `<name>pub.txt` there).
    pub fn hotkeys(&self) -> Result<Vec<String>, KeyError> {
        let dir = self.path().join("hotkeys");
        let rd = match std::fs::read_dir(&dir) {
            Ok(rd) => rd,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(KeyError::io(&dir, e)),
        };
        let mut out = std::collections::BTreeSet::new();
        for entry in rd {
            let entry = entry.map_err(|e| KeyError::io(&dir, e))?;
            if !entry.file_type().map(|t| t.is_file()).unwrap_or(false) {
                continue;
            }
            let Some(n) = entry.file_name().to_str().map(str::to_string) else {
                continue;
            };
            let name = n.strip_suffix("pub.txt").map(str::to_string).unwrap_or(n);
            if check_name(&name).is_ok() {
                out.insert(name);
            }
        }
        Ok(out.into_iter().collect())
    }

    fn refuse_existing(path: &Path, overwrite: bool) -> Result<(), KeyError> {
        if !overwrite && path.exists() {
            return Err(KeyError::AlreadyExists {
                path: path.to_path_buf(),
            });
        }
        Ok(())
    }

    /// A public file may be rewritten without `overwrite` when it already names the same account.
    fn refuse_other_public(
        path: &Path,
        account: &AccountId,
        overwrite: bool,
    ) -> Result<(), KeyError> {
        if overwrite || !path.exists() {
            return Ok(());
        }
        match read_file(path, "public keyfile").and_then(|d| keyfile::parse_public(&d, path)) {
            Ok(a) if a == *account => Ok(()),
            _ => Err(KeyError::AlreadyExists {
                path: path.to_path_buf(),
            }),
        }
    }

    fn encode(kp: &Keypair, password: Option<&str>) -> Result<Zeroizing<Vec<u8>>, KeyError> {
        let plain = keyfile::keyfile_json(kp);
        match password {
            None => Ok(Zeroizing::new(plain.as_bytes().to_vec())),
            Some(pw) => keyfile::encrypt(plain.as_bytes(), pw).map(Zeroizing::new),
        }
    }

    /// Writes the coldkey (encrypted with `password`, or plaintext if `None`) and
    /// `coldkeypub.txt`. Refuses to replace existing files unless `overwrite`.
    pub fn write_coldkey(
        &self,
        kp: &Keypair,
        password: Option<&str>,
        overwrite: bool,
    ) -> Result<(), KeyError> {
        let cpath = self.coldkey_path();
        let ppath = self.coldkeypub_path();
        Self::refuse_existing(&cpath, overwrite)?;
        Self::refuse_other_public(&ppath, &kp.account_id(), overwrite)?;
        let data = Self::encode(kp, password)?;
        write_atomic(&cpath, &data)?;
        write_atomic(&ppath, keyfile::public_json(&kp.account_id()).as_bytes())
    }

    /// Writes only `coldkeypub.txt` (a watch-only wallet, e.g. `regen-coldkeypub`).
    pub fn write_coldkeypub(&self, account: &AccountId, overwrite: bool) -> Result<(), KeyError> {
        let ppath = self.coldkeypub_path();
        Self::refuse_other_public(&ppath, account, overwrite)?;
        write_atomic(&ppath, keyfile::public_json(account).as_bytes())
    }

    /// Writes hotkey `hotkey` (plaintext unless `password`) and its `pub.txt`. Refuses to replace
    /// existing files unless `overwrite`. Works on a wallet without a coldkey.
    pub fn write_hotkey(
        &self,
        hotkey: &str,
        kp: &Keypair,
        password: Option<&str>,
        overwrite: bool,
    ) -> Result<(), KeyError> {
        let hpath = self.hotkey_path(hotkey)?;
        let ppath = self.hotkeypub_path(hotkey)?;
        Self::refuse_existing(&hpath, overwrite)?;
        Self::refuse_other_public(&ppath, &kp.account_id(), overwrite)?;
        let data = Self::encode(kp, password)?;
        write_atomic(&hpath, &data)?;
        write_atomic(&ppath, keyfile::public_json(&kp.account_id()).as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::DEV_PHRASE;

    #[test]
    fn layout_and_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let w = Wallet::open(dir.path(), "w1").unwrap();
        assert!(!w.exists());
        assert!(matches!(w.coldkeypub(), Err(KeyError::NotFound { .. })));
        assert!(matches!(
            w.coldkey(&PasswordSource::None),
            Err(KeyError::NotFound { .. })
        ));
        let ck = Keypair::from_mnemonic(DEV_PHRASE).unwrap();
        let hk = Keypair::from_uri("//Alice").unwrap();
        w.write_coldkey(&ck, None, false).unwrap();
        w.write_hotkey("default", &hk, None, false).unwrap();
        assert_eq!(w.coldkeypub().unwrap(), ck.account_id());
        assert_eq!(
            w.coldkey(&PasswordSource::None).unwrap().account_id(),
            ck.account_id()
        );
        assert_eq!(w.hotkey("default").unwrap().account_id(), hk.account_id());
        assert_eq!(w.hotkeypub("default").unwrap(), hk.account_id());
        assert_eq!(w.hotkeys().unwrap(), vec!["default".to_string()]);
        assert_eq!(Wallet::list(dir.path()).unwrap(), vec!["w1".to_string()]);
        // Overwrite protection leaves the files as they were.
        let other = Keypair::from_uri("//Bob").unwrap();
        assert!(matches!(
            w.write_coldkey(&other, None, false),
            Err(KeyError::AlreadyExists { .. })
        ));
        assert!(matches!(
            w.write_hotkey("default", &other, None, false),
            Err(KeyError::AlreadyExists { .. })
        ));
        assert_eq!(w.coldkeypub().unwrap(), ck.account_id());
        w.write_hotkey("default", &other, None, true).unwrap();
        assert_eq!(
            w.hotkey("default").unwrap().account_id(),
            other.account_id()
        );
        // No temporary files are left behind.
        let leftovers: Vec<_> = std::fs::read_dir(w.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
            .filter(|n| n.contains(".tmp-"))
            .collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode(&w.coldkey_path()), 0o600);
            assert_eq!(mode(&w.hotkey_path("default").unwrap()), 0o600);
            assert_eq!(mode(&w.path()), 0o700);
            assert_eq!(mode(&w.path().join("hotkeys")), 0o700);
            assert!(w.loose_permissions().is_empty());
            std::fs::set_permissions(w.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
            assert_eq!(w.loose_permissions(), vec![w.path()]);
        }
    }

    #[test]
    fn hotkey_without_coldkey_and_watch_only() {
        let dir = tempfile::tempdir().unwrap();
        let w = Wallet::open(dir.path().join("deep/root"), "miner").unwrap();
        let hk = Keypair::from_uri("//Bob").unwrap();
        w.write_hotkey("h1", &hk, None, false).unwrap();
        assert!(!w.has_coldkey());
        assert_eq!(w.hotkey("h1").unwrap().account_id(), hk.account_id());
        let acc = Keypair::from_uri("//Alice").unwrap().account_id();
        w.write_coldkeypub(&acc, false).unwrap();
        // Same account again is fine without overwrite; another one is not.
        w.write_coldkeypub(&acc, false).unwrap();
        assert!(w.write_coldkeypub(&hk.account_id(), false).is_err());
        assert_eq!(w.coldkeypub().unwrap(), acc);
        assert!(matches!(
            w.coldkey(&PasswordSource::None),
            Err(KeyError::NotFound { .. })
        ));
    }

    #[test]
    fn names_are_checked() {
        for bad in ["", ".", "..", "a/b", "../x", ".hidden", "a\\b"] {
            assert!(Wallet::open("/tmp", bad).is_err(), "{bad}");
        }
        let w = Wallet::open("/tmp", "ok").unwrap();
        assert!(w.hotkey_path("../coldkey").is_err());
        assert!(PasswordSource::Env("TENSORNET_SURELY_UNSET_VAR".into())
            .get(Path::new("x"))
            .is_err());
        let dbg = format!(
            "{:?}",
            PasswordSource::Text(Zeroizing::new("hunter22".into()))
        );
        assert!(!dbg.contains("hunter22"));
    }

    #[test]
    fn corrupt_files_give_clear_errors() {
        let dir = tempfile::tempdir().unwrap();
        let w = Wallet::open(dir.path(), "w").unwrap();
        write_atomic(&w.coldkey_path(), b"{\"secretSeed\": 12").unwrap();
        let e = w.coldkey(&PasswordSource::None).unwrap_err();
        assert!(matches!(e, KeyError::CorruptKeyfile { .. }));
        assert!(e.to_string().contains("coldkey"));
        write_atomic(&w.coldkey_path(), b"$ANSIBLE_VAULT;1.1;AES256\n").unwrap();
        assert!(matches!(
            w.coldkey(&PasswordSource::None),
            Err(KeyError::UnsupportedEncryption { .. })
        ));
        write_atomic(&w.coldkey_path(), b"$NACL0123456789").unwrap();
        assert!(matches!(
            w.coldkey(&PasswordSource::None),
            Err(KeyError::PasswordRequired { .. })
        ));
    }
}
