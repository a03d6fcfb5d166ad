//! SS58 addresses with the generic Substrate prefix 42 (spec §12.1).

use crate::{AccountId, KeyError};
use blake2::{Blake2b512, Digest};

/// The network prefix used by Bittensor and emitted by this crate.
pub const SS58_PREFIX: u8 = 42;

fn checksum(prefix_and_key: &[u8]) -> [u8; 2] {
    let mut h = Blake2b512::new();
    h.update(b"SS58PRE");
    h.update(prefix_and_key);
    let out = h.finalize();
    [out[0], out[1]]
}

/// Encodes an account id as an SS58 address with prefix 42 (48 characters, starting with `5`).
pub fn ss58_encode(account: &AccountId) -> String {
    let mut raw = Vec::with_capacity(35);
    raw.push(SS58_PREFIX);
    raw.extend_from_slice(account.as_bytes());
    let c = checksum(&raw);
    raw.extend_from_slice(&c);
    bs58::encode(raw).into_string()
}

/// Decodes an SS58 address, requiring prefix 42, a 32-byte key and a valid checksum.
pub fn ss58_decode(address: &str) -> Result<AccountId, KeyError> {
    let text = address.trim();
    let raw = bs58::decode(text)
        .into_vec()
        .map_err(|_| KeyError::Ss58Base58 {
            address: address.to_string(),
        })?;
    // Identify the prefix first so that a well-formed address of another network gets the clear
    // "wrong prefix" error rather than a length error.
    let (prefix, prefix_len) = match raw.first() {
        Some(&b) if b < 64 => (u16::from(b), 1),
        Some(&b) if b < 128 => {
            // Two-byte prefix encoding (Substrate's "full" format).
            let second = raw.get(1).copied().unwrap_or(0);
            let lower = (u16::from(b) << 2) | (u16::from(second) >> 6);
            let upper = u16::from(second & 0b0011_1111);
            (lower | (upper << 8), 2)
        }
        _ => {
            return Err(KeyError::Ss58Length {
                address: address.to_string(),
                got: raw.len(),
            })
        }
    };
    if raw.len() != prefix_len + 32 + 2 {
        return Err(KeyError::Ss58Length {
            address: address.to_string(),
            got: raw.len(),
        });
    }
    let body = &raw[..prefix_len + 32];
    if checksum(body) != raw[prefix_len + 32..] {
        return Err(KeyError::Ss58Checksum {
            address: address.to_string(),
        });
    }
    if prefix != u16::from(SS58_PREFIX) {
        return Err(KeyError::Ss58Prefix {
            address: address.to_string(),
            prefix,
        });
    }
    let mut key = [0u8; 32];
    key.copy_from_slice(&raw[1..33]);
    Ok(AccountId(key))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn spec_vector() {
        let a =
            AccountId::from_hex("46ebddef8cd9bb167dc30878d7113b7e168e6f0646beffd77d69d39bad76b47a")
                .unwrap();
        assert_eq!(
            ss58_encode(&a),
            "5DfhGyQdFobKM8NsWvEeAKk5EQQgYe9AydgJ7rMB6E1EqRzV"
        );
        assert_eq!(
            ss58_decode("5DfhGyQdFobKM8NsWvEeAKk5EQQgYe9AydgJ7rMB6E1EqRzV").unwrap(),
            a
        );
    }

    #[test]
    fn rejects_bad_addresses() {
        // Wrong checksum: change one character.
        let good = "5DfhGyQdFobKM8NsWvEeAKk5EQQgYe9AydgJ7rMB6E1EqRzV";
        let bad = good.replace("RzV", "RzW");
        assert!(matches!(
            ss58_decode(&bad),
            Err(KeyError::Ss58Checksum { .. })
        ));
        // Not base58 ('0', 'O', 'I', 'l' are excluded).
        assert!(matches!(
            ss58_decode("0OIl"),
            Err(KeyError::Ss58Base58 { .. })
        ));
        // Wrong length.
        assert!(matches!(
            ss58_decode("5DfhGy"),
            Err(KeyError::Ss58Length { .. })
        ));
        assert!(matches!(ss58_decode(""), Err(KeyError::Ss58Length { .. })));
        // Prefix 0 (Polkadot) address of the same key, with a valid checksum.
        let mut raw = vec![0u8];
        raw.extend_from_slice(&[0x46; 32]);
        let c = checksum(&raw);
        raw.extend_from_slice(&c);
        let dot = bs58::encode(raw).into_string();
        match ss58_decode(&dot) {
            Err(e @ KeyError::Ss58Prefix { prefix: 0, .. }) => {
                assert!(e.to_string().contains("expected 42"))
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    proptest! {
        #[test]
        fn round_trip(bytes in any::<[u8; 32]>()) {
            let a = AccountId(bytes);
            let s = ss58_encode(&a);
            prop_assert_eq!(s.len(), 48);
            prop_assert!(s.starts_with('5'));
            prop_assert_eq!(ss58_decode(&s).unwrap(), a);
        }

        #[test]
        fn random_strings_never_panic(s in ".{0,80}") {
            let _ = ss58_decode(&s);
        }

        #[test]
        fn random_base58_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..50)) {
            let s = bs58::encode(bytes).into_string();
            let _ = ss58_decode(&s);
        }
    }
}
