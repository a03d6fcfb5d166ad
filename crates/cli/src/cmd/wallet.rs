//! `tensornet wallet …`: create, regenerate, list, inspect, sign and verify with btcli-compatible
//! wallets, plus the wallet flags ([`WalletArgs`]) shared by every command.
//!
//! Output follows `cli-conventions.md`: `--json` prints exactly one JSON document on stdout,
//! prompts and warnings go to stderr, exit 0 on success, 1 on a negative answer (an invalid
//! signature) or a failed operation, 2 on bad usage (malformed address, hex or signature).
//! Secrets are printed only when a key is created (its mnemonic, the only backup) or when
//! `inspect --show-secret` asks for them.

use anyhow::Context;
use serde_json::{json, Value};
use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use tensornet_keys::keyfile::check_password_policy;
use tensornet_keys::{
    ss58_decode, verify, AccountId, KeyError, Keypair, PasswordSource, Signature, Wallet, Zeroizing,
};

/// The wallet flags every command uses (`cli-conventions.md`): flatten this into a command's
/// arguments with `#[command(flatten)] wallet: WalletArgs`.
#[derive(clap::Args, Debug, Clone)]
pub struct WalletArgs {
    /// Folder holding the wallets (btcli wallets work as is: `--wallet-path ~/.bittensor/wallets`).
    #[arg(
        long = "wallet-path",
        alias = "wallet.path",
        value_name = "DIR",
        default_value = "~/.tensornet/wallets"
    )]
    pub wallet_path: PathBuf,
    /// Wallet name (a folder under the wallet path).
    #[arg(
        long = "wallet-name",
        visible_alias = "name",
        alias = "wallet.name",
        value_name = "NAME",
        default_value = "default"
    )]
    pub wallet_name: String,
    /// Hotkey name (a file under `<wallet>/hotkeys/`).
    #[arg(
        long = "hotkey",
        alias = "wallet.hotkey",
        alias = "wallet-hotkey",
        value_name = "NAME",
        default_value = "default"
    )]
    pub hotkey: String,
}

impl WalletArgs {
    /// The selected wallet (not required to exist yet).
    pub fn wallet(&self) -> anyhow::Result<Wallet> {
        Ok(Wallet::open(&self.wallet_path, &self.wallet_name)?)
    }

    /// Opens the selected (plaintext) hotkey; works on a wallet that holds only that hotkey.
    /// Warns on stderr about loose file permissions.
    pub fn hotkey_keypair(&self) -> anyhow::Result<Keypair> {
        let w = self.wallet()?;
        warn_permissions(&w);
        Ok(w.hotkey(&self.hotkey)?)
    }
}

/// Where secrets come from: `--password-env VAR`, btcli's `BT_PW_<KEYFILE_PATH>` variable (to
/// open a key), or an interactive prompt (unless `--no-prompt`).
#[derive(clap::Args, Debug, Clone)]
pub struct PasswordArgs {
    /// Read the coldkey password from this environment variable instead of prompting.
    #[arg(long = "password-env", value_name = "VAR")]
    pub password_env: Option<String>,
    /// Never prompt: fail if a password or a confirmation would be needed.
    #[arg(long = "no-prompt")]
    pub no_prompt: bool,
}

/// Options of the commands that write keys.
#[derive(clap::Args, Debug, Clone)]
pub struct WriteArgs {
    /// Replace existing key files without asking.
    #[arg(long)]
    pub overwrite: bool,
    /// Print one JSON document.
    #[arg(long)]
    pub json: bool,
}

/// Where a regenerated key comes from.
#[derive(clap::Args, Debug, Clone)]
#[group(required = true, multiple = false)]
pub struct SourceArgs {
    /// The BIP39 mnemonic (12–24 English words, quoted).
    #[arg(long, value_name = "WORDS")]
    pub mnemonic: Option<String>,
    /// The 32-byte seed (`secretSeed`) as hex.
    #[arg(long, value_name = "0xHEX")]
    pub seed: Option<String>,
    /// A Substrate secret URI (e.g. `//Alice`, `<mnemonic>//hard/path`); for dev setups.
    #[arg(long, value_name = "URI")]
    pub uri: Option<String>,
}

impl SourceArgs {
    fn keypair(&self) -> Result<Keypair, KeyError> {
        if let Some(m) = &self.mnemonic {
            Keypair::from_mnemonic(m)
        } else if let Some(s) = &self.seed {
            Keypair::from_seed_hex(s)
        } else if let Some(u) = &self.uri {
            Keypair::from_uri(u)
        } else {
            Err(KeyError::InvalidUri(
                "give --mnemonic, --seed or --uri".into(),
            ))
        }
    }
}

/// The message to sign or verify.
#[derive(clap::Args, Debug, Clone)]
#[group(required = true, multiple = false)]
pub struct MessageArgs {
    /// The message as text (its UTF-8 bytes are signed as-is).
    #[arg(long, value_name = "TEXT")]
    pub message: Option<String>,
    /// The message as hex bytes (`0x` optional; empty is the empty message).
    #[arg(long = "message-hex", value_name = "HEX")]
    pub message_hex: Option<String>,
}

impl MessageArgs {
    fn bytes(&self) -> Result<Vec<u8>, String> {
        match (&self.message, &self.message_hex) {
            (Some(t), _) => Ok(t.as_bytes().to_vec()),
            (None, Some(h)) => {
                tensornet_primitives::decode_hex(h).map_err(|e| format!("--message-hex: {e}"))
            }
            (None, None) => Err("give --message or --message-hex".into()),
        }
    }
}

/// Arguments of `tensornet wallet`.
#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Subcommand, Debug)]
enum Command {
    /// Create a wallet: a new coldkey and a new hotkey.
    Create {
        #[command(flatten)]
        wallet: WalletArgs,
        #[command(flatten)]
        password: PasswordArgs,
        #[command(flatten)]
        write: WriteArgs,
        /// Number of mnemonic words (12, 15, 18, 21 or 24).
        #[arg(long = "n-words", alias = "words", default_value_t = 12)]
        n_words: usize,
        /// Write the coldkey unencrypted (dev and test setups only).
        #[arg(long = "no-password", conflicts_with = "password_env")]
        no_password: bool,
    },
    /// Create a new coldkey in a wallet.
    NewColdkey {
        #[command(flatten)]
        wallet: WalletArgs,
        #[command(flatten)]
        password: PasswordArgs,
        #[command(flatten)]
        write: WriteArgs,
        /// Number of mnemonic words (12, 15, 18, 21 or 24).
        #[arg(long = "n-words", alias = "words", default_value_t = 12)]
        n_words: usize,
        /// Write the coldkey unencrypted (dev and test setups only).
        #[arg(long = "no-password", conflicts_with = "password_env")]
        no_password: bool,
    },
    /// Create a new hotkey in a wallet (unencrypted, as btcli does by default).
    NewHotkey {
        #[command(flatten)]
        wallet: WalletArgs,
        #[command(flatten)]
        password: PasswordArgs,
        #[command(flatten)]
        write: WriteArgs,
        /// Number of mnemonic words (12, 15, 18, 21 or 24).
        #[arg(long = "n-words", alias = "words", default_value_t = 12)]
        n_words: usize,
        /// Encrypt the hotkey with a password.
        #[arg(long = "use-password")]
        use_password: bool,
    },
    /// Recreate a coldkey from its mnemonic or seed.
    RegenColdkey {
        #[command(flatten)]
        wallet: WalletArgs,
        #[command(flatten)]
        source: SourceArgs,
        #[command(flatten)]
        password: PasswordArgs,
        #[command(flatten)]
        write: WriteArgs,
        /// Write the coldkey unencrypted (dev and test setups only).
        #[arg(long = "no-password", conflicts_with = "password_env")]
        no_password: bool,
    },
    /// Recreate a hotkey from its mnemonic or seed (the wallet needs no coldkey).
    RegenHotkey {
        #[command(flatten)]
        wallet: WalletArgs,
        #[command(flatten)]
        source: SourceArgs,
        #[command(flatten)]
        password: PasswordArgs,
        #[command(flatten)]
        write: WriteArgs,
        /// Encrypt the hotkey with a password.
        #[arg(long = "use-password")]
        use_password: bool,
    },
    /// Write coldkeypub.txt from an address (a watch-only wallet).
    RegenColdkeypub {
        #[command(flatten)]
        wallet: WalletArgs,
        /// The coldkey's SS58 address.
        #[arg(long, value_name = "ADDRESS", required_unless_present = "public_key")]
        ss58: Option<String>,
        /// The coldkey's public key as hex.
        #[arg(long = "public-key", value_name = "0xHEX", conflicts_with = "ss58")]
        public_key: Option<String>,
        #[command(flatten)]
        write: WriteArgs,
    },
    /// List the wallets and their hotkeys as a tree.
    List {
        /// Folder holding the wallets.
        #[arg(
            long = "wallet-path",
            alias = "wallet.path",
            value_name = "DIR",
            default_value = "~/.tensornet/wallets"
        )]
        wallet_path: PathBuf,
        /// Print one JSON document.
        #[arg(long)]
        json: bool,
    },
    /// Show a wallet's addresses and public keys (secrets only with --show-secret), or those of a
    /// key given by --mnemonic/--seed/--uri without touching any wallet.
    Inspect {
        #[command(flatten)]
        wallet: WalletArgs,
        #[command(flatten)]
        password: PasswordArgs,
        /// Also show mnemonics, seeds and private keys (needs the coldkey password).
        #[arg(long = "show-secret")]
        show_secret: bool,
        /// Inspect this mnemonic instead of a wallet.
        #[arg(long, value_name = "WORDS", conflicts_with_all = ["seed", "uri"])]
        mnemonic: Option<String>,
        /// Inspect this seed instead of a wallet.
        #[arg(long, value_name = "0xHEX", conflicts_with = "uri")]
        seed: Option<String>,
        /// Inspect this secret URI instead of a wallet.
        #[arg(long, value_name = "URI")]
        uri: Option<String>,
        /// Print one JSON document.
        #[arg(long)]
        json: bool,
    },
    /// Sign a message with a hotkey (default) or the coldkey; prints the 0x signature.
    Sign {
        #[command(flatten)]
        wallet: WalletArgs,
        /// Sign with the coldkey instead of the hotkey.
        #[arg(long = "use-coldkey")]
        use_coldkey: bool,
        #[command(flatten)]
        message: MessageArgs,
        #[command(flatten)]
        password: PasswordArgs,
        /// Print one JSON document.
        #[arg(long)]
        json: bool,
    },
    /// Free, staked and total TAO of the coldkey (needs a node).
    Balance(super::wallet_chain::BalanceArgs),
    /// Send TAO from the coldkey (needs a node).
    Transfer(super::wallet_chain::TransferArgs),
    /// The coldkey's balance and each hotkey's registrations, stake and emission (needs a node).
    Overview(super::wallet_chain::OverviewArgs),
    /// Verify a signature: exit 0 if valid, 1 if not.
    Verify {
        /// The signer's SS58 address.
        #[arg(long, value_name = "ADDRESS")]
        ss58: String,
        #[command(flatten)]
        message: MessageArgs,
        /// The signature, `0x` + 128 hex digits.
        #[arg(long, value_name = "0xHEX")]
        signature: String,
        /// Print one JSON document.
        #[arg(long)]
        json: bool,
    },
}

/// Runs the command.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    match args.command {
        Command::Balance(a) => super::wallet_chain::balance(a),
        Command::Transfer(a) => super::wallet_chain::transfer(a),
        Command::Overview(a) => super::wallet_chain::overview(a),
        Command::Create {
            wallet,
            password,
            write,
            n_words,
            no_password,
        } => create(&wallet, &password, &write, n_words, no_password, true),
        Command::NewColdkey {
            wallet,
            password,
            write,
            n_words,
            no_password,
        } => create(&wallet, &password, &write, n_words, no_password, false),
        Command::NewHotkey {
            wallet,
            password,
            write,
            n_words,
            use_password,
        } => {
            let phrase = tensornet_keys::generate_mnemonic(n_words)?;
            let kp = Keypair::from_mnemonic(&phrase)?;
            write_hotkey(&wallet, &password, &write, &kp, use_password, true)
        }
        Command::RegenColdkey {
            wallet,
            source,
            password,
            write,
            no_password,
        } => {
            let kp = source.keypair()?;
            let w = wallet.wallet()?;
            confirm_overwrite(&[w.coldkey_path()], &write, &password)?;
            let pw = new_password(&password, no_password, "coldkey")?;
            w.write_coldkey(&kp, pw.as_deref().map(|s| s.as_str()), true)?;
            report_written(&write, "coldkey", &w.coldkey_path(), &kp, false)
        }
        Command::RegenHotkey {
            wallet,
            source,
            password,
            write,
            use_password,
        } => {
            let kp = source.keypair()?;
            write_hotkey(&wallet, &password, &write, &kp, use_password, false)
        }
        Command::RegenColdkeypub {
            wallet,
            ss58,
            public_key,
            write,
        } => {
            let account = match (&ss58, &public_key) {
                (Some(a), _) => match ss58_decode(a) {
                    Ok(acc) => acc,
                    Err(e) => return usage(&format!("--ss58: {e}")),
                },
                (None, Some(h)) => match AccountId::from_hex(h) {
                    Ok(acc) => acc,
                    Err(e) => return usage(&format!("--public-key: {e}")),
                },
                (None, None) => return usage("give --ss58 or --public-key"),
            };
            let w = wallet.wallet()?;
            let path = w.coldkeypub_path();
            let same = w.coldkeypub().ok() == Some(account);
            if !same {
                confirm_overwrite(
                    std::slice::from_ref(&path),
                    &write,
                    &PasswordArgs::default_no_env(),
                )?;
            }
            w.write_coldkeypub(&account, true)?;
            print_doc(
                write.json,
                &json!({"written": path, "ss58": tensornet_keys::ss58_encode(&account), "public_key": account.to_hex()}),
                &format!(
                    "wrote {}\n  ss58        {}\n  public key  {}",
                    path.display(),
                    tensornet_keys::ss58_encode(&account),
                    account.to_hex()
                ),
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::List { wallet_path, json } => list(&wallet_path, json),
        Command::Inspect {
            wallet,
            password,
            show_secret,
            mnemonic,
            seed,
            uri,
            json,
        } => {
            let direct = if let Some(m) = &mnemonic {
                Some(Keypair::from_mnemonic(m)?)
            } else if let Some(s) = &seed {
                Some(Keypair::from_seed_hex(s)?)
            } else if let Some(u) = &uri {
                Some(Keypair::from_uri(u)?)
            } else {
                None
            };
            match direct {
                Some(kp) => inspect_key(&kp, show_secret, json),
                None => inspect_wallet(&wallet, &password, show_secret, json),
            }
        }
        Command::Sign {
            wallet,
            use_coldkey,
            message,
            password,
            json,
        } => {
            let msg = match message.bytes() {
                Ok(m) => m,
                Err(e) => return usage(&e),
            };
            let w = wallet.wallet()?;
            warn_permissions(&w);
            let kp = if use_coldkey {
                open_coldkey(&w, &password)?
            } else {
                let path = w.hotkey_path(&wallet.hotkey)?;
                let src = password_source(&password, &path)?;
                w.hotkey_with(&wallet.hotkey, &src)?
            };
            let sig = kp.sign(&msg);
            print_doc(
                json,
                &json!({"signature": sig.to_hex(), "ss58": kp.ss58(), "public_key": kp.account_id().to_hex()}),
                &sig.to_hex(),
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Verify {
            ss58,
            message,
            signature,
            json,
        } => {
            let account = match ss58_decode(&ss58) {
                Ok(a) => a,
                Err(e) => return usage(&format!("--ss58: {e}")),
            };
            let msg = match message.bytes() {
                Ok(m) => m,
                Err(e) => return usage(&e),
            };
            if !signature.trim().starts_with("0x") {
                return usage("--signature must start with 0x (0x + 128 hex digits)");
            }
            let sig = match Signature::from_hex(&signature) {
                Ok(s) => s,
                Err(e) => return usage(&format!("--signature: {e}")),
            };
            // Like the Python keypair, also accept the polkadot-js `<Bytes>…</Bytes>` wrapping.
            let raw = verify(&account, &msg, &sig);
            let wrapped = !raw && {
                let mut w = b"<Bytes>".to_vec();
                w.extend_from_slice(&msg);
                w.extend_from_slice(b"</Bytes>");
                verify(&account, &w, &sig)
            };
            let valid = raw || wrapped;
            print_doc(
                json,
                &json!({"valid": valid, "ss58": ss58_decode(&ss58).map(|a| tensornet_keys::ss58_encode(&a)).unwrap_or_default(), "wrapped": wrapped}),
                if valid { "valid" } else { "invalid" },
            );
            Ok(if valid {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
    }
}

impl PasswordArgs {
    fn default_no_env() -> PasswordArgs {
        PasswordArgs {
            password_env: None,
            no_prompt: false,
        }
    }
}

/// Prints a usage error and returns exit code 2.
fn usage(msg: &str) -> anyhow::Result<ExitCode> {
    eprintln!("error: {msg}");
    Ok(ExitCode::from(2))
}

/// Prints `doc` (with `--json`) or `text` on stdout.
/// A closed pipe (`… | head`) is not an error: the write is dropped quietly.
fn print_doc(json: bool, doc: &Value, text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = if json {
        writeln!(out, "{doc}")
    } else {
        writeln!(out, "{text}")
    };
}

/// Warns on stderr about wallet files readable by others (not an error: btcli uses 0755 folders).
fn warn_permissions(w: &Wallet) {
    let loose = w.loose_permissions();
    if let Some(first) = loose.first() {
        eprintln!(
            "warning: {} wallet file(s)/folder(s) are accessible by other users (e.g. {}); consider `chmod -R go-rwx {}`",
            loose.len(),
            first.display(),
            w.path().display()
        );
    }
}

fn interactive(password: &PasswordArgs) -> bool {
    !password.no_prompt && std::io::stdin().is_terminal()
}

/// Asks before replacing existing files; refuses without a terminal (use `--overwrite`).
fn confirm_overwrite(
    paths: &[PathBuf],
    write: &WriteArgs,
    password: &PasswordArgs,
) -> anyhow::Result<()> {
    let existing: Vec<&PathBuf> = paths.iter().filter(|p| p.exists()).collect();
    if existing.is_empty() || write.overwrite {
        return Ok(());
    }
    let list = existing
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ");
    if !interactive(password) {
        anyhow::bail!("{list} already exists: pass --overwrite to replace it");
    }
    eprint!("{list} already exists. Overwrite? [y/N] ");
    std::io::stderr().flush().ok();
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("reading the answer")?;
    if matches!(line.trim(), "y" | "Y" | "yes" | "YES" | "Yes") {
        Ok(())
    } else {
        anyhow::bail!("not overwritten: nothing was changed")
    }
}

fn prompt(text: &str) -> anyhow::Result<Zeroizing<String>> {
    rpassword::prompt_password(text)
        .map(Zeroizing::new)
        .context(
            "reading the password from the terminal (use --password-env VAR when there is none)",
        )
}

/// The password for a new encrypted key: `--password-env`, or a prompt entered twice; `None`
/// with `--no-password`.
fn new_password(
    password: &PasswordArgs,
    no_password: bool,
    what: &str,
) -> anyhow::Result<Option<Zeroizing<String>>> {
    if no_password {
        eprintln!(
            "warning: writing an UNENCRYPTED {what} (--no-password): for dev and test setups only"
        );
        return Ok(None);
    }
    let pw = if let Some(var) = &password.password_env {
        PasswordSource::Env(var.clone()).get(Path::new(what))?
    } else if password.no_prompt {
        anyhow::bail!(
            "a password is needed to encrypt the {what}: pass --password-env VAR (or --no-password for an unencrypted dev key)"
        );
    } else {
        let a = prompt(&format!("Password to encrypt the {what}: "))?;
        check_password_policy(&a)?;
        let b = prompt("Retype the password: ")?;
        if a.as_str() != b.as_str() {
            anyhow::bail!("the passwords do not match: nothing was written, try again");
        }
        a
    };
    check_password_policy(&pw)?;
    Ok(Some(pw))
}

/// Where to get the password to open an existing encrypted keyfile.
fn password_source(password: &PasswordArgs, path: &Path) -> anyhow::Result<PasswordSource> {
    if let Some(var) = &password.password_env {
        return Ok(PasswordSource::Env(var.clone()));
    }
    let encrypted = std::fs::read(path)
        .map(|d| tensornet_keys::keyfile::detect(&d) != tensornet_keys::keyfile::Encryption::None)
        .unwrap_or(false);
    if !encrypted {
        return Ok(PasswordSource::None);
    }
    // btcli's `BT_PW_<PATH>` variable (set by its `save_password_to_env`) also unlocks.
    if let Some(pw) = tensornet_keys::keyfile::btcli_env_password(path) {
        return Ok(PasswordSource::Text(pw));
    }
    if password.no_prompt {
        return Ok(PasswordSource::None);
    }
    Ok(PasswordSource::Text(prompt(&format!(
        "Password for {}: ",
        path.display()
    ))?))
}

fn open_coldkey(w: &Wallet, password: &PasswordArgs) -> anyhow::Result<Keypair> {
    let path = w.coldkey_path();
    if !path.exists() {
        // Let the library produce its "not found" error before any prompt.
        return Ok(w.coldkey(&PasswordSource::None)?);
    }
    let src = match password_source(password, &path)? {
        // Resolve the variable now so that a missing one fails before the "decrypting" note.
        env @ PasswordSource::Env(_) => PasswordSource::Text(env.get(&path)?),
        other => other,
    };
    if matches!(src, PasswordSource::Text(_)) {
        eprintln!("decrypting {} (takes a few seconds)…", path.display());
    }
    Ok(w.coldkey(&src)?)
}

fn create(
    wallet: &WalletArgs,
    password: &PasswordArgs,
    write: &WriteArgs,
    n_words: usize,
    no_password: bool,
    with_hotkey: bool,
) -> anyhow::Result<ExitCode> {
    let w = wallet.wallet()?;
    let mut targets = vec![w.coldkey_path()];
    if with_hotkey {
        targets.push(w.hotkey_path(&wallet.hotkey)?);
    }
    // Every refusal happens before anything is written.
    confirm_overwrite(&targets, write, password)?;
    let cold_phrase = tensornet_keys::generate_mnemonic(n_words)?;
    let cold = Keypair::from_mnemonic(&cold_phrase)?;
    let hot = if with_hotkey {
        Some(Keypair::from_mnemonic(&tensornet_keys::generate_mnemonic(
            n_words,
        )?)?)
    } else {
        None
    };
    let pw = new_password(password, no_password, "coldkey")?;
    w.write_coldkey(&cold, pw.as_deref().map(|s| s.as_str()), true)?;
    if let Some(h) = &hot {
        w.write_hotkey(&wallet.hotkey, h, None, true)?;
    }
    let mut doc = json!({
        "wallet": w.name(),
        "path": w.path(),
        "coldkey": key_json(&cold, true),
        "coldkey_encrypted": pw.is_some(),
    });
    let mut text = format!(
        "created wallet {:?} at {}\ncoldkey   {}{}\n  mnemonic (write it down, it is the only way to recover the key):\n  {}",
        w.name(),
        w.path().display(),
        cold.ss58(),
        if pw.is_some() { "" } else { "  (UNENCRYPTED)" },
        cold_phrase.as_str()
    );
    if let Some(h) = &hot {
        doc["hotkey"] = key_json(h, true);
        doc["hotkey"]["name"] = json!(wallet.hotkey);
        text.push_str(&format!(
            "\nhotkey {:?}   {}\n  mnemonic:\n  {}",
            wallet.hotkey,
            h.ss58(),
            h.secret_phrase().map(|p| p.to_string()).unwrap_or_default()
        ));
    }
    print_doc(write.json, &doc, &text);
    Ok(ExitCode::SUCCESS)
}

fn write_hotkey(
    wallet: &WalletArgs,
    password: &PasswordArgs,
    write: &WriteArgs,
    kp: &Keypair,
    use_password: bool,
    show_mnemonic: bool,
) -> anyhow::Result<ExitCode> {
    let w = wallet.wallet()?;
    let path = w.hotkey_path(&wallet.hotkey)?;
    confirm_overwrite(std::slice::from_ref(&path), write, password)?;
    let pw = if use_password {
        new_password(password, false, "hotkey")?
    } else {
        None
    };
    w.write_hotkey(&wallet.hotkey, kp, pw.as_deref().map(|s| s.as_str()), true)?;
    report_written(
        write,
        &format!("hotkey {:?}", wallet.hotkey),
        &path,
        kp,
        show_mnemonic,
    )
}

fn report_written(
    write: &WriteArgs,
    what: &str,
    path: &Path,
    kp: &Keypair,
    show_mnemonic: bool,
) -> anyhow::Result<ExitCode> {
    let mut doc = key_json(kp, show_mnemonic);
    doc["written"] = json!(path);
    let mut text = format!(
        "wrote {what} at {}\n  ss58        {}\n  public key  {}",
        path.display(),
        kp.ss58(),
        kp.account_id().to_hex()
    );
    if let (true, Some(p)) = (show_mnemonic, kp.secret_phrase()) {
        text.push_str(&format!(
            "\n  mnemonic (write it down, it is the only way to recover the key):\n  {}",
            p.as_str()
        ));
    }
    print_doc(write.json, &doc, &text);
    Ok(ExitCode::SUCCESS)
}

/// `{ss58, public_key}` of a key, plus its mnemonic when `with_mnemonic` and known.
fn key_json(kp: &Keypair, with_mnemonic: bool) -> Value {
    let mut v = json!({"ss58": kp.ss58(), "public_key": kp.account_id().to_hex()});
    if with_mnemonic {
        if let Some(p) = kp.secret_phrase() {
            v["mnemonic"] = json!(p.as_str());
        }
    }
    v
}

/// `{ss58, public_key}` plus every secret field (for `--show-secret`).
fn secret_json(kp: &Keypair) -> Value {
    let mut v = key_json(kp, true);
    if let Some(s) = kp.secret_seed() {
        v["secret_seed"] = json!(format!("0x{}", hex_encode(&s[..])));
    }
    v["private_key"] = json!(format!("0x{}", hex_encode(&kp.secret_key_bytes()[..])));
    v
}

fn hex_encode(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn account_json(a: &AccountId) -> Value {
    json!({"ss58": tensornet_keys::ss58_encode(a), "public_key": a.to_hex()})
}

fn secret_lines(v: &Value) -> String {
    let mut s = String::new();
    for (label, key) in [
        ("mnemonic   ", "mnemonic"),
        ("secret seed", "secret_seed"),
        ("private key", "private_key"),
    ] {
        if let Some(x) = v[key].as_str() {
            s.push_str(&format!("\n  {label} {x}"));
        }
    }
    s
}

fn inspect_key(kp: &Keypair, show_secret: bool, json: bool) -> anyhow::Result<ExitCode> {
    let v = if show_secret {
        secret_json(kp)
    } else {
        key_json(kp, false)
    };
    let mut text = format!(
        "key\n  ss58        {}\n  public key  {}\n  account id  {}",
        kp.ss58(),
        kp.account_id().to_hex(),
        kp.account_id().to_hex()
    );
    if show_secret {
        text.push_str(&secret_lines(&v));
    }
    print_doc(json, &v, &text);
    Ok(ExitCode::SUCCESS)
}

fn inspect_wallet(
    wallet: &WalletArgs,
    password: &PasswordArgs,
    show_secret: bool,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let w = wallet.wallet()?;
    if !w.exists() {
        anyhow::bail!(
            "wallet {:?} not found at {}: create it with `tensornet wallet create` or pass the right --wallet-path/--wallet-name",
            w.name(),
            w.path().display()
        );
    }
    warn_permissions(&w);
    let mut text = format!("wallet {:?} ({})", w.name(), w.path().display());
    let coldkey = if show_secret && w.has_coldkey() {
        let kp = open_coldkey(&w, password)?;
        let mut v = secret_json(&kp);
        v["encrypted"] = json!(w.coldkey_is_encrypted()?);
        Some(v)
    } else {
        match w.coldkeypub() {
            Ok(a) => {
                let mut v = account_json(&a);
                if w.has_coldkey() {
                    v["encrypted"] = json!(w.coldkey_is_encrypted()?);
                }
                Some(v)
            }
            Err(KeyError::NotFound { .. }) => None,
            Err(e) => return Err(e.into()),
        }
    };
    match &coldkey {
        Some(v) => {
            let state = match v["encrypted"].as_bool() {
                Some(true) => "encrypted",
                Some(false) => "UNENCRYPTED",
                None => "public key only",
            };
            text.push_str(&format!(
                "\ncoldkey ({state})\n  ss58        {}\n  public key  {}",
                v["ss58"].as_str().unwrap_or_default(),
                v["public_key"].as_str().unwrap_or_default()
            ));
            text.push_str(&secret_lines(v));
        }
        None => text.push_str("\ncoldkey: none"),
    }
    let mut hotkeys = Vec::new();
    for name in w.hotkeys()? {
        let v = if show_secret {
            let path = w.hotkey_path(&name)?;
            let src = password_source(password, &path)?;
            let mut v = secret_json(&w.hotkey_with(&name, &src)?);
            v["name"] = json!(name);
            v
        } else {
            let mut v = account_json(&w.hotkeypub(&name)?);
            v["name"] = json!(name);
            v
        };
        text.push_str(&format!(
            "\nhotkey {:?}\n  ss58        {}\n  public key  {}",
            name,
            v["ss58"].as_str().unwrap_or_default(),
            v["public_key"].as_str().unwrap_or_default()
        ));
        text.push_str(&secret_lines(&v));
        hotkeys.push(v);
    }
    if hotkeys.is_empty() {
        text.push_str("\nhotkeys: none");
    }
    let doc = json!({
        "wallet": w.name(),
        "path": w.path(),
        "coldkey": coldkey,
        "hotkeys": hotkeys,
    });
    print_doc(json, &doc, &text);
    Ok(ExitCode::SUCCESS)
}

fn list(root: &Path, json: bool) -> anyhow::Result<ExitCode> {
    let root_expanded = tensornet_keys::wallet::expand_home(root);
    let names = Wallet::list(&root_expanded)?;
    let mut wallets = Vec::new();
    let mut text = format!("wallets in {}", root_expanded.display());
    if names.is_empty() {
        text.push_str("\n(none: create one with `tensornet wallet create`)");
    }
    for (i, name) in names.iter().enumerate() {
        let last = i + 1 == names.len();
        let w = Wallet::open(&root_expanded, name)?;
        let cold = w.coldkeypub().ok();
        let cold_text = cold
            .map(|a| tensornet_keys::ss58_encode(&a))
            .unwrap_or_else(|| "no coldkeypub".into());
        text.push_str(&format!(
            "\n{} {name} ({cold_text})",
            if last { "└──" } else { "├──" }
        ));
        let hk_names = w.hotkeys().unwrap_or_default();
        let mut hks = Vec::new();
        for (j, h) in hk_names.iter().enumerate() {
            let pubkey = w.hotkeypub(h).ok();
            let addr = pubkey
                .map(|a| tensornet_keys::ss58_encode(&a))
                .unwrap_or_else(|| "unreadable".into());
            text.push_str(&format!(
                "\n{}   {} {h} ({addr})",
                if last { " " } else { "│" },
                if j + 1 == hk_names.len() {
                    "└──"
                } else {
                    "├──"
                }
            ));
            let mut v = pubkey
                .map(|a| account_json(&a))
                .unwrap_or_else(|| json!({"ss58": null, "public_key": null}));
            v["name"] = json!(h);
            hks.push(v);
        }
        wallets.push(json!({
            "name": name,
            "coldkey": cold.map(|a| account_json(&a)),
            "hotkeys": hks,
        }));
    }
    print_doc(
        json,
        &json!({"wallet_path": root_expanded, "wallets": wallets}),
        &text,
    );
    Ok(ExitCode::SUCCESS)
}
