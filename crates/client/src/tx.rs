//! Transaction building and signing: the runtime's [`SignedTransaction`] over its signing
//! payload (`TX_VERSION ‖ genesis_hash ‖ SCALE(nonce) ‖ SCALE(call)`), plus helpers that
//! build each [`Call`] from user-level inputs (TAO amounts, IP addresses).

use crate::error::ClientError;
use std::net::IpAddr;
use tensornet_keys::Keypair;
use tensornet_primitives::{AccountId, Hash32};
use tensornet_runtime::{commit_hash, Call, SignedTransaction};

/// Signs `call` for the chain identified by `genesis_hash` with the given nonce.
pub fn sign(keypair: &Keypair, genesis_hash: &Hash32, nonce: u64, call: Call) -> SignedTransaction {
    SignedTransaction::sign(keypair, genesis_hash, nonce, call)
}

/// An axon endpoint as the chain stores it (`ip` as u128, `ip_type` 4 or 6).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AxonEndpoint {
    /// Address.
    pub ip: IpAddr,
    /// Port (non-zero).
    pub port: u16,
}

impl AxonEndpoint {
    /// The chain's `(ip, ip_type)` encoding: IPv4 in the low 32 bits.
    pub fn encode_ip(&self) -> (u128, u8) {
        match self.ip {
            IpAddr::V4(v4) => (u128::from(u32::from(v4)), 4),
            IpAddr::V6(v6) => (u128::from(v6), 6),
        }
    }

    /// The `serve_axon` call for this endpoint.
    pub fn serve_call(&self, netuid: u16, protocol: u8, version: u32) -> Result<Call, ClientError> {
        if self.port == 0 {
            return Err(ClientError::InvalidInput(
                "axon port must be non-zero".into(),
            ));
        }
        let (ip, ip_type) = self.encode_ip();
        Ok(Call::ServeAxon {
            netuid,
            ip,
            port: self.port,
            ip_type,
            protocol,
            version,
        })
    }
}

/// Decodes the chain's `(ip, ip_type)` pair back into an address (`None` if malformed).
pub fn decode_ip(ip: u128, ip_type: u8) -> Option<IpAddr> {
    match ip_type {
        4 => u32::try_from(ip).ok().map(|v| IpAddr::V4(v.into())),
        6 => Some(IpAddr::V6(ip.into())),
        _ => None,
    }
}

/// Normalized `(uids, values)` for `set_weights` from `(uid, weight)` pairs with any
/// non-negative float weights: sorted by UID, max-upscaled so the largest is 65535, zero
/// weights dropped. Errors on duplicate UIDs, negative/non-finite weights, or all zeros.
pub fn weights_from_floats(pairs: &[(u16, f64)]) -> Result<(Vec<u16>, Vec<u16>), ClientError> {
    let mut v: Vec<(u16, f64)> = pairs.to_vec();
    v.sort_by_key(|p| p.0);
    if v.windows(2).any(|w| w[0].0 == w[1].0) {
        return Err(ClientError::InvalidInput(
            "duplicate uids in weights".into(),
        ));
    }
    if v.iter().any(|p| !p.1.is_finite() || p.1 < 0.0) {
        return Err(ClientError::InvalidInput(
            "weights must be finite and non-negative".into(),
        ));
    }
    let max = v.iter().map(|p| p.1).fold(0.0f64, f64::max);
    if max <= 0.0 {
        return Err(ClientError::InvalidInput(
            "at least one weight must be positive".into(),
        ));
    }
    let mut uids = Vec::with_capacity(v.len());
    let mut values = Vec::with_capacity(v.len());
    for (uid, w) in v {
        // Rounded scale to u16; `w / max` is in [0, 1] so the cast cannot overflow.
        let q = ((w / max) * 65535.0).round() as u16;
        if q > 0 {
            uids.push(uid);
            values.push(q);
        }
    }
    Ok((uids, values))
}

/// A weights commit prepared for `commit_weights`: the hash to publish now and the values
/// needed for the later `reveal_weights` (keep the salt).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PreparedCommit {
    /// Subnet.
    pub netuid: u16,
    /// Hotkey that will reveal.
    pub hotkey: AccountId,
    /// Target UIDs.
    pub uids: Vec<u16>,
    /// Weights.
    pub values: Vec<u16>,
    /// Salt.
    pub salt: Vec<u16>,
    /// Version key.
    pub version_key: u64,
    /// The commit hash.
    pub hash: Hash32,
}

impl PreparedCommit {
    /// Computes the commit hash for these weights and salt.
    pub fn new(
        netuid: u16,
        hotkey: AccountId,
        uids: Vec<u16>,
        values: Vec<u16>,
        salt: Vec<u16>,
        version_key: u64,
    ) -> PreparedCommit {
        let hash = commit_hash(&hotkey, netuid, &uids, &values, &salt, version_key);
        PreparedCommit {
            netuid,
            hotkey,
            uids,
            values,
            salt,
            version_key,
            hash,
        }
    }

    /// The `commit_weights` call.
    pub fn commit_call(&self) -> Call {
        Call::CommitWeights {
            netuid: self.netuid,
            hash: self.hash,
        }
    }

    /// The matching `reveal_weights` call.
    pub fn reveal_call(&self) -> Call {
        Call::RevealWeights {
            netuid: self.netuid,
            uids: self.uids.clone(),
            values: self.values.clone(),
            salt: self.salt.clone(),
            version_key: self.version_key,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn signed_transaction_verifies_only_on_its_chain() {
        let kp = Keypair::from_uri("//Alice").unwrap();
        let g = Hash32([7; 32]);
        let tx = sign(
            &kp,
            &g,
            3,
            Call::Transfer {
                dest: AccountId([1; 32]),
                amount: 5,
            },
        );
        assert_eq!(tx.signer, kp.account_id());
        assert_eq!(tx.nonce, 3);
        assert!(tx.verify(&g));
        assert!(!tx.verify(&Hash32([8; 32])));
    }

    #[test]
    fn ip_round_trip_and_port_check() {
        let e = AxonEndpoint {
            ip: "10.1.2.3".parse().unwrap(),
            port: 8091,
        };
        let (ip, t) = e.encode_ip();
        assert_eq!((ip, t), (0x0a01_0203, 4));
        assert_eq!(decode_ip(ip, t), Some(e.ip));
        let e6 = AxonEndpoint {
            ip: "::1".parse().unwrap(),
            port: 1,
        };
        let (ip6, t6) = e6.encode_ip();
        assert_eq!(decode_ip(ip6, t6), Some(e6.ip));
        assert_eq!(decode_ip(1 << 40, 4), None);
        assert_eq!(decode_ip(1, 5), None);
        let bad = AxonEndpoint { port: 0, ..e };
        assert!(bad.serve_call(1, 4, 0).is_err());
    }

    #[test]
    fn weights_are_max_upscaled_sorted_and_checked() {
        let (u, v) = weights_from_floats(&[(3, 0.5), (1, 1.0), (2, 0.0)]).unwrap();
        assert_eq!(u, vec![1, 3]);
        assert_eq!(v, vec![65535, 32768]);
        assert!(weights_from_floats(&[(1, 1.0), (1, 2.0)]).is_err());
        assert!(weights_from_floats(&[(1, -1.0)]).is_err());
        assert!(weights_from_floats(&[(1, f64::NAN)]).is_err());
        assert!(weights_from_floats(&[(1, 0.0)]).is_err());
        assert!(weights_from_floats(&[]).is_err());
    }

    #[test]
    fn commit_matches_reveal() {
        let hk = AccountId([9; 32]);
        let c = PreparedCommit::new(2, hk, vec![0, 1], vec![10, 20], vec![5, 6], 0);
        assert_eq!(c.hash, commit_hash(&hk, 2, &[0, 1], &[10, 20], &[5, 6], 0));
        assert!(matches!(
            c.commit_call(),
            Call::CommitWeights { netuid: 2, .. }
        ));
        assert!(matches!(
            c.reveal_call(),
            Call::RevealWeights { netuid: 2, .. }
        ));
    }

    proptest! {
        #[test]
        fn weights_never_panic_and_max_is_full(ws in proptest::collection::vec((0u16..50, 0.0f64..1e6), 0..40)) {
            if let Ok((u, v)) = weights_from_floats(&ws) {
                prop_assert_eq!(u.len(), v.len());
                prop_assert!(u.windows(2).all(|w| w[0] < w[1]));
                prop_assert_eq!(v.iter().copied().max(), Some(65535));
            }
        }
    }
}
