//! sr25519 keypairs from mnemonics, seeds and secret URIs; signing and verification
//! (spec §12.2, §6.3).

use crate::{ss58_encode, AccountId, KeyError};
use blake2::digest::consts::U32;
use blake2::{Blake2b, Digest};
use parity_scale_codec::Encode;
use schnorrkel::derive::Derivation;
use schnorrkel::{ExpansionMode, MiniSecretKey, PublicKey, SecretKey};
use std::fmt;
use zeroize::Zeroizing;

/// The signing context every Substrate/Bittensor sr25519 signature uses.
pub const SIGNING_CONTEXT: &[u8] = b"substrate";

/// The well-known Substrate development phrase; `//Alice` means `DEV_PHRASE//Alice`.
pub const DEV_PHRASE: &str =
    "bottom drive obey lake curtain smoke basket hold race lonely fit walk";

/// A 64-byte sr25519 signature.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Signature(pub [u8; 64]);

impl Signature {
    /// `0x`-prefixed lower-case hex (the wire form).
    pub fn to_hex(&self) -> String {
        format!("0x{}", hex::encode(self.0))
    }

    /// Parses 64 bytes of hex; the `0x` prefix is optional here (callers that must enforce the
    /// Python verifier's `0x` requirement check it themselves).
    pub fn from_hex(text: &str) -> Result<Signature, KeyError> {
        let bytes = tensornet_primitives::decode_hex(text)
            .map_err(|e| KeyError::InvalidSignature(e.to_string()))?;
        let arr: [u8; 64] = bytes
            .as_slice()
            .try_into()
            .map_err(|_| KeyError::InvalidSignature(format!("{} bytes", bytes.len())))?;
        Ok(Signature(arr))
    }
}

impl fmt::Debug for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Signature({})", self.to_hex())
    }
}

/// An sr25519 keypair. The secret is zeroized on drop and never shown by `Debug`.
///
/// Besides the expanded secret it remembers, when known, the 32-byte mini secret (`secretSeed`)
/// and the mnemonic (`secretPhrase`) it came from, so that keyfiles can be written in full.
#[derive(Clone)]
pub struct Keypair {
    secret: SecretKey,
    public: PublicKey,
    seed: Option<Zeroizing<[u8; 32]>>,
    phrase: Option<Zeroizing<String>>,
}

impl fmt::Debug for Keypair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Keypair")
            .field("ss58", &self.ss58())
            .field("secret", &"<redacted>")
            .finish()
    }
}

/// Parses an English BIP39 phrase (words separated by any whitespace, case-insensitive).
fn parse_mnemonic(phrase: &str) -> Result<bip39::Mnemonic, KeyError> {
    let lower = Zeroizing::new(phrase.trim().to_lowercase());
    bip39::Mnemonic::parse_in(bip39::Language::English, lower.as_str())
        .map_err(|e| KeyError::InvalidMnemonic(e.to_string()))
}

/// The Substrate mini secret of a mnemonic: PBKDF2-HMAC-SHA512 over the phrase's entropy with salt
/// `"mnemonic" + password`, 2048 rounds, first 32 bytes.
pub fn mini_secret_from_mnemonic(
    phrase: &str,
    password: &str,
) -> Result<Zeroizing<[u8; 32]>, KeyError> {
    let m = parse_mnemonic(phrase)?;
    let entropy = Zeroizing::new(m.to_entropy());
    let mini = substrate_bip39::mini_secret_from_entropy(&entropy, password)
        .map_err(|e| KeyError::InvalidMnemonic(format!("{e:?}")))?;
    Ok(Zeroizing::new(mini.to_bytes()))
}

/// Generates a fresh English BIP39 mnemonic of `words` words (12, 15, 18, 21 or 24) from the OS RNG.
pub fn generate_mnemonic(words: usize) -> Result<Zeroizing<String>, KeyError> {
    if !matches!(words, 12 | 15 | 18 | 21 | 24) {
        return Err(KeyError::InvalidWordCount(words));
    }
    let mut entropy = Zeroizing::new([0u8; 32]);
    let len = words / 3 * 4;
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut entropy[..len]);
    let m = bip39::Mnemonic::from_entropy(&entropy[..len])
        .map_err(|e| KeyError::InvalidMnemonic(e.to_string()))?;
    Ok(Zeroizing::new(m.to_string()))
}

/// The 32-byte chain code of a derivation junction (Substrate's `DeriveJunction`): a decimal that
/// fits in u64 is SCALE-encoded as u64, anything else as a SCALE string; encodings longer than 32
/// bytes are hashed with BLAKE2b-256, shorter ones zero-padded.
fn chain_code(junction: &str) -> [u8; 32] {
    let encoded = match junction.parse::<u64>() {
        Ok(n) => n.encode(),
        Err(_) => junction.encode(),
    };
    let mut cc = [0u8; 32];
    if encoded.len() > 32 {
        let h = Blake2b::<U32>::digest(&encoded);
        cc.copy_from_slice(&h);
    } else {
        cc[..encoded.len()].copy_from_slice(&encoded);
    }
    cc
}

enum Junction {
    Hard([u8; 32]),
    Soft([u8; 32]),
}

/// Splits the path part of a URI (`//a/b//c`) into junctions.
fn parse_path(path: &str) -> Result<Vec<Junction>, KeyError> {
    let mut out = Vec::new();
    let mut rest = path;
    while !rest.is_empty() {
        let (hard, tail) = if let Some(t) = rest.strip_prefix("//") {
            (true, t)
        } else if let Some(t) = rest.strip_prefix('/') {
            (false, t)
        } else {
            return Err(KeyError::InvalidUri("path must start with '/'".into()));
        };
        let end = tail.find('/').unwrap_or(tail.len());
        let code = &tail[..end];
        if code.is_empty() {
            return Err(KeyError::InvalidUri("empty derivation junction".into()));
        }
        let cc = chain_code(code);
        out.push(if hard {
            Junction::Hard(cc)
        } else {
            Junction::Soft(cc)
        });
        rest = &tail[end..];
    }
    Ok(out)
}

impl Keypair {
    fn from_secret(secret: SecretKey) -> Keypair {
        let public = secret.to_public();
        Keypair {
            secret,
            public,
            seed: None,
            phrase: None,
        }
    }

    /// The keypair of a 32-byte mini secret (`secretSeed`), expanded in Ed25519 mode.
    pub fn from_seed(mini_secret: &[u8; 32]) -> Keypair {
        // `from_bytes` only fails on a length other than 32, which the type rules out; the
        // fallback exists so that this function has no panic path.
        let secret = match MiniSecretKey::from_bytes(mini_secret) {
            Ok(m) => m.expand(ExpansionMode::Ed25519),
            Err(_) => SecretKey::generate(),
        };
        let mut kp = Keypair::from_secret(secret);
        kp.seed = Some(Zeroizing::new(*mini_secret));
        kp
    }

    /// The keypair of a BIP39 English mnemonic, Substrate style (no derivation path, no passphrase).
    pub fn from_mnemonic(phrase: &str) -> Result<Keypair, KeyError> {
        let m = parse_mnemonic(phrase)?;
        let seed = mini_secret_from_mnemonic(phrase, "")?;
        let mut kp = Keypair::from_seed(&seed);
        kp.phrase = Some(Zeroizing::new(m.to_string()));
        Ok(kp)
    }

    /// The keypair of a 64-byte sr25519 secret in schnorrkel's canonical encoding (`privateKey`).
    pub fn from_secret_key_bytes(bytes: &[u8]) -> Result<Keypair, KeyError> {
        let secret =
            SecretKey::from_bytes(bytes).map_err(|e| KeyError::InvalidSecretKey(e.to_string()))?;
        Ok(Keypair::from_secret(secret))
    }

    /// The keypair of a 32-byte seed given as hex (`0x` optional).
    pub fn from_seed_hex(text: &str) -> Result<Keypair, KeyError> {
        let bytes = Zeroizing::new(
            tensornet_primitives::decode_hex(text)
                .map_err(|_| KeyError::InvalidSeed("not hex".into()))?,
        );
        let arr: [u8; 32] = bytes
            .as_slice()
            .try_into()
            .map_err(|_| KeyError::InvalidSeed(format!("{} bytes", bytes.len())))?;
        let arr = Zeroizing::new(arr);
        Ok(Keypair::from_seed(&arr))
    }

    /// The keypair of a Substrate secret URI: `PHRASE_OR_SEED` followed by junctions `//hard` and
    /// `/soft`, optionally ending in `///password` (the BIP39 passphrase). An empty phrase means
    /// [`DEV_PHRASE`], so `//Alice` is the Substrate development account Alice. The phrase part may
    /// also be `0x` + 64 hex digits (a mini secret).
    pub fn from_uri(uri: &str) -> Result<Keypair, KeyError> {
        let uri = uri.trim();
        let (main, password) = match uri.find("///") {
            Some(i) => (&uri[..i], Some(&uri[i + 3..])),
            None => (uri, None),
        };
        let split = main.find('/').unwrap_or(main.len());
        let (phrase, path) = main.split_at(split);
        let junctions = parse_path(path)?;
        let base = if phrase.starts_with("0x") || phrase.starts_with("0X") {
            if password.is_some() {
                return Err(KeyError::InvalidUri(
                    "a ///password applies only to a mnemonic, not a hex seed".into(),
                ));
            }
            Keypair::from_seed_hex(phrase)?
        } else {
            let phrase = if phrase.trim().is_empty() {
                DEV_PHRASE
            } else {
                phrase
            };
            match password {
                None => Keypair::from_mnemonic(phrase)?,
                Some(pw) => {
                    let seed = mini_secret_from_mnemonic(phrase, pw)?;
                    Keypair::from_seed(&seed)
                }
            }
        };
        if junctions.is_empty() {
            return Ok(base);
        }
        let mut secret = base.secret.clone();
        let mut seed = base.seed.clone();
        for j in junctions {
            match j {
                Junction::Hard(cc) => {
                    let (mini, _) = secret
                        .hard_derive_mini_secret_key(Some(schnorrkel::derive::ChainCode(cc)), b"");
                    secret = mini.expand(ExpansionMode::Ed25519);
                    seed = seed.map(|_| Zeroizing::new(mini.to_bytes()));
                }
                Junction::Soft(cc) => {
                    secret = secret
                        .derived_key_simple(schnorrkel::derive::ChainCode(cc), [])
                        .0;
                    seed = None;
                }
            }
        }
        let mut kp = Keypair::from_secret(secret);
        kp.seed = seed;
        Ok(kp)
    }

    /// Generates a new keypair from a fresh mnemonic of `words` words.
    pub fn generate(words: usize) -> Result<Keypair, KeyError> {
        let phrase = generate_mnemonic(words)?;
        Keypair::from_mnemonic(&phrase)
    }

    /// The account id (the 32-byte public key).
    pub fn account_id(&self) -> AccountId {
        AccountId(self.public.to_bytes())
    }

    /// The SS58 address (prefix 42).
    pub fn ss58(&self) -> String {
        ss58_encode(&self.account_id())
    }

    /// Signs `message` as-is with the signing context `substrate` (randomized signature).
    pub fn sign(&self, message: &[u8]) -> Signature {
        let ctx = schnorrkel::signing_context(SIGNING_CONTEXT);
        Signature(
            self.secret
                .sign(ctx.bytes(message), &self.public)
                .to_bytes(),
        )
    }

    /// The 32-byte mini secret (`secretSeed`), when known. Secret: handle with care.
    pub fn secret_seed(&self) -> Option<Zeroizing<[u8; 32]>> {
        self.seed.clone()
    }

    /// The mnemonic (`secretPhrase`), when the key was made from one. Secret: handle with care.
    pub fn secret_phrase(&self) -> Option<Zeroizing<String>> {
        self.phrase.clone()
    }

    /// The 64-byte expanded secret in schnorrkel's canonical encoding (`privateKey`). Secret.
    pub fn secret_key_bytes(&self) -> Zeroizing<[u8; 64]> {
        Zeroizing::new(self.secret.to_bytes())
    }
}

/// Verifies an sr25519 signature over `message` (signing context `substrate`, message as-is).
/// Returns false for an invalid public key, a malformed signature or a wrong signature.
pub fn verify(signer: &AccountId, message: &[u8], signature: &Signature) -> bool {
    let Ok(pk) = PublicKey::from_bytes(signer.as_bytes()) else {
        return false;
    };
    let Ok(sig) = schnorrkel::Signature::from_bytes(&signature.0) else {
        return false;
    };
    pk.verify_simple(SIGNING_CONTEXT, message, &sig).is_ok()
}

/// Batch verification (schnorrkel's deterministic batch verifier); true iff every signature is
/// valid. An empty batch is valid.
pub fn verify_batch(items: &[(AccountId, &[u8], Signature)]) -> bool {
    if items.is_empty() {
        return true;
    }
    let mut pks = Vec::with_capacity(items.len());
    let mut sigs = Vec::with_capacity(items.len());
    for (acc, _, sig) in items {
        let Ok(pk) = PublicKey::from_bytes(acc.as_bytes()) else {
            return false;
        };
        let Ok(s) = schnorrkel::Signature::from_bytes(&sig.0) else {
            return false;
        };
        pks.push(pk);
        sigs.push(s);
    }
    let ctx = schnorrkel::signing_context(SIGNING_CONTEXT);
    let transcripts = items.iter().map(|(_, m, _)| ctx.bytes(m));
    schnorrkel::verify_batch_deterministic(transcripts, &sigs, &pks, false).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn spec_dev_phrase_vector() {
        let kp = Keypair::from_mnemonic(DEV_PHRASE).unwrap();
        assert_eq!(
            hex::encode(*kp.secret_seed().unwrap()),
            "fac7959dbfe72f052e5a0c3c8d6530f202b02fd8f9f5ca3580ec8deb7797479e"
        );
        assert_eq!(
            hex::encode(*kp.secret_key_bytes()),
            "05d65584630d16cd4af6d0bec10f34bb504a5dcb62dba2122d49f5a663763d0afd190cce74df356432b410bd64682309d6dedb27c76845daf388557cbac3ca34"
        );
        assert_eq!(
            kp.ss58(),
            "5DfhGyQdFobKM8NsWvEeAKk5EQQgYe9AydgJ7rMB6E1EqRzV"
        );
        // The same secret loads back from its 64-byte form.
        let again = Keypair::from_secret_key_bytes(&*kp.secret_key_bytes()).unwrap();
        assert_eq!(again.account_id(), kp.account_id());
    }

    #[test]
    fn debug_hides_secrets() {
        let kp = Keypair::from_mnemonic(DEV_PHRASE).unwrap();
        let d = format!("{kp:?}");
        assert!(d.contains("5DfhGy"));
        assert!(!d.contains("bottom"));
        assert!(!d.contains("fac7959d"));
        assert!(!d.contains("05d65584"));
    }

    #[test]
    fn uris() {
        let alice = Keypair::from_uri("//Alice").unwrap();
        assert_eq!(
            alice.ss58(),
            "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY"
        );
        let alice2 = Keypair::from_uri(&format!("{DEV_PHRASE}//Alice")).unwrap();
        assert_eq!(alice.account_id(), alice2.account_id());
        // Hard derivation keeps a seed; soft derivation drops it.
        assert!(alice.secret_seed().is_some());
        let soft = Keypair::from_uri("//Alice/1").unwrap();
        assert!(soft.secret_seed().is_none());
        assert_ne!(soft.account_id(), alice.account_id());
        // Seed-hex URI with no path equals from_seed.
        let s =
            Keypair::from_uri("0xfac7959dbfe72f052e5a0c3c8d6530f202b02fd8f9f5ca3580ec8deb7797479e")
                .unwrap();
        assert_eq!(s.ss58(), "5DfhGyQdFobKM8NsWvEeAKk5EQQgYe9AydgJ7rMB6E1EqRzV");
        // Seed + //Alice equals phrase + //Alice (hard derivation works from the secret).
        let s_alice = Keypair::from_uri(
            "0xfac7959dbfe72f052e5a0c3c8d6530f202b02fd8f9f5ca3580ec8deb7797479e//Alice",
        )
        .unwrap();
        assert_eq!(s_alice.account_id(), alice.account_id());
        // A passphrase changes the key.
        let pw = Keypair::from_uri("///secret").unwrap();
        assert_ne!(pw.account_id(), Keypair::from_uri("").unwrap().account_id());
        for bad in [
            "//",
            "//Alice//",
            "not a mnemonic//Alice",
            "0x12//Alice",
            "x/",
        ] {
            assert!(Keypair::from_uri(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn mnemonics() {
        for words in [12, 15, 18, 21, 24] {
            let m = generate_mnemonic(words).unwrap();
            assert_eq!(m.split_whitespace().count(), words);
            let kp = Keypair::from_mnemonic(&m).unwrap();
            assert_eq!(kp.secret_phrase().unwrap().as_str(), m.as_str());
        }
        assert!(matches!(
            generate_mnemonic(13),
            Err(KeyError::InvalidWordCount(13))
        ));
        // Bad checksum: last word changed.
        let bad = DEV_PHRASE.replace("walk", "wall");
        assert!(matches!(
            Keypair::from_mnemonic(&bad),
            Err(KeyError::InvalidMnemonic(_))
        ));
        // Whitespace and case are normalized.
        let messy = format!("  {}  ", DEV_PHRASE.to_uppercase().replace(' ', "   "));
        assert_eq!(
            Keypair::from_mnemonic(&messy).unwrap().ss58(),
            "5DfhGyQdFobKM8NsWvEeAKk5EQQgYe9AydgJ7rMB6E1EqRzV"
        );
    }

    #[test]
    fn batch() {
        let a = Keypair::from_uri("//Alice").unwrap();
        let b = Keypair::from_uri("//Bob").unwrap();
        let m1: &[u8] = b"one";
        let m2: &[u8] = b"two";
        let good = vec![
            (a.account_id(), m1, a.sign(m1)),
            (b.account_id(), m2, b.sign(m2)),
        ];
        assert!(verify_batch(&good));
        assert!(verify_batch(&[]));
        let mut bad = good.clone();
        bad[1].1 = m1;
        assert!(!verify_batch(&bad));
    }

    #[test]
    fn signature_hex() {
        let s = Signature([7; 64]);
        assert_eq!(Signature::from_hex(&s.to_hex()).unwrap(), s);
        assert!(Signature::from_hex("0x00").is_err());
        assert!(Signature::from_hex("zz").is_err());
    }

    fn fixed_key() -> Keypair {
        Keypair::from_seed(&[42; 32])
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn sign_verify_round_trip(msg in proptest::collection::vec(any::<u8>(), 0..200)) {
            let kp = fixed_key();
            let sig = kp.sign(&msg);
            prop_assert!(verify(&kp.account_id(), &msg, &sig));
        }

        #[test]
        fn bit_flips_fail(msg in proptest::collection::vec(any::<u8>(), 1..100), bit in 0usize..512, mbit in 0usize..800) {
            let kp = fixed_key();
            let sig = kp.sign(&msg);
            let mut s2 = sig;
            s2.0[bit / 8] ^= 1 << (bit % 8);
            prop_assert!(!verify(&kp.account_id(), &msg, &s2));
            let mut m2 = msg.clone();
            let mb = mbit % (m2.len() * 8);
            m2[mb / 8] ^= 1 << (mb % 8);
            prop_assert!(!verify(&kp.account_id(), &m2, &sig));
        }

        #[test]
        fn random_uris_never_panic(s in ".{0,60}") {
            let _ = Keypair::from_uri(&s);
        }
    }
}
