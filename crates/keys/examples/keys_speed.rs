//! Measures the costs other crates plan around: sign, verify, batch verify, mnemonic derivation
//! and opening a `$NACL` keyfile (the 512 MiB Argon2i KDF).
//!
//! Run: `cargo run --release -p tensornet-keys --example keys_speed`

use std::time::Instant;
use tensornet_keys::{keyfile, verify, verify_batch, Keypair, DEV_PHRASE};

fn per_op(label: &str, n: u32, f: impl FnMut()) {
    let mut f = f;
    let t = Instant::now();
    for _ in 0..n {
        f();
    }
    let us = t.elapsed().as_secs_f64() * 1e6 / f64::from(n);
    println!("{label:<34} {us:>10.1} µs/op  ({:>9.0} op/s)", 1e6 / us);
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let kp = Keypair::from_uri("//Alice")?;
    let msg = b"1795684716579649647.5DfhGyQdFobKM8NsWvEeAKk5EQQgYe9AydgJ7rMB6E1EqRzV.5Hn9AmRa7CoVryZNJLLhpKxRxCAFQNzNLTEK8UgcmNmzSD1E.5c1ba220-e97a-11f1-b5dd-02fc00000001.92458924edc5f6c19fb90d1d8cec7ec179fd1a4dc293e2d97f8578f6f13ba970";
    let sig = kp.sign(msg);
    let acc = kp.account_id();
    per_op("sign (request-sized message)", 2000, || {
        std::hint::black_box(kp.sign(msg));
    });
    per_op("verify", 2000, || {
        assert!(verify(&acc, msg, &sig));
    });
    let items: Vec<_> = (0..64).map(|_| (acc, &msg[..], kp.sign(msg))).collect();
    per_op("verify_batch, batch of 64", 30, || {
        assert!(verify_batch(&items));
    });
    per_op("from_mnemonic (PBKDF2 2048 rounds)", 50, || {
        std::hint::black_box(Keypair::from_mnemonic(DEV_PHRASE).ok());
    });
    let t = Instant::now();
    let key = keyfile::derive_key("correct horse battery staple")?;
    println!(
        "$NACL key derivation (Argon2i 8 passes, 512 MiB): {:.2} s",
        t.elapsed().as_secs_f64()
    );
    std::hint::black_box(key);
    Ok(())
}
