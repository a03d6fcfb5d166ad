//! The error type of this crate.

use std::path::PathBuf;

/// Everything that can go wrong with keys, addresses, keyfiles and wallets.
///
/// Messages never contain secret material; they name the file and say what to do.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// A mnemonic phrase was not valid BIP39 English (bad word, word count or checksum).
    #[error("invalid mnemonic: {0} (expected 12, 15, 18, 21 or 24 English BIP39 words)")]
    InvalidMnemonic(String),
    /// A word count for a new mnemonic was not one of 12, 15, 18, 21, 24.
    #[error("invalid word count {0}: use 12, 15, 18, 21 or 24")]
    InvalidWordCount(usize),
    /// A secret URI could not be parsed.
    #[error("invalid secret URI: {0}")]
    InvalidUri(String),
    /// A seed was not 32 bytes of hex.
    #[error("invalid seed: {0} (expected 0x followed by 64 hex digits)")]
    InvalidSeed(String),
    /// A secret key was not a valid 64-byte sr25519 secret.
    #[error("invalid secret key: {0}")]
    InvalidSecretKey(String),
    /// An SS58 address was not valid base58.
    #[error("invalid SS58 address {address:?}: not base58")]
    Ss58Base58 {
        /// The offending text.
        address: String,
    },
    /// An SS58 address decoded to the wrong number of bytes.
    #[error("invalid SS58 address {address:?}: decodes to {got} bytes, expected 35 (prefix 42 + 32-byte key + 2-byte checksum)")]
    Ss58Length {
        /// The offending text.
        address: String,
        /// Decoded length.
        got: usize,
    },
    /// An SS58 address had a wrong checksum.
    #[error("invalid SS58 address {address:?}: checksum mismatch (typo?)")]
    Ss58Checksum {
        /// The offending text.
        address: String,
    },
    /// An SS58 address used a network prefix other than 42.
    #[error("invalid SS58 address {address:?}: network prefix {prefix}, expected 42 (generic Substrate / Bittensor)")]
    Ss58Prefix {
        /// The offending text.
        address: String,
        /// The prefix found.
        prefix: u16,
    },
    /// Hex text was malformed.
    #[error("invalid hex: {0}")]
    InvalidHex(String),
    /// A signature was not 64 bytes of `0x` hex.
    #[error("invalid signature: {0} (expected 0x followed by 128 hex digits)")]
    InvalidSignature(String),
    /// A keyfile's content could not be understood.
    #[error("keyfile {path} is corrupt: {reason}")]
    CorruptKeyfile {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// Decryption failed: wrong password (or a tampered file).
    #[error("wrong password for {path} (or the file is damaged); nothing was changed — try again")]
    WrongPassword {
        /// The file.
        path: PathBuf,
    },
    /// The keyfile is encrypted and no password was given.
    #[error(
        "{path} is encrypted: a password is needed (use --password-env VAR or run interactively)"
    )]
    PasswordRequired {
        /// The file.
        path: PathBuf,
    },
    /// A keyfile uses a legacy encryption this crate cannot read.
    #[error("{path} uses legacy {scheme} encryption, which is not supported: re-create it with `tensornet wallet regen-coldkey` from its mnemonic")]
    UnsupportedEncryption {
        /// The file.
        path: PathBuf,
        /// The scheme name.
        scheme: &'static str,
    },
    /// The keyfile holds only a public key, but a secret was needed.
    #[error("{path} holds no secret key (public key only): regenerate it from the mnemonic")]
    NoSecret {
        /// The file.
        path: PathBuf,
    },
    /// A file or wallet does not exist.
    #[error("{what} not found at {path}: create it with `tensornet wallet create` or pass the right --wallet-path/--wallet-name/--hotkey")]
    NotFound {
        /// What was looked for (e.g. "coldkey").
        what: String,
        /// Where.
        path: PathBuf,
    },
    /// A file exists and overwriting was not allowed.
    #[error("{path} already exists: pass --overwrite to replace it")]
    AlreadyExists {
        /// The file.
        path: PathBuf,
    },
    /// A wallet or hotkey name was not a plain file name.
    #[error("invalid name {0:?}: use letters, digits, '-', '_' or '.' (no path separators)")]
    InvalidName(String),
    /// A password was rejected (too short).
    #[error("password rejected: {0}")]
    WeakPassword(String),
    /// A password could not be obtained (e.g. the named environment variable is unset).
    #[error("no password: {0}")]
    PasswordUnavailable(String),
    /// An I/O error on a path.
    #[error("{path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
}

impl KeyError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        KeyError::Io {
            path: path.into(),
            source,
        }
    }
}
