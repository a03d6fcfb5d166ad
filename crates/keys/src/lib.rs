//! # tensornet-keys
//!
//! Keys and wallets, interchangeable with Bittensor's (spec: `../shared/spec/axon-protocol.md` §12,
//! signatures §6.3).
//!
//! This crate owns:
//! - sr25519 keypairs ([`Keypair`]) made from BIP39 mnemonics the Substrate way (PBKDF2 over the
//!   mnemonic's *entropy*, Ed25519-mode expansion), from 32-byte seeds, and from Substrate secret
//!   URIs with hard (`//Alice`) and soft (`/x`) derivation junctions;
//! - signing and verification with the signing context `substrate` ([`Keypair::sign`], [`verify`],
//!   [`verify_batch`]);
//! - SS58 addresses with prefix 42 ([`ss58_encode`], [`ss58_decode`]);
//! - keyfiles in the btcli JSON format, optionally encrypted as `$NACL` (Argon2i + XSalsa20-Poly1305)
//!   ([`keyfile`]);
//! - the btcli wallet folder layout `<root>/<wallet>/{coldkey,coldkeypub.txt,hotkeys/<name>,
//!   hotkeys/<name>pub.txt}` ([`Wallet`]).
//!
//! Invariants:
//! - Secret material (mini secrets, expanded secrets, mnemonics, passwords, decrypted keyfile text)
//!   is zeroized on drop and never appears in `Debug` output, errors or logs.
//! - SS58 decoding accepts only prefix 42 with a valid checksum and a 32-byte key.
//! - Files are written atomically (temporary file + rename) with mode 0600, folders with 0700; a
//!   failed operation (wrong password, corrupt file) changes nothing on disk.
//! - No function panics on untrusted input (addresses, phrases, URIs, keyfile bytes).

mod error;
pub mod keyfile;
mod keypair;
mod ss58;
pub mod wallet;

pub use error::KeyError;
pub use keypair::{
    generate_mnemonic, mini_secret_from_mnemonic, verify, verify_batch, Keypair, Signature,
    DEV_PHRASE, SIGNING_CONTEXT,
};
pub use ss58::{ss58_decode, ss58_encode, SS58_PREFIX};
pub use tensornet_primitives::AccountId;
pub use wallet::{PasswordSource, Wallet};

pub use zeroize::Zeroizing;
