//! # tensornet-primitives
//!
//! The plain types every other crate speaks: 32-byte account ids (sr25519 public keys),
//! balances in rao (1 TAO = 10^9 rao), subnet and neuron ids, block numbers and 32-byte hashes.
//!
//! Invariants:
//! - This crate depends on nothing of tensornet and does no I/O.
//! - Amounts are integers in rao; there is no floating-point money anywhere. Conversions to and
//!   from a TAO string are exact ([`format_tao`], [`parse_tao`]).
//! - SS58 text encoding lives in `tensornet-keys`; here an account id is just 32 bytes.

use parity_scale_codec::{Decode, Encode};
use serde::{Deserialize, Serialize};
use std::fmt;

/// An amount in rao, the smallest unit (1 TAO = 10^9 rao).
pub type Balance = u64;
/// A block number.
pub type BlockNumber = u64;
/// A subnet id.
pub type NetUid = u16;
/// A neuron's position in a subnet.
pub type Uid = u16;

/// Rao in one TAO.
pub const RAO_PER_TAO: Balance = 1_000_000_000;

/// Errors of the helpers in this crate.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PrimitivesError {
    /// A hex string did not decode to the expected number of bytes.
    #[error("expected {expected} bytes of hex, got {got}")]
    HexLength {
        /// Bytes expected.
        expected: usize,
        /// Bytes found.
        got: usize,
    },
    /// A hex string had a character that is not a hex digit.
    #[error("invalid hex: {0}")]
    Hex(String),
    /// A TAO amount could not be parsed.
    #[error("invalid TAO amount {0:?}: expected e.g. 1.5 (at most 9 decimals)")]
    Amount(String),
}

/// Decodes hex text with or without a `0x` prefix; an empty string is the empty byte string.
pub fn decode_hex(text: &str) -> Result<Vec<u8>, PrimitivesError> {
    let t = text.trim();
    let t = t
        .strip_prefix("0x")
        .or_else(|| t.strip_prefix("0X"))
        .unwrap_or(t);
    hex::decode(t).map_err(|e| PrimitivesError::Hex(e.to_string()))
}

macro_rules! bytes32 {
    ($(#[$m:meta])* $name:ident) => {
        $(#[$m])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Encode, Decode)]
        pub struct $name(pub [u8; 32]);

        impl $name {
            /// The raw bytes.
            pub fn as_bytes(&self) -> &[u8; 32] {
                &self.0
            }
            /// `0x`-prefixed lowercase hex.
            pub fn to_hex(&self) -> String {
                format!("0x{}", hex::encode(self.0))
            }
            /// Parses 32 bytes of hex, with or without `0x`.
            pub fn from_hex(text: &str) -> Result<Self, PrimitivesError> {
                let v = decode_hex(text)?;
                let arr: [u8; 32] = v
                    .as_slice()
                    .try_into()
                    .map_err(|_| PrimitivesError::HexLength { expected: 32, got: v.len() })?;
                Ok(Self(arr))
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.to_hex())
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.to_hex())
            }
        }

        impl Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.to_hex())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                Self::from_hex(&s).map_err(serde::de::Error::custom)
            }
        }
    };
}

bytes32!(
    /// An account id: the 32-byte sr25519 public key of a coldkey or hotkey.
    AccountId
);
bytes32!(
    /// A 32-byte hash (BLAKE2b-256 unless stated otherwise).
    Hash32
);

/// Formats rao as TAO with all nine decimals trimmed of trailing zeros (`1.5`, `0.000000001`).
pub fn format_tao(rao: Balance) -> String {
    let whole = rao / RAO_PER_TAO;
    let frac = rao % RAO_PER_TAO;
    if frac == 0 {
        return whole.to_string();
    }
    let f = format!("{frac:09}");
    format!("{whole}.{}", f.trim_end_matches('0'))
}

/// Parses a TAO amount (`"1"`, `"0.5"`, `"1.000000001"`) into rao exactly.
pub fn parse_tao(text: &str) -> Result<Balance, PrimitivesError> {
    let err = || PrimitivesError::Amount(text.to_string());
    let t = text.trim();
    let (w, f) = match t.split_once('.') {
        Some((w, f)) => (w, f),
        None => (t, ""),
    };
    if (w.is_empty() && f.is_empty())
        || f.len() > 9
        || !w.chars().all(|c| c.is_ascii_digit())
        || !f.chars().all(|c| c.is_ascii_digit())
    {
        return Err(err());
    }
    let whole: u64 = if w.is_empty() {
        0
    } else {
        w.parse().map_err(|_| err())?
    };
    let frac: u64 = if f.is_empty() {
        0
    } else {
        format!("{f:0<9}").parse().map_err(|_| err())?
    };
    whole
        .checked_mul(RAO_PER_TAO)
        .and_then(|x| x.checked_add(frac))
        .ok_or_else(err)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn tao_formatting() {
        assert_eq!(format_tao(0), "0");
        assert_eq!(format_tao(1_500_000_000), "1.5");
        assert_eq!(format_tao(1), "0.000000001");
        assert_eq!(parse_tao("1.5"), Ok(1_500_000_000));
        assert_eq!(parse_tao(".5"), Ok(500_000_000));
        assert!(parse_tao("1.0000000001").is_err());
        assert!(parse_tao("-1").is_err());
        assert!(parse_tao("").is_err());
        assert!(parse_tao("99999999999999999999").is_err());
    }

    #[test]
    fn hex_round_trip() {
        let a = AccountId([7; 32]);
        assert_eq!(AccountId::from_hex(&a.to_hex()), Ok(a));
        assert_eq!(
            AccountId::from_hex("0x00"),
            Err(PrimitivesError::HexLength {
                expected: 32,
                got: 1
            })
        );
        assert_eq!(decode_hex(""), Ok(vec![]));
        assert_eq!(decode_hex("0xff"), Ok(vec![255]));
    }

    proptest! {
        #[test]
        fn tao_round_trip(rao in any::<u64>()) {
            prop_assert_eq!(parse_tao(&format_tao(rao)), Ok(rao));
        }
    }
}
