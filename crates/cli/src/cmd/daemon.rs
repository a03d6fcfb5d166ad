//! What the miner and validator daemons share: settings from a TOML file merged under the
//! flags ([`with_config`]), the task flags, shutdown on Ctrl-C / SIGTERM. Their chain client
//! is `tensornet_subnet::RpcChain`.

/// Resolves when the process gets Ctrl-C (SIGINT) or SIGTERM.
pub async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

/// A multi-threaded runtime for a daemon.
pub fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?)
}

/// Flags from a TOML config file: each `key = value` becomes `--key value` (underscores become
/// dashes; `true` becomes a bare `--key`, `false` is left out).
pub fn config_flags(path: &std::path::Path) -> anyhow::Result<Vec<String>> {
    use anyhow::Context;
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read config file {}", path.display()))?;
    let table: toml::Table = text
        .parse()
        .with_context(|| format!("config file {} is not valid TOML", path.display()))?;
    let mut out = Vec::new();
    for (k, v) in table {
        if k == "config" {
            anyhow::bail!("config file {}: `config` cannot be nested", path.display());
        }
        let flag = format!("--{}", k.replace('_', "-"));
        match v {
            toml::Value::Boolean(true) => out.push(flag),
            toml::Value::Boolean(false) => {}
            toml::Value::String(s) => out.extend([flag, s]),
            toml::Value::Integer(i) => out.extend([flag, i.to_string()]),
            toml::Value::Float(f) => out.extend([flag, f.to_string()]),
            other => anyhow::bail!(
                "config file {}: {k} must be a string, number or boolean, not {}",
                path.display(),
                other.type_str()
            ),
        }
    }
    Ok(out)
}

#[derive(clap::Parser, Debug)]
#[command(no_binary_name = true, args_override_self = true)]
struct Merged<T: clap::Args> {
    #[command(flatten)]
    args: T,
}

/// Re-parses a daemon's arguments with the config file's settings first, so flags given on
/// the command line override the file. `cli_args` are the arguments after `<group> run`.
pub fn with_config<T: clap::Args>(
    config: &std::path::Path,
    cli_args: impl IntoIterator<Item = String>,
) -> anyhow::Result<T> {
    use clap::Parser;
    let mut argv = config_flags(config)?;
    argv.extend(cli_args);
    Merged::<T>::try_parse_from(argv)
        .map(|m| m.args)
        .map_err(|e| anyhow::anyhow!("{}: {}", config.display(), e.to_string().trim()))
}

/// The flags every daemon (`miner run`, `validator run`) shares: its config file, wallet, node
/// and task.
#[derive(clap::Args, Debug)]
pub struct TaskArgs {
    /// TOML file with any of these settings (`netuid = 1`, `axon_port = 8091`, …); flags
    /// given on the command line override it.
    #[arg(long, value_name = "FILE")]
    pub config: Option<std::path::PathBuf>,
    #[command(flatten)]
    pub wallet: super::wallet::WalletArgs,
    #[command(flatten)]
    pub rpc: super::chain::RpcArgs,
    /// Subnet code to run (only `supervised` is built in).
    #[arg(long, default_value = "supervised")]
    pub subnet: String,
    /// Dataset: digits, breast_cancer or diabetes.
    #[arg(long, default_value = "digits")]
    pub dataset: String,
    /// Subnet to work on.
    #[arg(long)]
    pub netuid: Option<u16>,
}

/// A daemon's arguments with its `--config` file (if any) merged under the command-line flags.
pub fn resolve_config<T: clap::Args>(
    config: Option<&std::path::Path>,
    args: T,
) -> Result<T, String> {
    match config {
        Some(path) => with_config(path, run_args()).map_err(|e| format!("{e:#}")),
        None => Ok(args),
    }
}

/// Checks the task flags every daemon shares: a netuid, a built-in subnet and its dataset.
pub fn task(
    netuid: Option<u16>,
    subnet: &str,
    dataset: &str,
) -> Result<(u16, tensornet_subnet_supervised::DatasetName), String> {
    use tensornet_subnet::Subnet;
    let netuid =
        netuid.ok_or("--netuid is required (as a flag or in the --config file)".to_string())?;
    if subnet != tensornet_subnet_supervised::Supervised::NAME {
        return Err(format!(
            "--subnet {subnet:?}: unknown subnet (built in: supervised)"
        ));
    }
    let dataset = dataset
        .parse()
        .map_err(|_| format!("--dataset {dataset:?}: use digits, breast_cancer or diabetes"))?;
    Ok((netuid, dataset))
}

/// Prints a usage error and returns exit code 2.
pub fn bad(msg: String) -> anyhow::Result<std::process::ExitCode> {
    eprintln!("error: {msg}");
    Ok(std::process::ExitCode::from(2))
}

/// The process arguments after `tensornet <group> run`.
pub fn run_args() -> Vec<String> {
    std::env::args().skip(3).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(clap::Args, Debug)]
    struct T {
        #[arg(long)]
        netuid: u16,
        #[arg(long = "axon-port", default_value_t = 1)]
        axon_port: u16,
        #[arg(long = "open-axon")]
        open_axon: bool,
        #[arg(long)]
        preset: Option<String>,
    }

    #[test]
    fn config_file_settings_sit_under_the_flags() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("m.toml");
        std::fs::write(
            &p,
            "netuid = 3\naxon_port = 9000\nopen_axon = true\npreset = \"mid\"\n",
        )
        .unwrap();
        let t: T = with_config(&p, vec!["--axon-port".into(), "9100".into()]).unwrap();
        assert_eq!((t.netuid, t.axon_port, t.open_axon), (3, 9100, true));
        assert_eq!(t.preset.as_deref(), Some("mid"));
    }

    #[test]
    fn bad_config_files_are_explained() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("m.toml");
        std::fs::write(&p, "netuid = [1]").unwrap();
        let e = with_config::<T>(&p, Vec::new()).unwrap_err().to_string();
        assert!(e.contains("netuid must be"), "{e}");
        std::fs::write(&p, "nope = 1\nnetuid = 1").unwrap();
        assert!(with_config::<T>(&p, Vec::new()).is_err());
        assert!(with_config::<T>(&dir.path().join("missing.toml"), Vec::new()).is_err());
    }
}
