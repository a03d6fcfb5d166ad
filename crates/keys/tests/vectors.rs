//! Conformance vectors of `tests/vectors/keys/` (made with bittensor-wallet 4.1.1): mnemonic
//! derivation, dev URIs, signatures, the btcli-written interop wallet, and the `$NACL` keyfile
//! format checked both ways against an independent decoder built from the raw primitives.

use crypto_secretbox::aead::Aead;
use crypto_secretbox::{KeyInit, XSalsa20Poly1305};
use serde_json::Value;
use std::path::{Path, PathBuf};
use tensornet_keys::keyfile;
use tensornet_keys::{
    ss58_decode, ss58_encode, verify, AccountId, Keypair, PasswordSource, Signature, Wallet,
    Zeroizing,
};

fn vectors_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/vectors/keys")
}

fn vectors() -> Value {
    let text = std::fs::read_to_string(vectors_dir().join("keys.json")).expect("keys.json");
    serde_json::from_str(&text).expect("keys.json is JSON")
}

fn s<'a>(v: &'a Value, k: &str) -> &'a str {
    v[k].as_str().unwrap_or_else(|| panic!("field {k} missing"))
}

#[test]
fn mnemonic_keys() {
    let v = vectors();
    assert_eq!(v["ss58_format"], 42);
    let keys = v["keys"].as_array().expect("keys");
    assert_eq!(keys.len(), 3);
    for k in keys {
        let sr = &k["sr25519"];
        let kp = Keypair::from_mnemonic(s(k, "mnemonic")).expect("mnemonic");
        assert_eq!(
            hex::encode(*kp.secret_seed().expect("seed")),
            s(sr, "mini_secret_hex")
        );
        assert_eq!(hex::encode(*kp.secret_key_bytes()), s(sr, "secret_key_hex"));
        assert_eq!(hex::encode(kp.account_id().0), s(sr, "public_key_hex"));
        assert_eq!(kp.ss58(), s(sr, "ss58"));
        let pk = AccountId::from_hex(s(sr, "public_key_hex")).expect("hex");
        assert_eq!(ss58_encode(&pk), s(sr, "ss58"));
        assert_eq!(ss58_decode(s(sr, "ss58")).expect("ss58"), pk);
        // Every other way of loading the same secret gives the same key.
        let from_seed = Keypair::from_seed_hex(s(sr, "mini_secret_hex")).expect("seed hex");
        assert_eq!(from_seed.account_id(), pk);
        let from_sk =
            Keypair::from_secret_key_bytes(&hex::decode(s(sr, "secret_key_hex")).expect("hex"))
                .expect("secret key");
        assert_eq!(from_sk.account_id(), pk);
        assert_eq!(
            Keypair::from_uri(s(k, "mnemonic"))
                .expect("uri")
                .account_id(),
            pk
        );
        // Our signatures verify under the vector's public key.
        let sig = kp.sign(b"tensornet");
        assert!(verify(&pk, b"tensornet", &sig));
    }
}

#[test]
fn dev_uris() {
    let v = vectors();
    let uris = v["uri_keys"].as_array().expect("uri_keys");
    assert_eq!(uris.len(), 2);
    for u in uris {
        let kp = Keypair::from_uri(s(u, "uri")).expect("uri");
        assert_eq!(hex::encode(kp.account_id().0), s(u, "public_key_hex"));
        assert_eq!(kp.ss58(), s(u, "ss58"));
    }
}

#[test]
fn signatures() {
    let v = vectors();
    let sigs = v["signatures"].as_array().expect("signatures");
    assert_eq!(sigs.len(), 16);
    let (mut valid, mut invalid) = (0, 0);
    for item in sigs {
        let pk = AccountId::from_hex(s(item, "public_key_hex")).expect("pk");
        assert_eq!(ss58_decode(s(item, "ss58")).expect("ss58"), pk);
        let msg = hex::decode(s(item, "message_hex")).expect("msg");
        let sig = Signature::from_hex(s(item, "signature_hex")).expect("sig");
        let expected = item["expected_valid"].as_bool().expect("bool");
        assert_eq!(
            verify(&pk, &msg, &sig),
            expected,
            "{}",
            s(item, "message_label")
        );
        assert_eq!(
            tensornet_keys::verify_batch(&[(pk, &msg, sig)]),
            expected,
            "batch {}",
            s(item, "message_label")
        );
        if expected {
            valid += 1
        } else {
            invalid += 1
        }
    }
    assert_eq!((valid, invalid), (12, 4));
}

#[test]
fn interop_wallet_public_parts_and_hotkeys() {
    let v = vectors();
    let root = vectors_dir().join("wallets");
    assert_eq!(
        Wallet::list(&root).expect("list"),
        vec!["interop".to_string()]
    );
    let w = Wallet::open(&root, "interop").expect("open");
    let fixed = &v["keys"][0]["sr25519"];
    assert_eq!(
        ss58_encode(&w.coldkeypub().expect("coldkeypub")),
        s(fixed, "ss58")
    );
    assert!(w.coldkey_is_encrypted().expect("coldkey"));
    assert!(matches!(
        w.coldkey(&PasswordSource::None),
        Err(tensornet_keys::KeyError::PasswordRequired { .. })
    ));
    assert_eq!(
        w.hotkeys().expect("hotkeys"),
        vec!["axon".to_string(), "dendrite".to_string()]
    );
    for (name, idx) in [("dendrite", 1), ("axon", 2)] {
        let want = s(&v["keys"][idx]["sr25519"], "ss58");
        let hk = w.hotkey(name).expect("hotkey");
        assert_eq!(hk.ss58(), want);
        assert_eq!(
            hk.secret_phrase().expect("phrase").as_str(),
            s(&v["keys"][idx], "mnemonic")
        );
        assert_eq!(ss58_encode(&w.hotkeypub(name).expect("pub")), want);
    }
}

/// An independent `$NACL` decoder: split the bytes by the spec's layout and open the box with
/// the raw Argon2i and XSalsa20-Poly1305 primitives (combined MAC‖ciphertext form).
fn independent_key(password: &str) -> Zeroizing<[u8; 32]> {
    let params = argon2::Params::new(512 * 1024, 8, 1, Some(32)).expect("params");
    let a = argon2::Argon2::new(argon2::Algorithm::Argon2i, argon2::Version::V0x13, params);
    let salt = hex::decode("137183dff15a09bc9c90b5518739e9b1").expect("salt");
    let mut key = Zeroizing::new([0u8; 32]);
    a.hash_password_into(password.as_bytes(), &salt, key.as_mut_slice())
        .expect("argon2");
    key
}

fn independent_open(file: &[u8], key: &[u8; 32]) -> Option<Vec<u8>> {
    if file.len() < 5 + 24 + 16 || &file[..5] != b"$NACL" {
        return None;
    }
    let nonce = &file[5..29];
    let mac_and_ct = &file[29..];
    XSalsa20Poly1305::new(key.into())
        .decrypt(nonce.into(), mac_and_ct)
        .ok()
}

/// The only test that runs the real 512 MiB KDF in this file (three times, sequentially).
#[test]
fn encrypted_keyfile_both_ways() {
    let v = vectors();
    let enc = &v["encrypted_keyfile"];
    let password = s(enc, "password");
    let want = s(enc, "decrypts_to_ss58");
    let sample_path = vectors_dir().join(s(enc, "path"));
    let sample = std::fs::read(&sample_path).expect("sample coldkey");

    // 1. The independent decoder opens the btcli-written sample (validates the decoder itself).
    let key = independent_key(password);
    let plain = independent_open(&sample, &key).expect("independent decrypt of sample");
    let json: Value = serde_json::from_slice(&plain).expect("json");
    assert_eq!(json["ss58Address"], want);
    assert_eq!(json["cryptoType"], 1);

    // 2. This crate opens the sample with the password.
    let root = vectors_dir().join("wallets");
    let w = Wallet::open(&root, "interop").expect("open");
    let t = std::time::Instant::now();
    let ck = w
        .coldkey(&PasswordSource::Text(Zeroizing::new(password.to_string())))
        .expect("coldkey opens");
    eprintln!("opening the $NACL coldkey took {:?}", t.elapsed());
    assert_eq!(ck.ss58(), want);

    // 3. A keyfile this crate encrypts (real KDF) opens with the independent decoder, and has the
    //    spec's byte layout: "$NACL" ‖ 24-byte nonce ‖ 16-byte MAC ‖ ciphertext (overhead 45).
    let ours_plain = keyfile::keyfile_json(&ck);
    let ours = keyfile::encrypt(ours_plain.as_bytes(), password).expect("encrypt");
    assert_eq!(&ours[..5], b"$NACL");
    assert_eq!(ours.len(), ours_plain.len() + 45);
    assert_ne!(&ours[5..29], &sample[5..29], "nonces must be random");
    let opened = independent_open(&ours, &key).expect("independent decrypt of ours");
    let json: Value = serde_json::from_slice(&opened).expect("json");
    for field in [
        "secretPhrase",
        "secretSeed",
        "privateKey",
        "publicKey",
        "accountId",
    ] {
        assert!(json[field].is_string(), "{field}");
    }
    assert_eq!(json["ss58Address"], want);
    assert_eq!(json["cryptoType"], 1);
    assert_eq!(
        json["secretPhrase"], v["keys"][0]["mnemonic"],
        "the phrase survives the round trip"
    );
    // A wrong key (as from a wrong password) is refused by both decoders without touching files.
    let mut wrong = *key;
    wrong[0] ^= 1;
    assert!(independent_open(&ours, &wrong).is_none());
    assert!(matches!(
        keyfile::decrypt_with_key(&ours, &wrong, Path::new("ours")),
        Err(tensornet_keys::KeyError::WrongPassword { .. })
    ));
}
